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
}

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
	};
}

export class LoadTable {
	readonly #workers = new Map<number, WorkerLoad>();

	/**
	 * A restarted worker's host counts placedTransports and seq from zero again,
	 * so the balancer's side is reset with it; otherwise old placements would
	 * look pending forever and the new host's reports would look stale.
	 */
	addWorker(workerIndex: number): void {
		this.#workers.set(workerIndex, emptyLoad());
	}

	removeWorker(workerIndex: number): void {
		this.#workers.delete(workerIndex);
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
		return true;
	}

	recordPlacement(workerIndex: number): void {
		this.#get(workerIndex).placements++;
	}

	/** A placement that never became a transport (its creation failed, or a new worker took it). */
	releasePlacement(workerIndex: number): void {
		const entry = this.#get(workerIndex);
		if (entry.placements > 0) entry.placements--;
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

	/** Whichever watermark is reached first makes the worker over. */
	isOver(workerIndex: number, watermarks: Watermarks): boolean {
		return (
			this.#get(workerIndex).cpuPercent >= watermarks.watermarkWorker ||
			this.load(workerIndex) >= watermarks.maxConsumersPerWorker
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
				};
			});
	}

	#get(workerIndex: number): WorkerLoad {
		const entry = this.#workers.get(workerIndex);
		if (!entry) throw new Error(`no worker ${workerIndex} in the load table`);
		return entry;
	}
}
