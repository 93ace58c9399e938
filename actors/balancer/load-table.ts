import type { LoadReport, Watermarks, WorkerLoadView } from '../protocol';

/**
 * One worker's latest reported aggregates plus the balancer's own count of
 * placements. Only aggregates: the table's size and every lookup stay the same
 * whether the worker carries ten consumers or a hundred thousand.
 */
interface WorkerLoad {
	cpuPercent: number;
	consumers: number;
	pipeConsumers: number;
	transports: number;
	producers: number;
	idleTransports: number;
	/** From the host: transports it created because the balancer placed them. */
	placedTransports: number;
	/** From the balancer: placements it made on this worker since it was (re-)added. */
	placements: number;
	lastReportSeq: number;
	cpuSampleSeq: number;
	/** CPU % per unit of load, from the latest sample that had enough load to tell. */
	cpuPerLoad: number | undefined;
	/** load() less pending placements when the latest CPU sample arrived: what its cpuPercent already includes. */
	loadAtCpuSample: number;
}

/**
 * Below this much load a CPU sample is mostly the worker's idle cost and says
 * little about what one more consumer costs.
 */
export const MIN_LOAD_FOR_CPU_ESTIMATE = 10;

function emptyLoad(): WorkerLoad {
	return {
		cpuPercent: 0,
		consumers: 0,
		pipeConsumers: 0,
		transports: 0,
		producers: 0,
		idleTransports: 0,
		placedTransports: 0,
		placements: 0,
		lastReportSeq: 0,
		cpuSampleSeq: 0,
		cpuPerLoad: undefined,
		loadAtCpuSample: 0,
	};
}

/** Told the index of a worker whose load() may have changed, or that was added or removed. */
export type LoadListener = (workerIndex: number) => void;

export class LoadTable {
	readonly #workers = new Map<number, WorkerLoad>();
	readonly #listeners: LoadListener[] = [];
	/**
	 * The mean of the workers' own CPU estimates, computed once per change of
	 * an estimate: every placement decision reads it for workers without their
	 * own, and recomputing it each time walked the whole cluster per read.
	 * null: to recompute.
	 */
	#meanCpuPerLoad: number | undefined | null = null;

	/** Indexes kept in step with the loads (the placement policy's order of workers) listen here. */
	watch(listener: LoadListener): void {
		this.#listeners.push(listener);
	}

	get size(): number {
		return this.#workers.size;
	}

	/**
	 * A restarted worker's host counts placedTransports and seq from zero again,
	 * so the balancer's side is reset with it; otherwise old placements would
	 * look pending forever and the new host's reports would look stale.
	 */
	addWorker(workerIndex: number): void {
		if (this.#workers.get(workerIndex)?.cpuPerLoad !== undefined) this.#meanCpuPerLoad = null;
		this.#workers.set(workerIndex, emptyLoad());
		this.#changed(workerIndex);
	}

	removeWorker(workerIndex: number): void {
		if (this.#workers.get(workerIndex)?.cpuPerLoad !== undefined) this.#meanCpuPerLoad = null;
		if (this.#workers.delete(workerIndex)) this.#changed(workerIndex);
	}

	has(workerIndex: number): boolean {
		return this.#workers.has(workerIndex);
	}

	indices(): number[] {
		return [...this.#workers.keys()];
	}

	/** Returns false when the report was ignored (unknown worker, or not newer than the last one). */
	ingest(report: LoadReport): boolean {
		const entry = this.#workers.get(report.workerIndex);
		// Reports can cross on the port with a restart, or arrive out of order
		// through the supervisor's relay; only a newer one may replace the view.
		if (!entry || report.seq <= entry.lastReportSeq) return false;
		entry.cpuPercent = report.cpuPercent;
		entry.consumers = report.consumers;
		entry.pipeConsumers = report.pipeConsumers;
		entry.transports = report.transports;
		entry.producers = report.producers;
		entry.idleTransports = report.idleTransports;
		entry.placedTransports = report.placedTransports;
		entry.lastReportSeq = report.seq;
		const sampleSeq = report.cpuSampleSeq;
		if (sampleSeq !== undefined && sampleSeq > entry.cpuSampleSeq) {
			entry.cpuSampleSeq = sampleSeq;
			const cpuLoad = report.cpuLoad ?? 0;
			if (cpuLoad >= MIN_LOAD_FOR_CPU_ESTIMATE) {
				entry.cpuPerLoad = report.cpuPercent / cpuLoad;
				this.#meanCpuPerLoad = null;
			}
			// Placements the report does not include yet cost nothing in this sample.
			entry.loadAtCpuSample = this.load(report.workerIndex) - this.pending(report.workerIndex);
		}
		this.#changed(report.workerIndex);
		return true;
	}

	recordPlacement(workerIndex: number): void {
		this.#get(workerIndex).placements++;
		this.#changed(workerIndex);
	}

	/** A placement that never became a transport (its creation failed, or a new worker took it). */
	releasePlacement(workerIndex: number): void {
		const entry = this.#get(workerIndex);
		if (entry.placements > 0) {
			entry.placements--;
			this.#changed(workerIndex);
		}
	}

	pending(workerIndex: number): number {
		const entry = this.#get(workerIndex);
		return Math.max(0, entry.placements - entry.placedTransports);
	}

	load(workerIndex: number): number {
		const entry = this.#get(workerIndex);
		return entry.consumers + entry.pipeConsumers + entry.idleTransports + this.pending(workerIndex);
	}

	cpuPercent(workerIndex: number): number {
		return this.#get(workerIndex).cpuPercent;
	}

	/**
	 * CPU % per unit of load on this worker: its own estimate, else the mean of
	 * the other workers' (a worker that just opened has carried too little to
	 * tell, and runs the same media on the same kind of CPU).
	 */
	cpuPerLoad(workerIndex: number): number | undefined {
		const own = this.#get(workerIndex).cpuPerLoad;
		if (own !== undefined) return own;
		if (this.#meanCpuPerLoad === null) {
			let sum = 0;
			let n = 0;
			for (const entry of this.#workers.values()) {
				if (entry.cpuPerLoad === undefined) continue;
				sum += entry.cpuPerLoad;
				n++;
			}
			this.#meanCpuPerLoad = n > 0 ? sum / n : undefined;
		}
		return this.#meanCpuPerLoad;
	}

	/**
	 * The last CPU sample plus the expected cost of what was placed or created
	 * since: CPU is sampled once an interval, and a burst of placements within
	 * one would otherwise all see the old figure and overfill the worker.
	 */
	projectedCpuPercent(workerIndex: number): number {
		const entry = this.#get(workerIndex);
		const perLoad = this.cpuPerLoad(workerIndex);
		if (perLoad === undefined) return entry.cpuPercent;
		return Math.max(0, entry.cpuPercent + (this.load(workerIndex) - entry.loadAtCpuSample) * perLoad);
	}

	/** Whichever watermark is reached first makes the worker over; CPU as projected since its last sample. */
	isOver(workerIndex: number, watermarks: Watermarks): boolean {
		return (
			this.load(workerIndex) >= watermarks.maxConsumersPerWorker ||
			this.projectedCpuPercent(workerIndex) >= watermarks.watermarkWorker
		);
	}

	view(): WorkerLoadView[] {
		return [...this.#workers.keys()]
			.sort((a, b) => a - b)
			.map((workerIndex) => {
				const entry = this.#get(workerIndex);
				return {
					workerIndex,
					cpuPercent: entry.cpuPercent,
					consumers: entry.consumers,
					pipeConsumers: entry.pipeConsumers,
					transports: entry.transports,
					producers: entry.producers,
					pending: this.pending(workerIndex),
					idleTransports: entry.idleTransports,
					load: this.load(workerIndex),
					lastReportSeq: entry.lastReportSeq,
					cpuSampleSeq: entry.cpuSampleSeq,
					cpuPerLoad: this.cpuPerLoad(workerIndex) ?? null,
					projectedCpuPercent: this.projectedCpuPercent(workerIndex),
				};
			});
	}

	#changed(workerIndex: number): void {
		for (const listener of this.#listeners) listener(workerIndex);
	}

	#get(workerIndex: number): WorkerLoad {
		const entry = this.#workers.get(workerIndex);
		if (!entry) throw new Error(`no worker ${workerIndex} in the load table`);
		return entry;
	}
}
