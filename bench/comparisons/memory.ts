import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { processRssBytes } from '../report/machine';

let gcFn: (() => void) | undefined | null;

/**
 * A full GC of this thread's heap before reading it, so heap figures are live
 * objects and not garbage waiting. Node hides gc() without --expose-gc; the
 * flag can still be set at run time for contexts made afterwards.
 */
function collect(): void {
	if (gcFn === undefined) {
		try {
			v8.setFlagsFromString('--expose-gc');
			gcFn = vm.runInNewContext('gc') as () => void;
		} catch {
			gcFn = null;
		}
	}
	gcFn?.();
}

export interface MemorySample {
	consumers: number;
	/** This thread's V8 heap in use, after a GC. */
	nodeHeapBytes: number;
	/** The whole Node process (every thread: for mafalda, its host and balancer threads too). */
	nodeRssBytes: number;
	/** Sum over the mediasoup worker processes. */
	workerRssBytes: number;
}

export function sampleMemory(consumers: number, workerPids: number[]): MemorySample {
	collect();
	return {
		consumers,
		nodeHeapBytes: process.memoryUsage().heapUsed,
		nodeRssBytes: process.memoryUsage().rss,
		workerRssBytes: workerPids.reduce((n, pid) => n + (processRssBytes(pid) ?? 0), 0),
	};
}
