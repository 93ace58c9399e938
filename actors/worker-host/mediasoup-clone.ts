import * as path from 'node:path';
import { plainClone } from '../plain-clone';

interface MediasoupUtils {
	clone: (value: unknown) => unknown;
}

/** Above zero while readWithoutCopies runs. */
let reading = 0;

/**
 * What this thread's mediasoup clones with: plainClone, or nothing while
 * readWithoutCopies runs.
 */
export function mediasoupClone<T>(value: T): T {
	return reading > 0 ? value : plainClone(value);
}

/**
 * Runs `read` with mediasoup's getters giving their own data instead of a
 * copy. A snapshot reads a consumer's rtpParameters, score and layers only to
 * turn them into JSON text or a cloneable copy at once, which copies them
 * anyway: mediasoup's copy in the getter was a third of a snapshot's cost (a
 * consumer's rtpParameters: 7 µs of plainClone on this VM). `read` must copy
 * what it keeps and change nothing it reads.
 */
export function readWithoutCopies<T>(read: () => T): T {
	reading++;
	try {
		return read();
	} finally {
		reading--;
	}
}

/**
 * Makes the mediasoup module this worker host thread loaded clone with
 * mediasoupClone. Its modules call `utils.clone(...)` through the utils
 * module's exports object (`utils.clone` in 3.27, `(0, utils_1.clone)` in
 * 3.14), so replacing the export reaches every call. Only this thread's copy
 * of mediasoup changes: the app's, on the main thread, is another module
 * instance. Returns false where the module does not have that shape (a
 * future mediasoup): it then clones as it always did, and
 * readWithoutCopies changes nothing.
 */
export function installPlainClone(mediasoupEntry: string): boolean {
	let utils: MediasoupUtils;
	try {
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		utils = require(path.join(path.dirname(mediasoupEntry), 'utils.js')) as MediasoupUtils;
	} catch {
		return false;
	}
	if (typeof utils.clone !== 'function') return false;
	try {
		utils.clone = mediasoupClone;
	} catch {
		return false;
	}
	return utils.clone === mediasoupClone;
}
