/** Workers never given a node run on the controller's own machine. */
export const LOCAL_NODE = '';

/**
 * Which cluster node (machine) runs each worker. Placement lifts its
 * fill-first rule to nodes with it, and pipe sources prefer a carrier on the
 * receiving node, so a stream crosses between two machines at most once.
 */
export class NodeMap {
	readonly #nodeOf = new Map<number, string>();
	readonly #workers = new Map<string, number>();
	readonly #listeners: Array<(workerIndex: number) => void> = [];

	/** Told the index of a worker whose node changed (the placement policy's order of workers listens). */
	watch(listener: (workerIndex: number) => void): void {
		this.#listeners.push(listener);
	}

	set(workerIndex: number, nodeId: string): void {
		this.#forget(workerIndex);
		this.#nodeOf.set(workerIndex, nodeId);
		this.#workers.set(nodeId, (this.#workers.get(nodeId) ?? 0) + 1);
		for (const listener of this.#listeners) listener(workerIndex);
	}

	remove(workerIndex: number): void {
		if (this.#forget(workerIndex)) for (const listener of this.#listeners) listener(workerIndex);
	}

	#forget(workerIndex: number): boolean {
		const nodeId = this.#nodeOf.get(workerIndex);
		if (nodeId === undefined) return false;
		this.#nodeOf.delete(workerIndex);
		const left = (this.#workers.get(nodeId) ?? 1) - 1;
		if (left > 0) this.#workers.set(nodeId, left);
		else this.#workers.delete(nodeId);
		return true;
	}

	nodeOf(workerIndex: number): string {
		return this.#nodeOf.get(workerIndex) ?? LOCAL_NODE;
	}

	/** Whether these workers run on more than one machine: only then do node rules change a decision. */
	spans(workers: Iterable<number>): boolean {
		if (this.#nodeOf.size === 0) return false;
		let first: string | undefined;
		for (const workerIndex of workers) {
			const nodeId = this.nodeOf(workerIndex);
			if (first === undefined) first = nodeId;
			else if (nodeId !== first) return true;
		}
		return false;
	}
}
