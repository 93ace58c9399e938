import type { PipeSource, PipeSourceRequest, Placement, PlaceTransportRequest } from '../protocol';
import type { LoadTable } from './load-table';
import { NodeMap } from './node-map';
import type { StreamMap } from './stream-map';

/**
 * Mafalda's policy: concentrate, do not spread. A transport goes where its
 * router's streams already are, so consumers need no pipe; a new worker is
 * only opened when those are over their watermarks, and then the fullest one
 * that still has room, so the other workers stay free for other routers.
 *
 * A decision reads the router's own shards and origins and the per-worker
 * aggregates: its cost grows with the number of workers, never with the
 * number of consumers or of other routers' producers.
 */
export class PlacementPolicy {
	constructor(
		private readonly table: LoadTable,
		private readonly streams: StreamMap,
		private readonly nodes: NodeMap = new NodeMap(),
	) {}

	/** Chooses a worker and counts the placement as pending until a report includes it. */
	placeTransport(request: PlaceTransportRequest): Placement {
		const placement = this.#choose(request);
		this.table.recordPlacement(placement.workerIndex);
		return placement;
	}

	choosePipeSource(request: PipeSourceRequest): PipeSource {
		const carriers = this.streams.carriers(request.producerId);
		if (!carriers) throw new Error(`no worker carries producer ${request.producerId}`);
		const destNode = this.nodes.nodeOf(request.destWorker);
		let best: { workerIndex: number; depth: number; over: boolean; load: number; sameNode: boolean } | undefined;
		for (const [workerIndex, depth] of carriers) {
			if (workerIndex === request.destWorker || !this.table.has(workerIndex)) continue;
			const candidate = {
				workerIndex,
				depth,
				over: this.table.isOver(workerIndex, request),
				load: this.table.load(workerIndex),
				sameNode: this.nodes.nodeOf(workerIndex) === destNode,
			};
			// A carrier on the receiving machine first: the stream then crosses
			// between two machines once, however many workers there need it.
			// Then not over; then the shallowest copy, so pipes fan out as a
			// tree from the producer's shard instead of growing a chain whose
			// every hop adds latency and a point of failure.
			if (
				!best ||
				(candidate.sameNode !== best.sameNode ? candidate.sameNode :
				candidate.over !== best.over ? !candidate.over :
				candidate.depth !== best.depth ? candidate.depth < best.depth :
				candidate.load !== best.load ? candidate.load < best.load :
				candidate.workerIndex < best.workerIndex)
			) {
				best = candidate;
			}
		}
		if (!best) {
			throw new Error(
				`no worker other than ${request.destWorker} carries producer ${request.producerId}`,
			);
		}
		return { workerIndex: best.workerIndex, depth: best.depth };
	}

	#choose(request: PlaceTransportRequest): Placement {
		const { routerId } = request;
		const excluded = new Set(request.excludeWorkers ?? []);
		const usable = (workerIndex: number): boolean => this.table.has(workerIndex) && !excluded.has(workerIndex);
		const over = (workerIndex: number): boolean => this.table.isOver(workerIndex, request);
		const shards = this.streams.shardWorkers(routerId);
		const origins = this.streams.origins(routerId);

		const streamWorkers = [...origins]
			.filter(([workerIndex]) => usable(workerIndex))
			.sort(([wa, na], [wb, nb]) => nb - na || wa - wb)
			.map(([workerIndex]) => workerIndex);
		for (const workerIndex of streamWorkers) {
			if (!over(workerIndex)) return this.#placement(workerIndex, shards, 'stream-worker');
		}

		const otherShardWorkers = this.#byLoadDescending(
			[...shards].filter((workerIndex) => usable(workerIndex) && !origins.has(workerIndex)),
		);
		for (const workerIndex of otherShardWorkers) {
			if (!over(workerIndex)) return this.#placement(workerIndex, shards, 'router-worker');
		}

		const allowed = this.#allowedWorkers(request, shards, excluded);
		if (allowed.length === 0) {
			throw new Error(`no worker available for router ${routerId} (all workers are dead or excluded)`);
		}
		const spansNodes = this.nodes.spans(this.table.indices());
		if (spansNodes) {
			// Fill-first lifted one level: the machines that already carry the
			// router take its transports up to their watermarks before another
			// machine gets a shard of it (and pipes between machines).
			const routerNodes = new Set([...shards].filter(usable).map((w) => this.nodes.nodeOf(w)));
			const onRouterNodes = this.#byLoadDescending(allowed.filter((w) => routerNodes.has(this.nodes.nodeOf(w))));
			const roomy = onRouterNodes.find((workerIndex) => !over(workerIndex));
			if (roomy !== undefined) return this.#placement(roomy, shards, 'router-node');
		}
		const byLoad = spansNodes ? this.#byNodeLoadDescending(allowed, over) : this.#byLoadDescending(allowed);
		const roomy = byLoad.find((workerIndex) => !over(workerIndex));
		if (roomy !== undefined) return this.#placement(roomy, shards, 'most-loaded-under-watermark');
		// Every allowed worker is over. A router with streams needs a pipe per
		// stream for a transport placed off its shards, which only adds load to
		// workers already over: it stays on its least loaded shard (a meeting
		// stays together, a broadcast shares its shards). Without streams,
		// spreading costs nothing.
		const ownShards = origins.size > 0 ? byLoad.filter((workerIndex) => shards.has(workerIndex)) : [];
		const leastLoaded = (ownShards.length > 0 ? ownShards : byLoad).reduce((least, workerIndex) =>
			this.table.load(workerIndex) < this.table.load(least) ||
			(this.table.load(workerIndex) === this.table.load(least) && workerIndex < least) ? workerIndex : least);
		return { ...this.#placement(leastLoaded, shards, 'least-loaded-overloaded'), overloaded: true };
	}

	/**
	 * Workers the router may use under maxWorkers. Shards on excluded (dead or
	 * closing) workers do not count against the limit: they are going away,
	 * and counting them would leave a router with nowhere to fail over to. A
	 * router needs at least one worker, so a limit below one still allows one.
	 */
	#allowedWorkers(request: PlaceTransportRequest, shards: ReadonlySet<number>, excluded: ReadonlySet<number>): number[] {
		let used = 0;
		for (const workerIndex of shards) if (this.table.has(workerIndex) && !excluded.has(workerIndex)) used++;
		const mayOpen = used < Math.max(1, request.maxWorkers);
		return this.table
			.indices()
			.filter((workerIndex) => !excluded.has(workerIndex) && (mayOpen || shards.has(workerIndex)));
	}

	/** Most loaded first; on equal load the lower index first, so decisions are reproducible. */
	#byLoadDescending(workers: number[]): number[] {
		const loads = new Map(workers.map((workerIndex) => [workerIndex, this.table.load(workerIndex)]));
		return workers.sort((a, b) => (loads.get(b) ?? 0) - (loads.get(a) ?? 0) || a - b);
	}

	/**
	 * The most loaded machine that still has a worker under its watermarks
	 * first, and within a machine the most loaded worker first: a new router
	 * fills one machine before it spreads to the next.
	 */
	#byNodeLoadDescending(workers: number[], over: (workerIndex: number) => boolean): number[] {
		const nodes = new Map<string, { load: number; roomy: boolean; workers: number[] }>();
		for (const workerIndex of workers) {
			const nodeId = this.nodes.nodeOf(workerIndex);
			let node = nodes.get(nodeId);
			if (!node) nodes.set(nodeId, (node = { load: 0, roomy: false, workers: [] }));
			node.load += this.table.load(workerIndex);
			node.roomy ||= !over(workerIndex);
			node.workers.push(workerIndex);
		}
		return [...nodes.entries()]
			.sort(([na, a], [nb, b]) => Number(b.roomy) - Number(a.roomy) || b.load - a.load || (na < nb ? -1 : na > nb ? 1 : 0))
			.flatMap(([, node]) => this.#byLoadDescending(node.workers));
	}

	#placement(workerIndex: number, shards: ReadonlySet<number>, rule: Placement['rule']): Placement {
		return { workerIndex, openShard: !shards.has(workerIndex), overloaded: false, rule };
	}
}
