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
 * Least time between two reports sent because something changed. Each report
 * is two messages (to the balancer and to the main thread), and a burst of
 * calls arrives one per event-loop turn, so coalescing by turn still sent a
 * report per call: a quarter of the host thread's time in a burst of
 * consumers. Placements in between are covered by the balancer's own
 * reservations (see LoadReport.placedTransports).
 */
export const MIN_CHANGE_REPORT_GAP_MS = 20;

/**
 * Sends load reports on an interval and soon after every change: at once
 * after a quiet spell, then at most one per MIN_CHANGE_REPORT_GAP_MS.
 */
export class LoadReporter {
	#seq = 0;
	#cpuPercent = 0;
	#bitrate: { in: number; out: number } | undefined;
	#lastCpu: { at: number; cpuMs: number } | undefined;
	#timer: NodeJS.Timeout | undefined;
	#pending: NodeJS.Timeout | undefined;
	#lastReportAt = 0;

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
		const wait = Math.max(0, this.#lastReportAt + MIN_CHANGE_REPORT_GAP_MS - Date.now());
		this.#pending = setTimeout(() => {
			this.#pending = undefined;
			this.report();
		}, wait);
	}

	report(): LoadReport {
		this.#lastReportAt = Date.now();
		const report: LoadReport = {
			workerIndex: this.source.workerIndex,
			seq: ++this.#seq,
			at: Date.now(),
			cpuPercent: this.#cpuPercent,
			bitrateIn: this.#bitrate?.in ?? null,
			bitrateOut: this.#bitrate?.out ?? null,
			...this.source.counts(),
		};
		this.send(report);
		return report;
	}

	async #sampleCpuAndReport(): Promise<void> {
		try {
			const cpuMs = await this.source.cpuTimeMs();
			const at = Date.now();
			if (this.#lastCpu && at > this.#lastCpu.at) {
				this.#cpuPercent = Math.max(0, (100 * (cpuMs - this.#lastCpu.cpuMs)) / (at - this.#lastCpu.at));
			}
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
		if (this.#pending) clearTimeout(this.#pending);
		this.#timer = undefined;
		this.#pending = undefined;
	}
}
