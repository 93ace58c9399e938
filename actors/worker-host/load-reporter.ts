import type { LoadReport } from '../protocol';

export interface LoadSource {
	workerIndex: number;
	/** Cumulative CPU time (user + system) of the mediasoup worker, in ms. */
	cpuTimeMs(): Promise<number>;
	/** Bitrates to sample each interval (see LoadReport.bitrateIn). */
	bitrates(): Promise<{ in: number; out: number }>;
	/** The report without its timing and CPU fields. */
	counts(): Omit<LoadReport, 'workerIndex' | 'seq' | 'at' | 'cpuPercent' | 'bitrateIn' | 'bitrateOut'>;
}

/**
 * Sends load reports on an interval and soon after every change. Changes are
 * coalesced to one report per event-loop turn, so a burst of a thousand
 * consumers costs one report, not a thousand. Not less often than that: a
 * placement right after a call must see the call's load (reservations cover
 * only transports), and the report to the main thread leaves in the same
 * message as the turn's replies (actors/batched-port.ts), so it costs little.
 */
export class LoadReporter {
	#seq = 0;
	#cpuPercent = 0;
	#bitrate: { in: number; out: number } | undefined;
	#lastCpu: { at: number; cpuMs: number } | undefined;
	#timer: NodeJS.Timeout | undefined;
	#pending: NodeJS.Immediate | undefined;
	#cpuSampleSeq = 0;
	#cpuLoad = 0;
	/**
	 * Time-weighted consumers since the last CPU sample: every report sees the
	 * counts change, so the load a CPU figure was spent on is known exactly.
	 */
	#loadArea = 0;
	#loadSince: { at: number; load: number } | undefined;

	constructor(
		private readonly source: LoadSource,
		private readonly send: (report: LoadReport) => void,
		intervalMs: number,
	) {
		this.#timer = setInterval(() => void this.#sampleCpuAndReport(), intervalMs);
		this.#timer.unref();
	}

	changed(): void {
		if (this.#pending || !this.#timer) return;
		this.#pending = setImmediate(() => {
			this.#pending = undefined;
			this.report();
		});
	}

	report(): LoadReport {
		const counts = this.source.counts();
		const at = Date.now();
		this.#integrateLoad(at, counts.consumers + counts.pipeConsumers);
		const report: LoadReport = {
			workerIndex: this.source.workerIndex,
			seq: ++this.#seq,
			at,
			cpuPercent: this.#cpuPercent,
			bitrateIn: this.#bitrate?.in ?? null,
			bitrateOut: this.#bitrate?.out ?? null,
			...counts,
			cpuSampleSeq: this.#cpuSampleSeq,
			cpuLoad: this.#cpuLoad,
		};
		this.send(report);
		return report;
	}

	#integrateLoad(at: number, load: number): void {
		if (this.#loadSince) this.#loadArea += this.#loadSince.load * Math.max(0, at - this.#loadSince.at);
		this.#loadSince = { at, load };
	}

	async #sampleCpuAndReport(): Promise<void> {
		try {
			const cpuMs = await this.source.cpuTimeMs();
			const at = Date.now();
			const counts = this.source.counts();
			this.#integrateLoad(at, counts.consumers + counts.pipeConsumers);
			if (this.#lastCpu && at > this.#lastCpu.at) {
				this.#cpuPercent = Math.max(0, (100 * (cpuMs - this.#lastCpu.cpuMs)) / (at - this.#lastCpu.at));
				this.#cpuLoad = this.#loadArea / (at - this.#lastCpu.at);
				this.#cpuSampleSeq++;
			}
			this.#loadArea = 0;
			this.#lastCpu = { at, cpuMs };
			this.#bitrate = await this.source.bitrates();
		} catch {
			// The worker is closing or dead; the supervisor hears of it elsewhere.
			return;
		}
		if (this.#timer) this.report();
	}

	stop(): void {
		if (this.#timer) clearInterval(this.#timer);
		if (this.#pending) clearImmediate(this.#pending);
		this.#timer = undefined;
		this.#pending = undefined;
	}
}
