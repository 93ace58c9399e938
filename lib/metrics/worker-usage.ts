import { readFile } from 'node:fs/promises';
import type { types } from 'mediasoup';

export interface UsageSource {
	index: number;
	pid: number;
	getResourceUsage(): Promise<types.WorkerResourceUsage>;
}

export interface WorkerUsage {
	index: number;
	/** User + system CPU time of the mediasoup worker process, seconds. */
	cpuSeconds: number;
	/** Peak resident set size (getrusage's ru_maxrss), bytes. */
	maxRssBytes: number;
	/** Current resident set size from /proc (Linux), bytes; undefined elsewhere. */
	rssBytes: number | undefined;
}

/** A worker that does not answer within this time is left out of a scrape rather than hang it. */
const USAGE_TIMEOUT_MS = 2000;

/** Samples every worker's resource usage; workers that fail or are too slow are left out. */
export async function sampleWorkerUsage(workers: Iterable<UsageSource>): Promise<WorkerUsage[]> {
	const samples = await Promise.all([...workers].map((w) => sampleOne(w).catch(() => undefined)));
	return samples.filter((s): s is WorkerUsage => s !== undefined);
}

async function sampleOne(worker: UsageSource): Promise<WorkerUsage> {
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error('timeout')), USAGE_TIMEOUT_MS);
	});
	try {
		const [usage, rssBytes] = await Promise.race([Promise.all([worker.getResourceUsage(), residentBytes(worker.pid)]), timeout]);
		// mediasoup gives CPU times in ms and ru_maxrss in KiB.
		return { index: worker.index, cpuSeconds: (usage.ru_utime + usage.ru_stime) / 1000, maxRssBytes: usage.ru_maxrss * 1024, rssBytes };
	} finally {
		clearTimeout(timer);
	}
}

async function residentBytes(pid: number): Promise<number | undefined> {
	if (process.platform !== 'linux' || pid <= 0) return undefined;
	const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
	const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
	return match ? Number(match[1]) * 1024 : undefined;
}
