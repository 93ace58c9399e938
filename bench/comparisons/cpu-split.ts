import * as fs from 'node:fs';
import type { SfuBackend } from '../sfu/backend';

/** CPU time spent, ms, split by where it ran. */
export interface CpuSplit {
	/** The app's thread: for plain mediasoup all of mediasoup's Node side; for mafalda its proxies and routing. */
	mainThread: number;
	/** Every other thread of this process: mafalda's worker hosts and balancer, V8's GC and compiler threads. */
	otherThreads: number;
	/** The mediasoup-worker processes. */
	workers: number;
}

interface Sample {
	threads: Map<string, number>;
	workers: Map<number, number>;
}

/**
 * ns on CPU of each thread of this process (/proc/self/task/<tid>/schedstat,
 * exact, unlike the 10 ms ticks of stat). Node 20 has no per-thread
 * cpuUsage(), and a wall-clock rate on a shared 2-core machine says more
 * about the neighbours than about the code; CPU time per object does not.
 */
function threadCpuNs(): Map<string, number> {
	const out = new Map<string, number>();
	for (const tid of fs.readdirSync('/proc/self/task')) {
		try {
			out.set(tid, Number(fs.readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
		} catch {
			// The thread ended between the listing and the read.
		}
	}
	return out;
}

export function cpuSplitAvailable(): boolean {
	return fs.existsSync('/proc/self/task');
}

export async function cpuSample(backend: SfuBackend): Promise<Sample> {
	return { threads: threadCpuNs(), workers: await backend.workerCpuMs() };
}

/** CPU spent since `before`. Threads that ended in between are not counted (none does during a phase). */
export async function cpuSince(backend: SfuBackend, before: Sample): Promise<CpuSplit> {
	const after = await cpuSample(backend);
	const main = String(process.pid);
	let mainThread = 0;
	let otherThreads = 0;
	for (const [tid, ns] of after.threads) {
		const ms = (ns - (before.threads.get(tid) ?? 0)) / 1e6;
		if (tid === main) mainThread += ms;
		else otherThreads += ms;
	}
	let workers = 0;
	for (const [index, ms] of after.workers) workers += ms - (before.workers.get(index) ?? 0);
	return { mainThread, otherThreads, workers };
}

export function cpuTotal(s: CpuSplit): number {
	return s.mainThread + s.otherThreads + s.workers;
}
