import type { LoadTable } from './load-table';
import type { NodeMap } from './node-map';

/** One machine in the order: its load (the sum of its workers') and its workers, most loaded first. */
export interface NodeLoad {
	readonly nodeId: string;
	readonly load: number;
	/** Most loaded first; on equal load the lower index first. */
	readonly workers: readonly number[];
}

interface NodeEntry extends NodeLoad {
	load: number;
	workers: number[];
}

/** Whether the key (a, idA) ranks before (b, idB): the larger figure first, then the lower index or node id. */
export function ranksBefore<K extends number | string>(a: number, idA: K, b: number, idB: K): boolean {
	return a > b || (a === b && idA < idB);
}

/**
 * The load table's workers in the order fill-first placement reads them:
 * machines by load, most loaded first, and within a machine its workers by
 * load, kept up to date on every change of a worker's load or node. Opening
 * a shard then reads the front of the order instead of sorting every worker
 * of the cluster: a change costs a binary search and a move within one
 * machine's workers and within the machines, a decision skips the machines
 * that are full.
 */
export class LoadOrder {
	readonly #nodes = new Map<string, NodeEntry>();
	/** Machines, most loaded first; on equal load the lower node id first. */
	readonly #order: NodeEntry[] = [];
	/** Worker -> its node entry and the load it is ordered by. */
	readonly #placed = new Map<number, { node: NodeEntry; load: number }>();

	constructor(
		private readonly table: LoadTable,
		private readonly nodeMap: NodeMap,
	) {
		for (const workerIndex of table.indices()) this.#refresh(workerIndex);
		table.watch((workerIndex) => this.#refresh(workerIndex));
		nodeMap.watch((workerIndex) => this.#refresh(workerIndex));
	}

	/** Machines, most loaded first (read-only; changes with the next placement). */
	get nodes(): readonly NodeLoad[] {
		return this.#order;
	}

	/** Machines with at least one worker in the table: more than one, and node rules apply. */
	get nodeCount(): number {
		return this.#nodes.size;
	}

	node(nodeId: string): NodeLoad | undefined {
		return this.#nodes.get(nodeId);
	}

	/** The load the worker is ordered by: always the table's load() (tests check it). */
	loadOf(workerIndex: number): number | undefined {
		return this.#placed.get(workerIndex)?.load;
	}

	#refresh(workerIndex: number): void {
		const present = this.table.has(workerIndex);
		const placed = this.#placed.get(workerIndex);
		const nodeId = this.nodeMap.nodeOf(workerIndex);
		const load = present ? this.table.load(workerIndex) : 0;
		if (placed && present && placed.node.nodeId === nodeId && placed.load === load) return;
		if (placed) this.#take(workerIndex, placed.node, placed.load);
		if (present) this.#put(workerIndex, nodeId, load);
	}

	#take(workerIndex: number, node: NodeEntry, load: number): void {
		node.workers.splice(this.#workerPosition(node.workers, load, workerIndex), 1);
		this.#placed.delete(workerIndex);
		this.#order.splice(this.#nodePosition(node.load, node.nodeId), 1);
		node.load -= load;
		if (node.workers.length === 0) this.#nodes.delete(node.nodeId);
		else this.#order.splice(this.#nodePosition(node.load, node.nodeId), 0, node);
	}

	#put(workerIndex: number, nodeId: string, load: number): void {
		let node = this.#nodes.get(nodeId);
		if (node) this.#order.splice(this.#nodePosition(node.load, nodeId), 1);
		else this.#nodes.set(nodeId, (node = { nodeId, load: 0, workers: [] }));
		node.workers.splice(this.#workerPosition(node.workers, load, workerIndex), 0, workerIndex);
		node.load += load;
		this.#order.splice(this.#nodePosition(node.load, nodeId), 0, node);
		this.#placed.set(workerIndex, { node, load });
	}

	/** Where (load, workerIndex) is or would go in a machine's workers. */
	#workerPosition(workers: readonly number[], load: number, workerIndex: number): number {
		let low = 0;
		let high = workers.length;
		while (low < high) {
			const mid = (low + high) >>> 1;
			const other = workers[mid];
			if (ranksBefore(this.#placed.get(other)?.load ?? 0, other, load, workerIndex)) low = mid + 1;
			else high = mid;
		}
		return low;
	}

	/** Where (load, nodeId) is or would go among the machines. */
	#nodePosition(load: number, nodeId: string): number {
		let low = 0;
		let high = this.#order.length;
		while (low < high) {
			const mid = (low + high) >>> 1;
			const other = this.#order[mid];
			if (ranksBefore(other.load, other.nodeId, load, nodeId)) low = mid + 1;
			else high = mid;
		}
		return low;
	}
}
