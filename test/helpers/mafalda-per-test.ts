import * as mediasoup from 'mediasoup';
import { Mafalda } from '../../lib/Mafalda';
import type { MafaldaOptions } from '../../lib/types';

export interface PerTest {
	/** A Mafalda for this test, closed after it. */
	start(options?: MafaldaOptions): Mafalda;
	/** What the test opens besides (producers, sockets): closed after the Mafalda. */
	readonly closers: Array<{ close(): Promise<void> }>;
}

/** Registers the afterEach that closes each test's Mafalda, then what the test opened. */
export function mafaldaPerTest(): PerTest {
	let mafalda: Mafalda | undefined;
	const closers: Array<{ close(): Promise<void> }> = [];
	afterEach(async () => {
		await mafalda?.close();
		mafalda = undefined;
		await Promise.all(closers.splice(0).map((c) => c.close()));
	});
	return { start: (options) => (mafalda = new Mafalda(mediasoup, options)), closers };
}
