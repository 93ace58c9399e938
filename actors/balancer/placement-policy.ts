import type { PipeSource, PipeSourceRequest, Placement, PlaceTransportRequest, Watermarks } from '../protocol';
import { LoadOrder, ranksBefore, type NodeLoad } from './load-order';
import type { LoadTable } from './load-table';
import { NodeMap } from './node-map';
import type { StreamMap } from './stream-map';

/** A preference a worker must meet in one pass of a choice. */
type Accept = (workerIndex: number) => boolean;

/**
 * Mafalda's policy: concentrate, do not spread. A transport goes where its
 * router's streams already are, so consumers need no pipe; a new worker is
 * only opened when those are over their watermarks, and then the fullest one
 * that still has room, so the other workers stay free for other routers.
 *
 * A decision reads the router's own shards and origins and, to open a
 * shard, the front of an order of machines and workers by load kept up to
 * date on each change (LoadOrder): its cost grows with the router's shards and
 * the machines that are full, never with the number of consumers, of other
 * routers' producers, or a sort of the cluster's workers.
 */
export class PlacementPolicy {
	/** Workers by machine load, then by worker load, kept in step with the table and the node map. */
	readonly #order: LoadOrder;

	constructor(
		private readonly table: LoadTable,
		private readonly streams: StreamMap,
		private readonly nodes: NodeMap = new NodeMap(),
	) {
		this.#order = new LoadOrder(table, nodes);
	}

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

		// The worker with most of the router's producers that is not over (ties: the lower index).
		let best: number | undefined;
		let bestKey = 0;
		for (const [workerIndex, producers] of origins) {
			if (best !== undefined && !ranksBefore(producers, workerIndex, bestKey, best)) continue;
			if (!usable(workerIndex) || over(workerIndex)) continue;
			best = workerIndex;
			bestKey = producers;
		}
		if (best !== undefined) return this.#placement(best, shards, 'stream-worker');

		// Then the router's other shards, most loaded first.
		let used = 0;
		best = undefined;
		for (const workerIndex of shards) {
			if (!usable(workerIndex)) continue;
			used++;
			if (origins.has(workerIndex)) continue;
			const load = this.table.load(workerIndex);
			if (best !== undefined && !ranksBefore(load, workerIndex, bestKey, best)) continue;
			if (over(workerIndex)) continue;
			best = workerIndex;
			bestKey = load;
		}
		if (best !== undefined) return this.#placement(best, shards, 'router-worker');

		// maxWorkers: shards on excluded (dead or closing) workers do not count
		// against the limit: they are going away, and counting them would leave a
		// router with nowhere to fail over to. A router needs at least one worker,
		// so a limit below one still allows one.
		if (used >= Math.max(1, request.maxWorkers)) {
			// Its usable shards are all it may use, and all of them are over (above).
			return { ...this.#placement(this.#leastLoaded(shards, usable), shards, 'least-loaded-overloaded'), overloaded: true };
		}
		let excludedHere = 0;
		for (const workerIndex of excluded) if (this.table.has(workerIndex)) excludedHere++;
		if (this.table.size === excludedHere) {
			throw new Error(`no worker available for router ${routerId} (all workers are dead or excluded)`);
		}
		// A router with streams pays a pipe per stream for every shard it opens.
		// Routers growing side by side would all open theirs on the same most
		// loaded worker and share its room, then all spill again after a few
		// transports each (bench/README.md, simulation 7: 200,023 pipes for
		// 1,000,000 viewers, 14,768 when the router's own machines were still
		// searched for a shared worker first, 2,150 this way). So such a router
		// first takes a worker no stream is piped into yet (not another router's
		// spill), on its machines and then on the most loaded one with such a
		// worker, and shares a worker only when there is none in the cluster.
		const passes: Array<Accept | undefined> = origins.size > 0 ? [(w) => this.streams.pipedIn(w) === 0, undefined] : [undefined];
		// Fill-first lifted one level: the machines that already carry the
		// router take its transports up to their watermarks before another
		// machine gets a shard of it (and pipes between machines).
		const routerNodes = new Set<string>();
		if (this.#order.nodeCount > 1) for (const workerIndex of shards) if (usable(workerIndex)) routerNodes.add(this.nodes.nodeOf(workerIndex));
		for (const accept of passes) {
			best = undefined;
			for (const nodeId of routerNodes) {
				const node = this.#order.node(nodeId);
				const roomy = node && this.#firstRoomy(node, excluded, request, accept);
				if (roomy === undefined) continue;
				const load = this.table.load(roomy);
				if (best === undefined || ranksBefore(load, roomy, bestKey, best)) {
					best = roomy;
					bestKey = load;
				}
			}
			if (best !== undefined) return this.#placement(best, shards, 'router-node');
			const roomy = this.#mostLoadedRoomy(excluded, request, accept);
			if (roomy !== undefined) return this.#placement(roomy, shards, 'most-loaded-under-watermark');
		}
		// Every allowed worker is over. A router with streams needs a pipe per
		// stream for a transport placed off its shards, which only adds load to
		// workers already over: it stays on its least loaded shard (a meeting
		// stays together, a broadcast shares its shards). Without streams,
		// spreading costs nothing.
		const leastLoaded = (origins.size > 0 && used > 0 ? this.#leastLoaded(shards, usable) : undefined) ??
			this.#leastLoaded(this.table.indices(), (workerIndex) => !excluded.has(workerIndex));
		return { ...this.#placement(leastLoaded, shards, 'least-loaded-overloaded'), overloaded: true };
	}

	/**
	 * The most loaded machine that still has a worker under its watermarks,
	 * and in it the most loaded such worker: a new router fills one machine
	 * before it spreads to the next. A machine's load counts only its allowed
	 * workers, so the few machines with an excluded worker are weighed apart;
	 * every other one is read in the order's sequence, and the first with room
	 * wins.
	 */
	#mostLoadedRoomy(excluded: ReadonlySet<number>, watermarks: Watermarks, accept?: Accept): number | undefined {
		const excludedLoad = new Map<string, number>();
		for (const workerIndex of excluded) {
			if (!this.table.has(workerIndex)) continue;
			const nodeId = this.nodes.nodeOf(workerIndex);
			excludedLoad.set(nodeId, (excludedLoad.get(nodeId) ?? 0) + this.table.load(workerIndex));
		}
		let best: { workerIndex: number; load: number; nodeId: string } | undefined;
		for (const node of this.#order.nodes) {
			if (excludedLoad.has(node.nodeId)) continue;
			const workerIndex = this.#firstRoomy(node, excluded, watermarks, accept);
			if (workerIndex === undefined) continue;
			best = { workerIndex, load: node.load, nodeId: node.nodeId };
			break;
		}
		for (const [nodeId, lessLoad] of excludedLoad) {
			const node = this.#order.node(nodeId);
			if (!node) continue;
			const workerIndex = this.#firstRoomy(node, excluded, watermarks, accept);
			if (workerIndex === undefined) continue;
			const load = node.load - lessLoad;
			if (!best || ranksBefore(load, nodeId, best.load, best.nodeId)) best = { workerIndex, load, nodeId };
		}
		return best?.workerIndex;
	}

	/** A machine's most loaded worker under its watermarks; a machine whose least loaded worker is at the count watermark is skipped whole. */
	#firstRoomy(node: NodeLoad, excluded: ReadonlySet<number>, watermarks: Watermarks, accept?: Accept): number | undefined {
		const { workers } = node;
		const leastLoad = this.#order.loadOf(workers[workers.length - 1]) ?? 0;
		if (leastLoad >= watermarks.maxConsumersPerWorker) return undefined;
		for (const workerIndex of workers) {
			if (excluded.has(workerIndex) || (this.#order.loadOf(workerIndex) ?? 0) >= watermarks.maxConsumersPerWorker) continue;
			if (accept && !accept(workerIndex)) continue;
			if (!this.table.isOver(workerIndex, watermarks)) return workerIndex;
		}
		return undefined;
	}

	/** The least loaded of these workers; on equal load the lower index. */
	#leastLoaded(workers: Iterable<number>, allowed: (workerIndex: number) => boolean): number {
		let least: number | undefined;
		let leastLoad = 0;
		for (const workerIndex of workers) {
			if (!allowed(workerIndex)) continue;
			const load = this.table.load(workerIndex);
			if (least === undefined || load < leastLoad || (load === leastLoad && workerIndex < least)) {
				least = workerIndex;
				leastLoad = load;
			}
		}
		if (least === undefined) throw new Error('no worker to fall back on');
		return least;
	}

	#placement(workerIndex: number, shards: ReadonlySet<number>, rule: Placement['rule']): Placement {
		return { workerIndex, openShard: !shards.has(workerIndex), overloaded: false, rule };
	}
}
