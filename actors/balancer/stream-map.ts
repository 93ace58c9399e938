interface ProducerStreams {
	routerId: string;
	/** Worker -> depth of that copy in the producer's pipe tree (0 = its own shard). */
	carriers: Map<number, number>;
}

const NO_WORKERS: ReadonlySet<number> = new Set();
const NO_ORIGINS: ReadonlyMap<number, number> = new Map();

/**
 * Where each logical router has shards and where each producer is carried.
 * Every index is keyed by router, producer or worker, so a placement reads
 * only its own router's entries and a close touches only what it closes;
 * nothing here is ever scanned as a whole.
 */
export class StreamMap {
	/** Router -> workers with a shard of it. */
	readonly #shards = new Map<string, Set<number>>();
	/** Worker -> router with a shard there -> producers carried by that shard. */
	readonly #workerShards = new Map<number, Map<string, Set<string>>>();
	/** Router -> worker -> producers originating there (depth 0). */
	readonly #origins = new Map<string, Map<number, number>>();
	readonly #producers = new Map<string, ProducerStreams>();
	/** Worker -> copies of streams piped into it (depth 1 or more), of any router. */
	readonly #pipedIn = new Map<number, number>();

	shardOpened(routerId: string, workerIndex: number): void {
		let workers = this.#shards.get(routerId);
		if (!workers) this.#shards.set(routerId, (workers = new Set()));
		workers.add(workerIndex);
		let routers = this.#workerShards.get(workerIndex);
		if (!routers) this.#workerShards.set(workerIndex, (routers = new Map()));
		if (!routers.has(routerId)) routers.set(routerId, new Set());
	}

	/** The shard's producers and pipes close with it. */
	shardClosed(routerId: string, workerIndex: number): void {
		const routers = this.#workerShards.get(workerIndex);
		const carried = routers?.get(routerId);
		if (carried) for (const producerId of [...carried]) this.streamRemoved(producerId, workerIndex);
		routers?.delete(routerId);
		if (routers?.size === 0) this.#workerShards.delete(workerIndex);
		const workers = this.#shards.get(routerId);
		workers?.delete(workerIndex);
		if (workers?.size === 0) this.#shards.delete(routerId);
	}

	routerClosed(routerId: string): void {
		// Every stream lives in a shard (streamAdded opens it), so closing the
		// shards removes all of the router's producers and origins too.
		for (const workerIndex of [...(this.#shards.get(routerId) ?? [])]) this.shardClosed(routerId, workerIndex);
	}

	removeWorker(workerIndex: number): void {
		for (const routerId of [...(this.#workerShards.get(workerIndex)?.keys() ?? [])]) {
			this.shardClosed(routerId, workerIndex);
		}
	}

	streamAdded(routerId: string, producerId: string, workerIndex: number, depth: number): void {
		if (!Number.isInteger(depth) || depth < 0) {
			throw new Error(`invalid depth ${depth} for producer ${producerId} on worker ${workerIndex}`);
		}
		let stream = this.#producers.get(producerId);
		if (stream && stream.routerId !== routerId) {
			throw new Error(`producer ${producerId} belongs to router ${stream.routerId}, not ${routerId}`);
		}
		if (!stream) {
			stream = { routerId, carriers: new Map() };
			this.#producers.set(producerId, stream);
		}
		// A stream can only live in a shard, so its report implies the shard.
		this.shardOpened(routerId, workerIndex);
		const previous = stream.carriers.get(workerIndex);
		if (previous === 0 && depth !== 0) this.#addOrigin(routerId, workerIndex, -1);
		if (previous !== 0 && depth === 0) this.#addOrigin(routerId, workerIndex, +1);
		if ((previous === undefined || previous === 0) && depth > 0) this.#addPipedIn(workerIndex, +1);
		if (previous !== undefined && previous > 0 && depth === 0) this.#addPipedIn(workerIndex, -1);
		stream.carriers.set(workerIndex, depth);
		this.#workerShards.get(workerIndex)?.get(routerId)?.add(producerId);
	}

	streamRemoved(producerId: string, workerIndex: number): void {
		const stream = this.#producers.get(producerId);
		const depth = stream?.carriers.get(workerIndex);
		if (!stream || depth === undefined) return;
		stream.carriers.delete(workerIndex);
		if (depth === 0) this.#addOrigin(stream.routerId, workerIndex, -1);
		else this.#addPipedIn(workerIndex, -1);
		this.#workerShards.get(workerIndex)?.get(stream.routerId)?.delete(producerId);
		if (stream.carriers.size === 0) this.#producers.delete(producerId);
	}

	shardWorkers(routerId: string): ReadonlySet<number> {
		return this.#shards.get(routerId) ?? NO_WORKERS;
	}

	/** Worker -> number of the router's producers originating there; only workers with at least one. */
	origins(routerId: string): ReadonlyMap<number, number> {
		return this.#origins.get(routerId) ?? NO_ORIGINS;
	}

	/** Worker -> depth, for every worker carrying the producer; undefined for an unknown producer. */
	carriers(producerId: string): ReadonlyMap<number, number> | undefined {
		return this.#producers.get(producerId)?.carriers;
	}

	/** Streams piped into this worker from another (any router's): a worker other routers spill to. */
	pipedIn(workerIndex: number): number {
		return this.#pipedIn.get(workerIndex) ?? 0;
	}

	routerOf(producerId: string): string | undefined {
		return this.#producers.get(producerId)?.routerId;
	}

	#addPipedIn(workerIndex: number, delta: number): void {
		const count = (this.#pipedIn.get(workerIndex) ?? 0) + delta;
		if (count > 0) this.#pipedIn.set(workerIndex, count);
		else this.#pipedIn.delete(workerIndex);
	}

	#addOrigin(routerId: string, workerIndex: number, delta: number): void {
		let counts = this.#origins.get(routerId);
		if (!counts) this.#origins.set(routerId, (counts = new Map()));
		const count = (counts.get(workerIndex) ?? 0) + delta;
		if (count > 0) counts.set(workerIndex, count);
		else counts.delete(workerIndex);
		if (counts.size === 0) this.#origins.delete(routerId);
	}
}
