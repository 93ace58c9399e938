import { EventEmitter } from 'eventemitter3';
import { MafaldaMetrics } from '../metrics/MafaldaMetrics';
import { type MetricsServer, serveMetrics } from '../metrics/serve-metrics';
import { Worker } from '../remote/Worker';
import type { SupervisorEvents } from '../types';
import Redis from 'ioredis';
import type {
	CloseReason,
	ControlMethod,
	HostEvent,
	Json,
	LoadReport,
	NodeSummary,
	NodeWorkerSummary,
	ObjectRef,
	ProducerIndexEntry,
} from '../../actors/protocol';
import { CONTROL_PROTOCOL_VERSION } from '../../actors/protocol';
import { CpuSlots, defaultSlotDir } from '../../actors/supervisor/cpu-slots';
import { Supervisor } from '../../actors/supervisor/supervisor';
import type { HostApi } from '../../actors/supervisor/worker-handle';
import { locateMediasoupModule } from '../mediasoup-module';
import type { MediasoupModule } from '../types';
import { findWorkerBinary } from '../worker-binary';
import { type MafaldaNodeOptions, redactUrl, type ResolvedNodeOptions, resolveNodeOptions } from './cluster-options';
import { ClusterUnavailableError } from '../errors';
import { type ControlSession, ControlServer, type ControlServerStats } from './control-server';
import { NodeRegistry } from './node-registry';
import { NodeShards } from './node-shards';
import { ProducerIndex } from './producer-index';
import { REDIS_CLIENT_OPTIONS, RedisKeys } from './redis-keys';

export interface MafaldaNodeEvents {
	/** The node is draining: it takes no new placements and closes what is left after drainTimeoutMs. */
	draining: [];
	closed: [];
	/** Something went wrong outside any request (Redis, a heartbeat): logged, never thrown. */
	error: [Error];
	/**
	 * Redis stopped answering (once per outage). The node goes on: its
	 * controllers, transports and media do not need Redis.
	 */
	redislost: [Error];
	/** Redis answers again and the node wrote itself back: registry key, set, producer index, router sets. */
	reregistered: [{ outageMs: number }];
}

/**
 * A mafalda node: runs this machine's worker hosts (the supervisor, one
 * mediasoup Worker per CPU) with no app, registers itself in Redis with a
 * heartbeat, and serves the WorkerHostApi of its workers to controllers over
 * the control channel. It owns the truth about its workers, so it also writes
 * the producer index and the router -> workers sets for them.
 */
export class MafaldaNode extends EventEmitter<MafaldaNodeEvents> {
	readonly options: ResolvedNodeOptions;
	readonly #mediasoup: MediasoupModule;
	#supervisor: Supervisor | undefined;
	#server: ControlServer | undefined;
	#redis: Redis | undefined;
	#registry: NodeRegistry | undefined;
	#index: ProducerIndex | undefined;
	#heartbeat: NodeJS.Timeout | undefined;
	#control = { host: '', port: 0 };
	readonly #keys: RedisKeys;
	readonly #shards = new NodeShards();
	readonly #startedAt = Date.now();
	readonly #loads = new Map<number, LoadReport>();
	/** Transport id -> shard id, for every transport made through the control channel. */
	readonly #transportShard = new Map<string, string>();
	/** Transports the apps made (not pipes): a drain waits for these. */
	readonly #appTransports = new Set<string>();
	/** The index entries of this node's producers, kept to write them again into a Redis that lost them. */
	readonly #producers = new Map<string, ProducerIndexEntry>();
	/** Since when Redis has not answered (undefined: it answers). */
	#redisLostAt: number | undefined;
	/**
	 * Session -> worker -> transports it created as placed. Each controller's
	 * balancer counts its own placements as pending until a report includes
	 * them, so each gets a report with its own count, not every controller's.
	 */
	readonly #placedBy = new Map<number, Map<number, number>>();
	/** What the metrics hear (the events a Mafalda instance emits about its workers), with options.metricsPort. */
	readonly #events = new EventEmitter<SupervisorEvents>();
	#metricsServer: MetricsServer | undefined;
	#draining = false;
	#closing: Promise<void> | undefined;
	#drainWaiters = new Set<() => void>();

	constructor(mediasoup: MediasoupModule, options: MafaldaNodeOptions) {
		super();
		this.options = resolveNodeOptions(options);
		this.#mediasoup = mediasoup;
		this.#keys = new RedisKeys(this.options.keyPrefix);
	}

	get nodeId(): string {
		return this.options.nodeId;
	}

	get draining(): boolean {
		return this.#draining;
	}

	/** Where the control channel listens. */
	get controlAddress(): { host: string; port: number } {
		return this.#control;
	}

	/** The scrape URL of this node's metrics (options.metricsPort), once started. */
	get metricsUrl(): string | undefined {
		return this.#metricsServer?.url;
	}

	get stats(): ControlServerStats | undefined {
		return this.#server?.stats;
	}

	async start(): Promise<void> {
		const o = this.options;
		const located = locateMediasoupModule(this.#mediasoup);
		this.#supervisor = new Supervisor(
			{
				numWorkers: o.workers,
				mediasoupEntry: located.entry,
				workerBin: findWorkerBinary(located.packageDir),
				loadReportIntervalMs: o.loadReportIntervalMs,
				restart: { maxRestarts: 5, windowMs: 60_000, baseDelayMs: 100, maxDelayMs: 5000 },
				cpuSlots: new CpuSlots(o.cpuSlotDir ?? defaultSlotDir()),
			},
			{
				hostEvent: (index, event) => this.#onHostEvent(index, event),
				// A node serves no WebRtcServer of its own: nothing to make before placements.
				prepareWorker: async () => undefined,
				workerStarted: (handle, restarted) => {
					this.#events.emit(restarted ? 'workerrestarted' : 'workerstarted', { workerIndex: handle.index, pid: handle.pid });
					this.#nodeChanged();
				},
				workerDied: (index, error, willRestart) => {
					this.#events.emit('workerdied', { workerIndex: index, error, willRestart, routerIds: [], transportIds: [] });
					for (const shardId of this.#shards.shardsOn(index)) this.#objectClosed(shardId);
					this.#loads.delete(index);
					// A restarted host counts from zero, and so does each controller's balancer.
					for (const counts of this.#placedBy.values()) counts.delete(index);
					this.#server?.broadcast({ t: 'event', worker: index, event: { type: 'worker-died', workerIndex: index, error } });
					this.#nodeChanged();
				},
			},
		);
		try {
			const settings: Record<string, unknown> = { logLevel: o.logLevel };
			if (o.rtcMinPort !== undefined) Object.assign(settings, { rtcMinPort: o.rtcMinPort, rtcMaxPort: o.rtcMaxPort });
			for (let i = 0; i < o.workers; i++) await this.#supervisor.startWorker(settings);
			this.#server = new ControlServer(o.secret, {
				nodeId: o.nodeId,
				welcome: () => this.summary(),
				request: (session, worker, method, args) => this.#request(session, worker, method, args),
				sessionClosed: (session) => this.#sessionClosed(session),
				// The controller's lease: as long as this node's own registry lease, beaten as often.
				leaseMs: o.ttlMs,
			});
			this.#control = await this.#server.listen(o.listenIp, o.controlPort);
			this.#redis = new Redis(o.redis, { ...REDIS_CLIENT_OPTIONS });
			this.#redis.on('error', () => undefined);
			this.#redis.on('ready', () => void this.#reregister());
			await this.#redis.connect().catch((error: Error) => {
				throw new ClusterUnavailableError(`Redis at ${redactUrl(o.redis)}: ${error.message}`);
			});
			if (o.metricsPort !== undefined) {
				const supervisor = this.#supervisor;
				// The node's own view: its workers' load reports and processes, labelled with its node id.
				const metrics = new MafaldaMetrics(o.nodeId, {
					workers: () => supervisor.workers().map((h) => new Worker(h)),
					pipes: () => [],
					mafaldaRouters: () => this.#shards.routerCount(),
					placeOf: (workerIndex) => ({ node: o.nodeId, worker: workerIndex }),
				});
				metrics.attach(this.#events);
				for (const h of supervisor.workers()) this.#events.emit('workerstarted', { workerIndex: h.index, pid: h.pid });
				this.#metricsServer = await serveMetrics(metrics.registry, { port: o.metricsPort, host: o.metricsHost });
			}
			this.#registry = new NodeRegistry(this.#redis, this.#keys, o.ttlMs);
			this.#index = new ProducerIndex(this.#redis, this.#keys);
			await this.#registry.register(this.summary());
		} catch (error) {
			await this.#shutdown();
			throw error;
		}
		this.#heartbeat = setInterval(() => this.#beat(), o.heartbeatMs);
	}

	/**
	 * One beat: the summary to every controller over its control channel
	 * (their proof that this node lives, which needs no Redis) and to the
	 * registry. A failed registry beat is an outage of Redis, not of this
	 * node: nothing closes; the beats go on and succeed when Redis is back.
	 */
	#beat(): void {
		const summary = this.summary();
		this.#server?.broadcast({ t: 'node', node: summary });
		this.#registry?.heartbeat(summary).then(
			(wasListed) => {
				// Redis is back, or our key had expired (frozen past the TTL): what we wrote may be gone.
				if (this.#redisLostAt !== undefined || !wasListed) void this.#reregister();
			},
			(error: Error) => this.#lostRedis(error),
		);
	}

	#lostRedis(error: Error): void {
		if (this.#redisLostAt !== undefined || this.#closing) return;
		this.#redisLostAt = Date.now();
		this.emit('redislost', new ClusterUnavailableError(`Redis at ${redactUrl(this.options.redis)}: ${error.message}`));
	}

	/**
	 * Redis is back (it may have restarted empty): writes back all this node
	 * owns in it, so the cluster is whole without restarting anything.
	 */
	async #reregister(): Promise<void> {
		const registry = this.#registry;
		const index = this.#index;
		if (!registry || !index || this.#closing) return;
		try {
			await registry.heartbeat(this.summary());
			await Promise.all([...this.#producers.values()].map((entry) => index.put(entry)));
			await Promise.all(this.#shards.all().map((s) => index.routerWorkerAdded(s.routerId, this.nodeId, s.worker)));
			await registry.announce('joined', this.nodeId);
		} catch (error) {
			this.#lostRedis(error as Error);
			return;
		}
		if (this.#redisLostAt === undefined) return;
		const outageMs = Date.now() - this.#redisLostAt;
		this.#redisLostAt = undefined;
		this.emit('reregistered', { outageMs });
	}

	summary(): NodeSummary {
		const workers: NodeWorkerSummary[] = (this.#supervisor?.workers() ?? []).map((h) => {
			const report = this.#loads.get(h.index);
			return {
				index: h.index,
				pid: h.pid,
				cpuPercent: report ? report.cpuPercent : null,
				load: report ? report.consumers + report.pipeConsumers + report.idleTransports : 0,
			};
		});
		return {
			nodeId: this.options.nodeId,
			controlHost: this.#control.host === '0.0.0.0' || this.#control.host === '::' ? this.options.announcedIp : this.#control.host,
			controlPort: this.#control.port,
			listenIp: this.options.listenIp,
			announcedIp: this.options.announcedIp,
			workers,
			draining: this.#draining,
			startedAt: this.#startedAt,
			at: Date.now(),
			version: CONTROL_PROTOCOL_VERSION,
		};
	}

	/**
	 * A clean exit (what SIGTERM does): no new placements from now on;
	 * transports may close on their own until drainTimeoutMs, then the node
	 * closes them with the reason 'nodedrained' and exits the cluster.
	 */
	async drain(timeoutMs = this.options.drainTimeoutMs): Promise<void> {
		if (!this.#draining) {
			this.#draining = true;
			this.emit('draining');
			this.#nodeChanged();
			await this.#registry?.heartbeat(this.summary()).catch(() => undefined);
			await this.#registry?.announce('draining', this.nodeId).catch(() => undefined);
		}
		if (this.#appTransports.size > 0 && timeoutMs > 0) {
			await new Promise<void>((resolve) => {
				const timer = setTimeout(done, timeoutMs);
				function done(): void {
					clearTimeout(timer);
					resolve();
				}
				this.#drainWaiters.add(done);
			});
		}
		await this.close('nodedrained');
	}

	/** Closes everything: tells the controllers why, leaves the registry, stops the workers. */
	close(reason: CloseReason = 'close'): Promise<void> {
		this.#closing ??= (async () => {
			this.#server?.broadcast({ t: 'closing', reason });
			await this.#shutdown();
			this.emit('closed');
		})();
		return this.#closing;
	}

	async #shutdown(): Promise<void> {
		if (this.#heartbeat) clearInterval(this.#heartbeat);
		this.#heartbeat = undefined;
		if (this.#registry) {
			await this.#index?.remove(this.nodeId, [...this.#producers.keys()]).catch(() => undefined);
			await this.#registry.deregister(this.nodeId).catch(() => undefined);
		}
		await this.#server?.close();
		await this.#metricsServer?.close();
		await this.#supervisor?.close();
		const redis = this.#redis;
		if (redis?.status === 'ready') await redis.quit().catch(() => redis.disconnect());
		else redis?.disconnect();
		this.#redis = undefined;
	}

	async #request(session: ControlSession, worker: number, method: ControlMethod, args: Json[]): Promise<unknown> {
		if (this.#closing) throw new Error(`node ${this.nodeId} is closing`);
		const handle = this.#supervisor?.handle(worker);
		if (!handle || !handle.alive || !handle.started) throw new Error(`node ${this.nodeId} has no running worker ${worker}`);
		const call = (m: ControlMethod, a: unknown[]): Promise<unknown> =>
			handle.call((api: HostApi) => (api as unknown as Record<ControlMethod, (...x: unknown[]) => Promise<unknown>>)[m](...a));
		switch (method) {
			case 'createRouter': {
				const routerId = args[0] as string;
				const { ref, opened } = await this.#shards.acquire(session.id, worker, routerId, () => call('createRouter', args) as Promise<ObjectRef>);
				// Without Redis the shard still serves; #reregister writes it when Redis is back.
				if (opened) await this.#index?.routerWorkerAdded(routerId, this.nodeId, worker).catch((error: Error) => this.#lostRedis(error));
				return ref;
			}
			case 'createTransport': {
				const request = args[0] as { shardId: string; transportKind: string; options: Record<string, unknown>; placed: boolean; internalPipe?: boolean };
				if (this.#draining && !request.internalPipe) throw new Error(`node ${this.nodeId} is draining: it takes no new transports`);
				const ref = (await call('createTransport', [{ ...request, options: this.#withOwnAddresses(request.transportKind, request.options) }])) as ObjectRef;
				this.#transportShard.set(ref.id, request.shardId);
				if (request.placed) {
					let counts = this.#placedBy.get(session.id);
					if (!counts) this.#placedBy.set(session.id, (counts = new Map()));
					counts.set(worker, (counts.get(worker) ?? 0) + 1);
				}
				if (!request.internalPipe) this.#appTransports.add(ref.id);
				this.#shards.made(session.id, request.shardId, ref.id);
				return ref;
			}
			case 'createRtpObserver': {
				const ref = (await call(method, args)) as ObjectRef;
				this.#shards.made(session.id, args[0] as string, ref.id);
				return ref;
			}
			case 'produce': {
				const request = args[0] as { transportId: string; pipe?: boolean };
				const ref = (await call(method, args)) as ObjectRef;
				const shardId = this.#transportShard.get(request.transportId);
				const shard = shardId ? this.#shards.shardInfo(shardId) : undefined;
				if (!request.pipe && shardId && shard && this.#index) {
					// Indexed before the answer: a producer is consumable through any
					// controller as soon as its produce() resolves.
					// Without Redis the producer still serves its own controller; the
					// entry is written when Redis is back (#reregister).
					const entry: ProducerIndexEntry = { producerId: ref.id, routerId: shard.routerId, nodeId: this.nodeId, worker, shardId, ref };
					this.#producers.set(ref.id, entry);
					await this.#index.put(entry).catch((error: Error) => this.#lostRedis(error));
				}
				return ref;
			}
			case 'call': {
				const request = args[0] as { objectId: string; method: string };
				if (request.method === 'close' && this.#shards.isShard(request.objectId)) return this.#release(session.id, worker, request.objectId);
				return call(method, args);
			}
			default:
				return call(method, args);
		}
	}

	/**
	 * A transport's listenInfos take this node's addresses: the app cannot
	 * know which machine its transport lands on, so its ip and announced
	 * address are replaced (its protocol, port and flags are kept).
	 */
	#withOwnAddresses(kind: string, options: Record<string, unknown>): Record<string, unknown> {
		const own = (info: unknown): Record<string, unknown> => {
			const base = typeof info === 'object' && info !== null ? (info as Record<string, unknown>) : {};
			const out: Record<string, unknown> = { protocol: 'udp', ...base, ip: this.options.listenIp };
			delete out.announcedIp;
			if (this.options.announcedIp !== this.options.listenIp) out.announcedAddress = this.options.announcedIp;
			else delete out.announcedAddress;
			if (this.options.rtcMinPort !== undefined && base.port === undefined) {
				out.portRange = { min: this.options.rtcMinPort, max: this.options.rtcMaxPort };
			}
			return out;
		};
		const { listenIps, listenIp, ...rest } = options;
		if (kind === 'webrtc') {
			const infos = Array.isArray(rest.listenInfos) ? rest.listenInfos : Array.isArray(listenIps) ? listenIps.map(() => ({ protocol: 'udp' })) : [{ protocol: 'udp' }];
			return { ...rest, listenInfos: infos.map(own) };
		}
		if (kind === 'plain' || kind === 'pipe') return { ...rest, listenInfo: own(rest.listenInfo ?? (listenIp !== undefined ? {} : undefined)) };
		return options;
	}

	async #release(session: number, worker: number, shardId: string): Promise<unknown> {
		const { objects, closeShard } = this.#shards.release(session, shardId);
		const handle = this.#supervisor?.handle(worker);
		if (!handle?.alive) return { value: null };
		const close = (objectId: string): Promise<unknown> =>
			handle.call((api) => api.call({ objectId, method: 'close', args: [] })).catch(() => undefined);
		if (closeShard) return close(shardId);
		await Promise.all(objects.map(close));
		return { value: null };
	}

	#sessionClosed(session: ControlSession): void {
		// The controller is gone: what it alone held goes with it. (Issue 11
		// turns this into a lease, so that a short network break does not.)
		for (const shardId of this.#shards.heldBy(session.id)) {
			const info = this.#shards.shardInfo(shardId);
			if (info) void this.#release(session.id, info.worker, shardId);
		}
		this.#shards.sessionGone(session.id);
		this.#placedBy.delete(session.id);
	}

	#onHostEvent(index: number, event: HostEvent): void {
		if (event.type === 'load-report') {
			this.#events.emit('loadreport', event.report);
			const before = this.#loads.get(index);
			this.#loads.set(index, event.report);
			if (!before) this.#nodeChanged();
			for (const session of this.#server?.sessions() ?? []) {
				const placedTransports = this.#placedBy.get(session.id)?.get(index) ?? 0;
				session.send({ t: 'event', worker: index, event: { type: 'load-report', report: { ...event.report, placedTransports } } });
			}
			return;
		}
		if (event.type === 'object-closed') this.#objectClosed(event.objectId);
		this.#server?.broadcast({ t: 'event', worker: index, event });
	}

	#objectClosed(objectId: string): void {
		this.#transportShard.delete(objectId);
		if (this.#appTransports.delete(objectId) && this.#appTransports.size === 0) {
			for (const done of this.#drainWaiters) done();
			this.#drainWaiters.clear();
		}
		if (this.#producers.delete(objectId)) void this.#index?.remove(this.nodeId, [objectId]).catch(() => undefined);
		const shard = this.#shards.objectClosed(objectId);
		if (shard) void this.#index?.routerWorkersRemoved([{ routerId: shard.routerId, nodeId: this.nodeId, worker: shard.worker }]).catch(() => undefined);
	}

	#nodeChanged(): void {
		this.#server?.broadcast({ t: 'node', node: this.summary() });
	}
}
