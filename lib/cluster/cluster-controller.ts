import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import type { CloseReason, HostEvent, NodeSummary, ProducerIndexEntry } from '../../actors/protocol';
import type { BalancerClient } from '../../actors/supervisor/balancer-client';
import { ClusterUnavailableError } from '../errors';
import { redactUrl, type ResolvedClusterOptions } from './cluster-options';
import { ControlClient } from './control-client';
import { NodeRegistry } from './node-registry';
import { ProducerIndex } from './producer-index';
import { parseNodeEvent, REDIS_CLIENT_OPTIONS, RedisKeys } from './redis-keys';
import { RemoteWorkerHandle } from './remote-worker-handle';
import { singleFlight } from '../single-flight';

/** Global worker indices of remote workers start here, clear of any local supervisor's (at most 1024). */
export const REMOTE_INDEX_BASE = 10_000;

/** What a controller's cluster link needs from its Mafalda instance. */
export interface ClusterHost {
	/** The balancer, or undefined once the instance is closed. */
	balancer(): BalancerClient | undefined;
	workerJoined(handle: RemoteWorkerHandle): void;
	/** A remote worker is gone; returns what went with it (for the nodeleft event). */
	workerGone(index: number, reason: CloseReason, error: string): { routerIds: string[]; transportIds: string[] };
	hostEvent(index: number, event: HostEvent): void;
	nodeJoined(node: NodeSummary): void;
	nodeLeft(info: NodeLeftInfo): void;
}

export interface NodeLeftInfo {
	nodeId: string;
	/**
	 * 'nodedrained' when the node drained (SIGTERM); 'nodedied' when it died:
	 * its connection closed without a notice (the process was killed) or went
	 * silent for nodeTimeoutMs (a frozen machine, a cut link).
	 */
	reason: CloseReason;
	/** Global indices of its workers (gone from `workers`, never placed on again). */
	workers: number[];
	/** This controller's MafaldaRouters that had a shard there. */
	routerIds: string[];
	/** The app's transports that closed with it (closeReason === reason). */
	transportIds: string[];
	/** What told of it: "connection to node ... closed", "node ... silent for 3012 ms", ... */
	detail: string;
	/** How long since the node was last heard on its control channel, ms. */
	silentMs: number;
}

interface NodeLink {
	summary: NodeSummary;
	client: ControlClient;
	/** Local worker index -> handle. */
	workers: Map<number, { handle: RemoteWorkerHandle }>;
	closingReason?: CloseReason;
}

/**
 * The controller's side of the cluster: finds live nodes in the Redis node
 * registry (a poll, sped up by pub/sub notices), keeps one control
 * connection per node, turns each remote worker into a handle with a global
 * index, feeds its load reports to the balancer and its events to Mafalda.
 */
export class ClusterController {
	readonly controllerId = `controller-${randomUUID()}`;
	readonly nodes = new Map<string, NodeSummary>();
	readonly ready: Promise<void>;
	readonly #keys: RedisKeys;
	readonly #redis: Redis;
	readonly #subscriber: Redis;
	readonly #registry: NodeRegistry;
	readonly #index: ProducerIndex;
	readonly #links = new Map<string, NodeLink>();
	readonly #connecting = new Map<string, Promise<void>>();
	readonly #handles = new Map<number, RemoteWorkerHandle>();
	readonly #indices = new Map<string, number>();
	#nextIndex = REMOTE_INDEX_BASE;
	#timer: NodeJS.Timeout | undefined;
	#polling: Promise<void> | undefined;
	#closed = false;

	constructor(
		private readonly options: ResolvedClusterOptions,
		private readonly host: ClusterHost,
	) {
		this.#keys = new RedisKeys(options.keyPrefix);
		this.#redis = new Redis(options.redis, { ...REDIS_CLIENT_OPTIONS });
		this.#subscriber = new Redis(options.redis, { ...REDIS_CLIENT_OPTIONS });
		// ioredis reconnects by itself; a refused connection is reported by the calls that need it.
		this.#redis.on('error', () => undefined);
		this.#subscriber.on('error', () => undefined);
		this.#registry = new NodeRegistry(this.#redis, this.#keys, 0);
		this.#index = new ProducerIndex(this.#redis, this.#keys);
		this.ready = this.#start();
		this.ready.catch(() => undefined);
	}

	async #start(): Promise<void> {
		try {
			await Promise.all([this.#redis.connect(), this.#subscriber.connect()]);
			await this.#subscriber.subscribe(this.#keys.events);
		} catch (error) {
			// No retries in the background of a controller that failed to start
			// (issue 11: a controller that waits for Redis to come back).
			this.#redis.disconnect();
			this.#subscriber.disconnect();
			throw new ClusterUnavailableError(`Redis at ${redactUrl(this.options.redis)}: ${(error as Error).message}`);
		}
		this.#subscriber.on('message', (_channel: string, message: string) => {
			if (parseNodeEvent(message)) void this.poll();
		});
		await this.poll();
		// close() may have come during that first poll (a caller that saw the nodes it waited for): no timer then.
		if (this.#closed) return;
		this.#timer = setInterval(() => void this.poll(), this.options.pollIntervalMs);
	}

	/** Reads the registry once and connects to nodes not known yet; at most one poll at a time. */
	poll(): Promise<void> {
		if (this.#closed) return Promise.resolve();
		this.#polling ??= this.#poll().finally(() => (this.#polling = undefined));
		return this.#polling;
	}

	async #poll(): Promise<void> {
		let live: NodeSummary[];
		try {
			live = await this.#registry.liveNodes();
		} catch {
			// Redis is away: what is connected stays connected; a call that needs
			// Redis rejects with ClusterUnavailableError meanwhile.
			return;
		}
		const seen = new Set<string>();
		await Promise.all(
			live.map(async (summary) => {
				seen.add(summary.nodeId);
				const link = this.#links.get(summary.nodeId);
				if (link) return this.#updated(link, summary);
				if (summary.draining) return;
				await this.#connect(summary).catch(() => undefined);
			}),
		);
		// A connected node missing from the registry is NOT closed here: a Redis that
		// restarted empty lists nobody until the nodes' next beats. Whether a node
		// lives is its control channel's business (a close, or its silence).
	}

	#connect(summary: NodeSummary): Promise<void> {
		return singleFlight(this.#connecting, summary.nodeId, () => this.#open(summary));
	}

	async #open(summary: NodeSummary): Promise<void> {
		const client = await ControlClient.connect(summary.controlHost, summary.controlPort, {
			secret: this.options.secret,
			controllerId: this.controllerId,
			expectNodeId: summary.nodeId,
			requestTimeoutMs: this.options.requestTimeoutMs,
			beatMs: this.options.heartbeatMs,
			nodeTimeoutMs: this.options.nodeTimeoutMs,
		});
		if (this.#closed) {
			client.close();
			return;
		}
		const link: NodeLink = { summary: client.node, client, workers: new Map() };
		this.#links.set(summary.nodeId, link);
		this.nodes.set(summary.nodeId, client.node);
		client.on('event', (worker, event) => this.#onEvent(link, worker, event));
		client.on('node', (node) => this.#updated(link, node));
		client.on('closing', (reason) => (link.closingReason = reason));
		client.on('close', (reason) => this.#lost(link, reason));
		for (const w of client.node.workers) await this.#addWorker(link, w.index, w.pid);
		this.host.nodeJoined(client.node);
	}

	async #addWorker(link: NodeLink, localIndex: number, pid: number): Promise<void> {
		const nodeId = link.summary.nodeId;
		if (link.workers.has(localIndex) || link.client.closed) return;
		const key = `${nodeId}/${localIndex}`;
		let index = this.#indices.get(key);
		if (index === undefined) this.#indices.set(key, (index = this.#nextIndex++));
		const handle = new RemoteWorkerHandle(index, link.client, localIndex, nodeId);
		handle.pid = pid;
		link.workers.set(localIndex, { handle });
		this.#handles.set(index, handle);
		const balancer = this.host.balancer();
		if (!balancer) return;
		await balancer.addWorker(index);
		await balancer.setWorkerNode(index, nodeId);
		handle.started = true;
		this.host.workerJoined(handle);
	}

	#removeWorker(link: NodeLink, localIndex: number, reason: CloseReason, error: string): { routerIds: string[]; transportIds: string[] } {
		const entry = link.workers.get(localIndex);
		if (!entry) return { routerIds: [], transportIds: [] };
		link.workers.delete(localIndex);
		entry.handle.markDead(error);
		void this.host.balancer()?.removeWorker(entry.handle.index).catch(() => undefined);
		// The handle goes after the host is told: its metrics name the worker by its node (handle()).
		const gone = this.host.workerGone(entry.handle.index, reason, error);
		if (this.#handles.get(entry.handle.index) === entry.handle) this.#handles.delete(entry.handle.index);
		return gone;
	}

	#updated(link: NodeLink, summary: NodeSummary): void {
		link.summary = summary;
		this.nodes.set(summary.nodeId, summary);
		for (const w of summary.workers) if (!link.workers.has(w.index)) void this.#addWorker(link, w.index, w.pid).catch(() => undefined);
	}

	#onEvent(link: NodeLink, localIndex: number, event: HostEvent): void {
		const entry = link.workers.get(localIndex);
		if (!entry) return;
		const index = entry.handle.index;
		switch (event.type) {
			case 'load-report': {
				// The host (Mafalda) hands it to the balancer with its next placement.
				this.host.hostEvent(index, { type: 'load-report', report: { ...event.report, workerIndex: index } });
				return;
			}
			case 'worker-died':
				this.#removeWorker(link, localIndex, 'workerdied', `worker ${localIndex} of node ${link.summary.nodeId} died: ${event.error}`);
				return;
			default:
				this.host.hostEvent(index, event);
		}
	}

	#lost(link: NodeLink, detail: string): void {
		if (this.#links.get(link.summary.nodeId) !== link) return;
		this.#links.delete(link.summary.nodeId);
		this.nodes.delete(link.summary.nodeId);
		// No 'closing' notice before the connection went: the node died (or we cannot reach it, which is the same to us).
		const reason = link.closingReason ?? 'nodedied';
		const silentMs = Date.now() - link.client.lastHeard;
		const info: NodeLeftInfo = { nodeId: link.summary.nodeId, reason, workers: [], routerIds: [], transportIds: [], detail, silentMs };
		const localIndices = [...link.workers.keys()];
		for (const [localIndex, entry] of [...link.workers]) {
			info.workers.push(entry.handle.index);
			const gone = this.#removeWorker(link, localIndex, reason, `node ${link.summary.nodeId}: ${detail}`);
			info.routerIds.push(...gone.routerIds.filter((id) => !info.routerIds.includes(id)));
			info.transportIds.push(...gone.transportIds);
		}
		if (reason === 'nodedied' && !this.#closed) {
			// A dead node cannot take itself out of the router sets: whoever saw it die does, for the routers it knows.
			const entries = info.routerIds.flatMap((routerId) => localIndices.map((worker) => ({ routerId, nodeId: info.nodeId, worker })));
			void this.#index.routerWorkersRemoved(entries).catch(() => undefined);
		}
		if (!this.#closed) this.host.nodeLeft(info);
	}

	handle(index: number): RemoteWorkerHandle | undefined {
		const handle = this.#handles.get(index);
		return handle?.alive ? handle : undefined;
	}

	/** Where a remote worker is (its node and index there), dead or alive until it is forgotten. */
	placeOf(index: number): { node: string; worker: number } | undefined {
		const handle = this.#handles.get(index);
		return handle ? { node: handle.nodeId!, worker: handle.localIndex } : undefined;
	}

	/** Live remote workers that take placements (not on a draining node). */
	placeable(): RemoteWorkerHandle[] {
		const out: RemoteWorkerHandle[] = [];
		for (const link of this.#links.values()) {
			if (link.summary.draining || link.closingReason) continue;
			for (const { handle } of link.workers.values()) if (handle.alive && handle.started) out.push(handle);
		}
		// In a stable order (node id, then worker), as the balancer breaks its ties.
		return out.sort((a, b) => (a.nodeId! < b.nodeId! ? -1 : a.nodeId! > b.nodeId! ? 1 : a.localIndex - b.localIndex));
	}

	/** Workers the balancer must not place on: those of draining nodes. */
	excludedWorkers(): number[] {
		const out: number[] = [];
		for (const link of this.#links.values()) {
			if (!link.summary.draining && !link.closingReason) continue;
			for (const { handle } of link.workers.values()) out.push(handle.index);
		}
		return out;
	}

	globalIndex(nodeId: string, localIndex: number): number | undefined {
		const handle = this.#links.get(nodeId)?.workers.get(localIndex)?.handle;
		return handle?.alive ? handle.index : undefined;
	}

	/** One GET in Redis. */
	findProducer(producerId: string): Promise<ProducerIndexEntry | undefined> {
		return this.#index.get(producerId).catch((error: Error) => {
			throw new ClusterUnavailableError(`producer index: ${error.message}`);
		});
	}

	/** Live workers (global indices) that already serve this router id, from any controller. */
	async routerWorkers(routerId: string): Promise<number[]> {
		const members = await this.#index.routerWorkers(routerId).catch(() => []);
		return members.map((m) => this.globalIndex(m.nodeId, m.worker)).filter((i): i is number => i !== undefined);
	}

	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		if (this.#timer) clearInterval(this.#timer);
		await this.#polling?.catch(() => undefined);
		await Promise.allSettled([...this.#connecting.values()]);
		for (const link of [...this.#links.values()]) link.client.close();
		this.#subscriber.disconnect();
		// QUIT waits for an answer: only a connected client can give one.
		if (this.#redis.status === 'ready') await this.#redis.quit().catch(() => this.#redis.disconnect());
		else this.#redis.disconnect();
	}
}
