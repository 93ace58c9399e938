import * as os from 'node:os';
import type { BackendName, SfuBackend } from './backend';
import { DirectBackend } from './direct-backend';
import { MafaldaBackend } from './mafalda-backend';
import { loadMediasoup } from './mediasoup-loader';

export const BACKEND_NAMES: readonly BackendName[] = ['plain', 'round-robin', 'least-loaded', 'mafalda'];

/** Short names for legends and tables. */
export const BACKEND_SHORT: Readonly<Record<BackendName, string>> = {
	plain: 'plain mediasoup',
	'round-robin': 'round-robin pool',
	'least-loaded': 'least-loaded pool',
	mafalda: 'mafalda',
};

/**
 * The four SFUs of the comparisons: (a) plain mediasoup, one Router on one
 * Worker; (b) a hand-written pool, one Router per CPU, transports in turn,
 * pipeToRouter on first need; (c) the same pool placing each transport on the
 * worker with the fewest consumers; (d) mafalda with its default options.
 */
export async function startBackend(name: BackendName): Promise<SfuBackend> {
	const mediasoup = loadMediasoup();
	switch (name) {
		case 'plain':
			return DirectBackend.start(mediasoup, 'plain', 1);
		case 'round-robin':
			return DirectBackend.start(mediasoup, 'round-robin', os.availableParallelism(), 'round-robin');
		case 'least-loaded':
			return DirectBackend.start(mediasoup, 'least-loaded', os.availableParallelism(), 'least-loaded');
		case 'mafalda':
			return MafaldaBackend.start(mediasoup);
	}
}
