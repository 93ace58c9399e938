import * as Comlink from 'comlink';
import type {
	BalancerApi,
	LoadReport,
	PipeSource,
	PipeSourceRequest,
	Placement,
	PlaceTransportRequest,
	WorkerLoadView,
} from '../protocol';

/** What is still to tell the balancer of one worker. */
interface Unsent {
	/** The first report of a CPU sample not sent yet: the load it was measured on (see LoadTable.ingest). */
	sample?: LoadReport;
	latest: LoadReport;
}

/**
 * The supervisor's side of the balancer thread. The hosts' load reports
 * reach the main thread anyway (with the replies they precede); they are
 * held here and sent with the next call that reads the load table, in the
 * same message (comlink posts synchronously, on one batched port). A report
 * sent on its own would wake the balancer thread for nothing most of the
 * time: about 50 µs per host turn with a change. A placement still sees
 * every change the app has seen a reply for.
 */
export class BalancerClient implements BalancerApi {
	readonly #unsent = new Map<number, Unsent>();
	/** Workers in the balancer's table: a report of another one would be dropped there. */
	readonly #known = new Set<number>();
	/** The CPU sample number of each worker's latest report. */
	readonly #sampleSeq = new Map<number, number | undefined>();

	constructor(private readonly remote: Comlink.Remote<BalancerApi>) {}

	/** Holds a worker's latest report (and its CPU sample's first) until a call needs the table. */
	report(report: LoadReport): void {
		const index = report.workerIndex;
		const newSample = !this.#sampleSeq.has(index) || this.#sampleSeq.get(index) !== report.cpuSampleSeq;
		this.#sampleSeq.set(index, report.cpuSampleSeq);
		const unsent = this.#unsent.get(index) ?? { latest: report };
		if (newSample) unsent.sample = report;
		unsent.latest = report;
		this.#unsent.set(index, unsent);
	}

	#flush(): void {
		const reports: LoadReport[] = [];
		for (const [index, unsent] of this.#unsent) {
			if (!this.#known.has(index)) continue;
			if (unsent.sample && unsent.sample !== unsent.latest) reports.push(unsent.sample);
			reports.push(unsent.latest);
			this.#unsent.delete(index);
		}
		if (reports.length > 0) void this.remote.ingestReports(reports).catch(() => undefined);
	}

	async addWorker(workerIndex: number): Promise<void> {
		const added = this.remote.addWorker(workerIndex);
		this.#known.add(workerIndex);
		return added;
	}

	ingestReports(reports: unknown[]): Promise<void> {
		return this.remote.ingestReports(reports);
	}

	setWorkerNode(workerIndex: number, nodeId: string): Promise<void> {
		return this.remote.setWorkerNode(workerIndex, nodeId);
	}

	/** Also drops what the worker's host reported and the balancer has not seen: its successor counts from zero. */
	removeWorker(workerIndex: number): Promise<void> {
		this.#unsent.delete(workerIndex);
		this.#known.delete(workerIndex);
		this.#sampleSeq.delete(workerIndex);
		return this.remote.removeWorker(workerIndex);
	}

	shardOpened(routerId: string, workerIndex: number): Promise<void> {
		return this.remote.shardOpened(routerId, workerIndex);
	}

	shardClosed(routerId: string, workerIndex: number): Promise<void> {
		return this.remote.shardClosed(routerId, workerIndex);
	}

	routerClosed(routerId: string): Promise<void> {
		return this.remote.routerClosed(routerId);
	}

	streamAdded(routerId: string, producerId: string, workerIndex: number, depth: number): Promise<void> {
		return this.remote.streamAdded(routerId, producerId, workerIndex, depth);
	}

	streamRemoved(producerId: string, workerIndex: number): Promise<void> {
		return this.remote.streamRemoved(producerId, workerIndex);
	}

	placeTransport(request: PlaceTransportRequest): Promise<Placement> {
		this.#flush();
		return this.remote.placeTransport(request);
	}

	releasePlacement(workerIndex: number): Promise<void> {
		return this.remote.releasePlacement(workerIndex);
	}

	choosePipeSource(request: PipeSourceRequest): Promise<PipeSource> {
		this.#flush();
		return this.remote.choosePipeSource(request);
	}

	loadTable(): Promise<WorkerLoadView[]> {
		this.#flush();
		return this.remote.loadTable();
	}

	release(): void {
		this.remote[Comlink.releaseProxy]();
	}
}
