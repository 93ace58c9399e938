import type {
	BalancerApi,
	LoadReport,
	PipeSource,
	PipeSourceRequest,
	Placement,
	PlaceTransportRequest,
	WorkerLoadView,
} from '../protocol';
import { LoadTable } from './load-table';
import { PlacementPolicy } from './placement-policy';
import { StreamMap } from './stream-map';
import { NodeMap } from './node-map';

const REPORT_NUMBERS = [
	'workerIndex', 'seq', 'cpuPercent', 'consumers', 'pipeConsumers', 'transports', 'producers', 'idleTransports',
	'placedTransports',
] as const;
const OPTIONAL_REPORT_NUMBERS = ['cpuSampleSeq', 'cpuLoad'] as const;

/** In a cluster a report comes from the network; only a well-formed one may move the table. */
function isLoadReport(message: unknown): message is LoadReport {
	if (typeof message !== 'object' || message === null) return false;
	const fields = message as Record<string, unknown>;
	const finite = (name: string): boolean => typeof fields[name] === 'number' && Number.isFinite(fields[name]);
	return REPORT_NUMBERS.every(finite) && OPTIONAL_REPORT_NUMBERS.every((name) => fields[name] === undefined || finite(name));
}

/**
 * The balancer actor's state and RPC surface, without the thread: the load
 * table fed by the hosts' reports (forwarded by the supervisor with the call
 * that needs them), the stream map fed by the supervisor, and the policy
 * deciding on both.
 */
export class Balancer implements BalancerApi {
	readonly #table = new LoadTable();
	readonly #streams = new StreamMap();
	readonly #nodes = new NodeMap();
	readonly #policy = new PlacementPolicy(this.#table, this.#streams, this.#nodes);

	async addWorker(workerIndex: number): Promise<void> {
		// Re-adding means the worker restarted: it starts empty.
		this.#streams.removeWorker(workerIndex);
		this.#table.addWorker(workerIndex);
	}

	async ingestReports(reports: unknown[]): Promise<void> {
		if (!Array.isArray(reports)) return;
		for (const report of reports) if (isLoadReport(report) && this.#table.has(report.workerIndex)) this.#table.ingest(report);
	}

	async setWorkerNode(workerIndex: number, nodeId: string): Promise<void> {
		if (typeof nodeId === 'string') this.#nodes.set(workerIndex, nodeId);
	}

	async removeWorker(workerIndex: number): Promise<void> {
		this.#nodes.remove(workerIndex);
		this.#streams.removeWorker(workerIndex);
		this.#table.removeWorker(workerIndex);
	}

	async shardOpened(routerId: string, workerIndex: number): Promise<void> {
		this.#streams.shardOpened(routerId, workerIndex);
	}

	async shardClosed(routerId: string, workerIndex: number): Promise<void> {
		this.#streams.shardClosed(routerId, workerIndex);
	}

	async routerClosed(routerId: string): Promise<void> {
		this.#streams.routerClosed(routerId);
	}

	async streamAdded(routerId: string, producerId: string, workerIndex: number, depth: number): Promise<void> {
		this.#streams.streamAdded(routerId, producerId, workerIndex, depth);
	}

	async streamRemoved(producerId: string, workerIndex: number): Promise<void> {
		this.#streams.streamRemoved(producerId, workerIndex);
	}

	async placeTransport(request: PlaceTransportRequest): Promise<Placement> {
		return this.#policy.placeTransport(request);
	}

	async releasePlacement(workerIndex: number): Promise<void> {
		if (this.#table.has(workerIndex)) this.#table.releasePlacement(workerIndex);
	}

	async choosePipeSource(request: PipeSourceRequest): Promise<PipeSource> {
		return this.#policy.choosePipeSource(request);
	}

	async loadTable(): Promise<WorkerLoadView[]> {
		return this.#table.view();
	}
}
