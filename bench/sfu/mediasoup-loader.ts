import type * as Mediasoup from 'mediasoup';
import { useCachedWorkerBinary } from '../../lib/worker-binary';

export type MediasoupModule = typeof Mediasoup;

let loaded: MediasoupModule | undefined;

/**
 * mediasoup, pointed at the worker binary that mafalda's set-up built. It must
 * be required after useCachedWorkerBinary(): mediasoup reads
 * MEDIASOUP_WORKER_BIN once, when it loads.
 */
export function loadMediasoup(): MediasoupModule {
	if (!loaded) {
		useCachedWorkerBinary();
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		loaded = require('mediasoup') as MediasoupModule;
	}
	return loaded;
}
