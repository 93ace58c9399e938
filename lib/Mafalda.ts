import { EventEmitter } from 'eventemitter3';
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import type { types } from 'mediasoup';
import type { Registry } from 'prom-client';
import type { CloseReason, HostEvent, NodeSummary, ObjectRef, Placement, PlaceTransportRequest, Watermarks } from '../actors/protocol';
import { CpuSlots, defaultSlotDir } from '../actors/supervisor/cpu-slots';
import { Supervisor } from '../actors/supervisor/supervisor';
import type { HostHandle, WorkerHandle } from '../actors/supervisor/worker-handle';
import { ClusterController } from './cluster/cluster-controller';
import { resolveClusterOptions } from './cluster/cluster-options';
import { CommonApi, CommonApiLevel } from './common-api';
import { ClusterUnavailableError, InvalidArgumentError, MafaldaClosedError } from './errors';
import { globalCommon, globalMafaldaRouters, globalObserver } from './global';
import { MafaldaRouter } from './MafaldaRouter';
import { localNodeId } from './metrics/local-node-id';
import { MafaldaMetrics } from './metrics/MafaldaMetrics';
import { locateMediasoupModule } from './mediasoup-module';
import { type ResolvedMafaldaOptions, resolveMafaldaOptions, resolveRouterOptions, resolveWebRtcServerOptions } from './options';
import { PipeManager } from './pipe-manager';
import type { ProxyContext, RemoteObject } from './remote/RemoteObject';
import { WebRtcServer } from './remote/WebRtcServer';
import { Worker } from './remote/Worker';
import type { ShardRecord } from './shard-record';
import type { MafaldaRouterOptions, MediasoupModule, PipeInfo, RepipeFailedInfo, SupervisorEvents, WebRtcServerOptions } from './types';
import { findWorkerBinary } from './worker-binary';

/**
 * What mediasoup.observer and each Worker's observer tell a mediasoup app's
 * console, for the objects of one Mafalda: the workers as they start (then
 * each worker's observer: newrouter, newwebrtcserver, close), and mafalda's
 * own logical objects.
 */
export interface MafaldaObserverEvents {
	newworker: [Worker];
	newmafaldarouter: [MafaldaRouter];
	newwebrtcserver: [WebRtcServer];
}

/**
 * The entry point: one Mafalda instance runs a supervisor (one mediasoup Worker
 * per CPU, each in a worker host thread), a balancer thread, and the
 * MafaldaRouters made with it. Supervisor events are emitted on the instance.
 */
export class Mafalda extends CommonApiLevel<SupervisorEvents> {
	/** The mediasoup-compatible module this instance was built with. */
	readonly mediasoup: MediasoupModule;
	readonly mafaldaRouters = new Map<string, MafaldaRouter>();
	/** Open WebRtcServers, by id. */
	readonly webRtcServers = new Map<string, WebRtcServer>();
	/** mediasoup's observer tree, from the top: `newworker`, then each Worker's observer. */
	readonly observer = new EventEmitter<MafaldaObserverEvents>();
	protected readonly commonApi = new CommonApi(globalCommon);
	readonly #options: ResolvedMafaldaOptions;
	readonly #entry: string;
	readonly #workerBin: string | undefined;
	#supervisor: Supervisor | undefined;
	/** Proxies by worker, then by object id (a pipe producer shares its id with its producer, never its worker). */
	readonly #directory = new Map<number, Map<string, RemoteObject>>();
	readonly #remoteWorkers = new Map<number, Worker>();
	readonly #proxyContexts = new WeakMap<ShardRecord, ProxyContext>();
	#workerStarting: Promise<WorkerHandle> | undefined;
	#ready: Promise<void> | undefined;
	#closed = false;
	/** The cluster link, when this instance is a controller of mafalda nodes (options.cluster). */
	readonly #cluster: ClusterController | undefined;
	/** @internal */
	readonly pipes: PipeManager;
	/** @internal */
	readonly dataPipes: PipeManager;
	/** @internal The app's producers, by id, with the MafaldaRouter that owns them. */
	readonly producers = new Map<string, { producer: RemoteObject; router: MafaldaRouter }>();
	readonly #metrics: MafaldaMetrics;

	constructor(mediasoup: MediasoupModule, options?: unknown) {
		super();
		if (typeof mediasoup !== 'object' || mediasoup === null || typeof mediasoup.createWorker !== 'function') {
			throw new InvalidArgumentError('mediasoup', 'must be a mediasoup-compatible module (with createWorker())');
		}
		const clusterOptions = resolveClusterOptions((options as { cluster?: unknown } | undefined)?.cluster);
		this.#options = resolveMafaldaOptions(options, clusterOptions !== undefined);
		this.mediasoup = mediasoup;
		const located = locateMediasoupModule(mediasoup, this.#options.mediasoupEntry);
		this.#entry = located.entry;
		this.#workerBin = findWorkerBinary(located.packageDir);
		// One manager for media producers, one for data producers (whose pipes need SCTP).
		const shared = {
			pipeListenIp: this.#options.pipeListenIp,
			pipeEnableSrtp: this.#options.pipeEnableSrtp,
			nodeOf: (shard: ShardRecord) => shard.worker.nodeId,
			relayDirectPipes: clusterOptions?.relayDirectPipes ?? false,
			watermarks: (shard: ShardRecord) => this.#routerOf(shard).watermarks,
			choosePipeSource: async (producerId: string, destWorker: number, w: Watermarks) =>
				(await this.supervisor().balancer.choosePipeSource({ producerId, destWorker, ...w })).workerIndex,
			streamAdded: (routerId: string, producerId: string, workerIndex: number, depth: number) =>
				void this.#supervisor?.balancer.streamAdded(routerId, producerId, workerIndex, depth).catch(() => undefined),
			streamRemoved: (producerId: string, workerIndex: number) =>
				void this.#supervisor?.balancer.streamRemoved(producerId, workerIndex).catch(() => undefined),
			createPipeTransport: (shard: ShardRecord, opts: Record<string, unknown>) => this.#routerOf(shard).createInternalPipeTransport(shard, opts),
			pipeOpened: (info: PipeInfo) => this.emit('pipeopened', info),
			pipeClosed: (info: PipeInfo) => this.emit('pipeclosed', info),
			repipeFailed: (info: RepipeFailedInfo) => this.emit('repipefailed', info),
		};
		this.pipes = new PipeManager({
			...shared,
			stream: 'media',
			pipeEnableSctp: false,
			pauseEvents: ['producerpause', 'producerresume'],
			pipeConsume: (transport, producerId, held) => this.#routerOfTransport(transport).pipeConsume(transport, producerId, held),
			pipeProduce: (transport, id, from) => this.#routerOfTransport(transport).pipeProduce(transport, id, from),
			relay: (shard, producerId, id) => this.#routerOf(shard).relayProducer(shard, producerId, id),
			transitShard: (shard, avoid) => this.#routerOf(shard).transitShard(avoid),
			pipeRepiped: (info) => this.emit('piperepiped', info),
		});
		this.dataPipes = new PipeManager({
			...shared,
			stream: 'data',
			pipeEnableSctp: true,
			pauseEvents: ['dataproducerpause', 'dataproducerresume'],
			pipeConsume: (transport, dataProducerId) => this.#routerOfTransport(transport).pipeConsumeData(transport, dataProducerId),
			pipeProduce: (transport, id, from) => this.#routerOfTransport(transport).pipeProduceData(transport, id, from),
		});
		if (clusterOptions) {
			this.#cluster = new ClusterController(clusterOptions, {
				balancer: () => (this.#closed ? undefined : this.supervisor().balancer),
				workerJoined: (handle) => this.#onWorkerStarted(handle, false),
				workerGone: (index, reason, error) => this.#onWorkerDied(index, error, false, reason),
				hostEvent: (index, event) => this.#onHostEvent(index, event),
				nodeJoined: (node) => this.emit('nodejoined', node),
				nodeLeft: (info) => {
					this.emit('nodeleft', info);
					if (info.reason === 'nodedied') this.emit('nodedied', info);
				},
			});
		}
		const nodeId = localNodeId();
		this.#metrics = new MafaldaMetrics(nodeId, {
			workers: () => this.#remoteWorkers.values(),
			pipes: () => [...this.pipes.pipes(), ...this.dataPipes.pipes()],
			mafaldaRouters: () => this.mafaldaRouters.size,
			// A node's worker is named by its node and its index there (its global index is this controller's own).
			placeOf: (workerIndex) => {
				return this.#cluster?.placeOf(workerIndex) ?? { node: nodeId, worker: workerIndex };
			},
		});
		this.#metrics.attach(this);
		if (this.#options.prestartWorkers > 0) {
			this.#ready = this.#prestart(this.#options.prestartWorkers);
			// ready() reports a failure; until it is called, it must not be an unhandled rejection.
			this.#ready.catch(() => undefined);
		}
	}

	/**
	 * Resolves once this instance holds its workers: the `prestartWorkers`
	 * ones, or at least one. Rejects when they cannot start (NoCpuSlotError
	 * names the processes holding the machine's slots), so a misconfigured
	 * deployment fails when it starts rather than at its first room.
	 */
	ready(): Promise<void> {
		this.#ready ??= this.#prestart(Math.max(1, this.#options.prestartWorkers));
		return this.#ready;
	}

	async #prestart(count: number): Promise<void> {
		const supervisor = this.supervisor();
		while (supervisor.workers().length < count) {
			const before = supervisor.workers().length;
			await this.#startWorker(this.#options.workerSettings);
			if (this.#closed) throw new MafaldaClosedError();
			// Another start came first and none more may run: that is as many as there can be.
			if (supervisor.workers().length <= before && !supervisor.canGrow()) return;
		}
	}

	/**
	 * This instance's Prometheus metrics (a prom-client Registry of its own,
	 * not the global one): serve it, or merge it into the app's registry.
	 */
	get metrics(): Registry {
		return this.#metrics.registry;
	}

	/** Cluster nodes this controller sees, by node id (empty without options.cluster). */
	get nodes(): ReadonlyMap<string, NodeSummary> {
		return this.#cluster?.nodes ?? NO_NODES;
	}

	/** @internal */
	get cluster(): ClusterController | undefined {
		return this.#cluster;
	}

	get closed(): boolean {
		return this.#closed;
	}

	/** @internal Folder of the mediasoup module's entry file (mediasoup's own helpers sit beside it). */
	get mediasoupEntryDir(): string {
		return path.dirname(this.#entry);
	}

	// Common API (collections from CommonApiLevel), over what this instance made.
	async dump(): Promise<Record<string, unknown>> {
		return {
			...(await this.commonApi.dump()),
			mafaldaRouters: [...this.mafaldaRouters.keys()],
			pipes: [...this.pipes.pipes(), ...this.dataPipes.pipes()],
			loadTable: this.#supervisor ? await this.#supervisor.balancer.loadTable() : [],
			nodes: [...this.nodes.values()],
		};
	}

	/** @internal */
	get common(): CommonApi {
		return this.commonApi;
	}

	/** @internal */
	supervisor(): Supervisor {
		if (this.#closed) throw new MafaldaClosedError();
		if (!this.#supervisor) {
			this.#supervisor = new Supervisor(
				{
					numWorkers: this.#options.numWorkers,
					mediasoupEntry: this.#entry,
					workerBin: this.#workerBin,
					loadReportIntervalMs: this.#options.loadReportIntervalMs,
					restart: this.#options.restart,
					cpuSlots: new CpuSlots(this.#options.cpuSlotDir ?? defaultSlotDir(), this.#options.cpuSlotCount, this.#options.maxCpuSlots),
					observeRpc: (index, method, seconds) => this.#metrics.rpc(index, method, seconds),
				},
				{
					hostEvent: (index, event) => this.#onHostEvent(index, event),
					prepareWorker: (handle) => this.#prepareWorker(handle),
					workerStarted: (handle, restarted) => this.#onWorkerStarted(handle, restarted),
					workerDied: (index, error, willRestart) => this.#onWorkerDied(index, error, willRestart),
				},
			);
		}
		return this.#supervisor;
	}

	async createMafaldaRouter(options?: MafaldaRouterOptions): Promise<MafaldaRouter> {
		if (this.#closed) throw new MafaldaClosedError();
		const resolved = resolveRouterOptions(options, this.#cluster !== undefined);
		if (this.mafaldaRouters.has(resolved.id) || globalMafaldaRouters.has(resolved.id)) {
			throw new InvalidArgumentError('options.id', `"${resolved.id}" is already the id of a MafaldaRouter`);
		}
		const router = new MafaldaRouter(this, resolved);
		this.mafaldaRouters.set(router.id, router);
		globalMafaldaRouters.set(router.id, router);
		router.once('close', () => {
			this.mafaldaRouters.delete(router.id);
			if (globalMafaldaRouters.get(router.id) === router) globalMafaldaRouters.delete(router.id);
		});
		try {
			await router.open();
		} catch (error) {
			router.close();
			await router.tornDown();
			throw error;
		}
		// close() ran while the router was opening: it must not come back alive.
		if (this.#closed || router.closed) {
			router.close();
			await router.tornDown();
			throw new MafaldaClosedError();
		}
		this.observer.emit('newmafaldarouter', router);
		return router;
	}

	/**
	 * mediasoup's worker.createWebRtcServer(), for every worker: each worker
	 * runs a mediasoup WebRtcServer of its own, listening on the given port plus
	 * its index (or its entry of `ports`), made now on the running workers
	 * (one is started if none runs) and later on each worker as it starts.
	 * `router.createWebRtcTransport({ webRtcServer })` uses the server of the
	 * worker the transport is placed on.
	 */
	async createWebRtcServer(options: WebRtcServerOptions): Promise<WebRtcServer> {
		if (this.#closed) throw new MafaldaClosedError();
		const resolved = resolveWebRtcServerOptions(options, this.#options.numWorkers);
		// A server must bind now, as mediasoup's does, so that a taken port fails here.
		await this.anyWorker(this.#options.workerSettings);
		if (this.#closed) throw new MafaldaClosedError();
		const server = new WebRtcServer(randomUUID(), resolved);
		this.webRtcServers.set(server.id, server);
		server.once('@close', () => this.webRtcServers.delete(server.id));
		const handles = this.supervisor().preparedWorkers();
		try {
			await Promise.all(handles.map((handle) => server.openOn(handle)));
		} catch (error) {
			// Nothing of a server that failed on one worker stays on the others.
			this.webRtcServers.delete(server.id);
			server.close();
			throw error;
		}
		if (this.#closed) {
			server.close();
			throw new MafaldaClosedError();
		}
		this.observer.emit('newwebrtcserver', server);
		for (const handle of handles) this.#remoteWorkers.get(handle.index)?.observer.emit('newwebrtcserver', server);
		return server;
	}

	/** Closes every MafaldaRouter of this instance (each at once), and settles when their shards are gone. */
	async closeAllMafaldaRouters(): Promise<void> {
		const routers = [...this.mafaldaRouters.values()];
		for (const router of routers) router.close();
		await Promise.all(routers.map((r) => r.tornDown()));
	}

	/**
	 * Closes every MafaldaRouter, every worker and thread of this instance.
	 * The routers close before this returns its promise, as a mediasoup
	 * Worker's close() closes its Routers ('workerclose').
	 */
	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		const routers = [...this.mafaldaRouters.values()];
		for (const router of routers) router.workerClosed();
		// As when mediasoup's Worker closes, at once: its servers say 'workerclose'.
		for (const server of [...this.webRtcServers.values()]) server.workerClosed();
		this.webRtcServers.clear();
		await Promise.all(routers.map((r) => r.tornDown()));
		const supervisor = this.#supervisor;
		this.#supervisor = undefined;
		await this.#cluster?.close();
		if (supervisor) await supervisor.close();
		for (const worker of this.#remoteWorkers.values()) {
			worker.markClosed(undefined);
			this.#metrics.workerGone(worker.index);
		}
		this.#remoteWorkers.clear();
		this.#directory.clear();
	}

	/**
	 * @internal Chooses a worker for a new transport of `router`, starting a
	 * new worker when every running one is over its watermarks and a CPU is free
	 * (`usable`: whether the transport can go on a worker at all).
	 */
	async place(router: MafaldaRouter, request: PlaceTransportRequest, usable: (workerIndex: number) => boolean = () => true): Promise<Placement> {
		const started = performance.now();
		const supervisor = this.supervisor();
		if (this.#cluster) {
			await this.#cluster.ready;
			const excluded = this.#cluster.excludedWorkers();
			if (excluded.length > 0) request = { ...request, excludeWorkers: [...(request.excludeWorkers ?? []), ...excluded] };
		}
		if (supervisor.workers().length === 0 && !this.#cluster?.placeable().length) await this.#startWorker(router.workerSettings);
		let placement = await supervisor.balancer.placeTransport(request);
		const routerWorkers = router.shardCount();
		const mayOwnMore = request.maxWorkers > 0 && routerWorkers < request.maxWorkers;
		// A worker being started counts as room: without waiting for it, every
		// placement of a burst that arrives during the start (seconds on a busy
		// machine) lands overloaded on the full workers.
		const growing = supervisor.canGrow() || this.#workerStarting !== undefined;
		if (placement.overloaded && mayOwnMore && growing) {
			// Every running worker is full and a CPU is free: start a worker (or wait for the one starting) and place again.
			const handle = await this.#startWorker(router.workerSettings).catch(() => undefined);
			// A new worker that cannot take this transport (its WebRtcServer failed there) leaves the placement as it was.
			if (handle && usable(handle.index)) {
				await supervisor.balancer.releasePlacement(placement.workerIndex);
				// The others were all over a moment ago; a CPU sample dipping under the
				// watermark meanwhile must not leave the new worker started and empty.
				const others = supervisor.workers().map((w) => w.index).filter((i) => i !== handle.index);
				placement = await supervisor.balancer.placeTransport({ ...request, excludeWorkers: [...(request.excludeWorkers ?? []), ...others] });
			}
		}
		this.#metrics.placed(placement, (performance.now() - started) / 1000);
		if (placement.overloaded) this.emit('overloaded', { routerId: router.id, placement });
		return placement;
	}

	/** @internal */
	workerHandle(index: number): HostHandle | undefined {
		const handle = this.#supervisor?.handle(index) ?? this.#cluster?.handle(index);
		return handle?.alive ? handle : undefined;
	}

	/** @internal Running workers a transport through this WebRtcServer cannot be placed on. */
	workersWithout(server: WebRtcServer): number[] {
		return this.supervisor()
			.workers()
			.map((h) => h.index)
			.filter((index) => !server.runsOn(index));
	}

	/** @internal */
	remoteWorker(index: number): Worker | undefined {
		return this.#remoteWorkers.get(index);
	}

	/** @internal Makes a worker exist so that a router has somewhere to open its first shard. */
	async anyWorker(workerSettings: Record<string, unknown>, routerId?: string): Promise<HostHandle> {
		const supervisor = this.supervisor();
		const alive = supervisor.workers();
		if (alive.length > 0) return alive[0];
		if (this.#cluster) {
			await this.#cluster.ready;
			// A router id is cluster-wide: join a worker that already serves it (another controller's shard).
			const serving = routerId === undefined ? [] : await this.#cluster.routerWorkers(routerId);
			const placeable = this.#cluster.placeable();
			const handle = placeable.find((h) => serving.includes(h.index)) ?? placeable[0];
			if (handle) return handle;
			if (!supervisor.canGrow()) throw new ClusterUnavailableError('no cluster node with a running worker is registered');
		}
		return this.#startWorker(workerSettings);
	}

	/** @internal A shard closed or its worker died: every pipe into or out of it goes. */
	shardGone(shardId: string): void {
		this.pipes.shardGone(shardId);
		this.dataPipes.shardGone(shardId);
	}

	/** @internal Registers a proxy so host events reach it. */
	register(object: RemoteObject): void {
		let objects = this.#directory.get(object.workerIndex);
		if (!objects) {
			objects = new Map();
			this.#directory.set(object.workerIndex, objects);
		}
		object.listIn(objects);
	}

	/** @internal The proxy registered for an object id on a worker (pipe ends included). */
	proxyOn(workerIndex: number, id: string): RemoteObject | undefined {
		return this.#directory.get(workerIndex)?.get(id);
	}

	/** @internal Resolves an object reference of a host event: the app's proxy first. */
	resolve(workerIndex: number, id: string): unknown {
		const publicId = this.pipes.publicId(id) ?? id;
		return this.producers.get(publicId)?.producer ?? this.#directory.get(workerIndex)?.get(id);
	}

	/** @internal Builds the proxy context for objects on a shard. */
	proxyContext(shard: ShardRecord): ProxyContext {
		// One per shard, shared by its proxies: a context (and its closure) per proxy was 150 B of each consumer.
		let ctx = this.#proxyContexts.get(shard);
		if (!ctx) {
			ctx = { worker: shard.worker, shardId: shard.shardId, resolve: (id) => this.resolve(shard.workerIndex, id), mafaldaClosed: () => this.#closed };
			this.#proxyContexts.set(shard, ctx);
		}
		return ctx;
	}

	async #startWorker(workerSettings: Record<string, unknown>): Promise<WorkerHandle> {
		// One start at a time: two placements that both see every worker full must
		// not start two. A caller that had to wait uses the worker the other one
		// started (a placement that still finds every worker full asks again).
		let waited = false;
		while (this.#workerStarting) {
			waited = true;
			await this.#workerStarting.catch(() => undefined);
		}
		const supervisor = this.supervisor();
		const running = supervisor.workers();
		if (running.length > 0 && (waited || !supervisor.canGrow())) return running[running.length - 1];
		const starting = supervisor.starting();
		if (running.length === 0 && !supervisor.canGrow() && starting.length > 0) {
			// Every worker this instance may run is being (re)started, e.g. the
			// only one just died: wait for it rather than start one too many.
			return Promise.any(starting).catch((error: AggregateError) => {
				// Why the (re)start failed, as the caller of that start would see it.
				throw error.errors[0] as Error;
			});
		}
		this.#workerStarting = supervisor.startWorker(workerSettings);
		try {
			return await this.#workerStarting;
		} finally {
			this.#workerStarting = undefined;
		}
	}

	/**
	 * A worker runs and takes no placement yet: the app's console hears of it
	 * (observer `newworker`), and every WebRtcServer opens on it, so that a
	 * transport placed there finds its server.
	 */
	async #prepareWorker(handle: WorkerHandle): Promise<void> {
		const worker = new Worker(handle);
		this.#remoteWorkers.set(handle.index, worker);
		this.observer.emit('newworker', worker);
		globalObserver.emit('newworker', worker);
		await Promise.all(
			[...this.webRtcServers.values()].map(async (server) => {
				try {
					await server.openOn(handle);
					worker.observer.emit('newwebrtcserver', server);
				} catch (error) {
					// This worker goes on without it; transports using the server avoid it.
					this.emit('webrtcserverfailed', { webRtcServerId: server.id, workerIndex: handle.index, error: error as Error });
				}
			}),
		);
	}

	#onWorkerStarted(handle: HostHandle, restarted: boolean): void {
		const prepared = this.#remoteWorkers.get(handle.index);
		const worker = prepared?.handle === handle ? prepared : new Worker(handle);
		this.#remoteWorkers.set(handle.index, worker);
		this.commonApi.addWorker(worker);
		const info = { workerIndex: handle.index, pid: handle.pid, ...(handle.nodeId !== undefined ? { nodeId: handle.nodeId } : {}) };
		this.emit(restarted ? 'workerrestarted' : 'workerstarted', info);
	}

	#onWorkerDied(index: number, error: string, willRestart: boolean, reason: CloseReason = 'workerdied'): { routerIds: string[]; transportIds: string[] } {
		const transportIds: string[] = [];
		const routerIds: string[] = [];
		for (const router of this.mafaldaRouters.values()) {
			if (router.hasShardOn(index)) routerIds.push(router.id);
		}
		const objects = [...(this.#directory.get(index)?.values() ?? [])];
		for (const object of objects) {
			if (object.remoteKind.endsWith('-transport') && !object.internal) transportIds.push(object.id);
		}
		// Transports first, so their children close as 'transportclose' like mediasoup does.
		for (const object of objects) if (object.remoteKind.endsWith('-transport')) object.markClosed(reason);
		for (const object of objects) object.markClosed(reason);
		this.#directory.delete(index);
		for (const router of this.mafaldaRouters.values()) router.workerDied(index, error);
		this.#remoteWorkers.get(index)?.markClosed(error);
		this.#remoteWorkers.delete(index);
		for (const server of this.webRtcServers.values()) server.workerGone(index);
		// A drained node's workers did not die: nodeleft tells of them.
		if (reason === 'workerdied') this.emit('workerdied', { workerIndex: index, error, willRestart, routerIds, transportIds });
		// A node's workers: nodedied and nodeleft tell the app; the metrics still count a death and drop the gauges.
		else if (reason === 'nodedied') this.#metrics.workerDied(index);
		else this.#metrics.workerGone(index);
		return { routerIds, transportIds };
	}

	#onHostEvent(index: number, event: HostEvent): void {
		switch (event.type) {
			case 'load-report':
				this.#supervisor?.balancer.report(event.report);
				this.emit('loadreport', event.report);
				return;
			case 'object-event':
				this.#directory.get(index)?.get(event.objectId)?.handleEvent(event.event, event.args, event.snapshot, event.observerEvent);
				return;
			case 'object-closed':
				this.#directory.get(index)?.get(event.objectId)?.markClosed(event.reason);
				return;
			case 'worker-died':
				// The supervisor handles deaths; it never forwards this one.
				return;
		}
	}

	#routerOf(shard: ShardRecord): MafaldaRouter {
		const router = this.mafaldaRouters.get(shard.routerId);
		if (!router) throw new MafaldaClosedError();
		return router;
	}

	#routerOfTransport(transport: RemoteObject): MafaldaRouter {
		for (const router of this.mafaldaRouters.values()) if (router.ownsShard(transport.shardId)) return router;
		throw new MafaldaClosedError();
	}
}

const NO_NODES: ReadonlyMap<string, NodeSummary> = new Map();

export type { ObjectRef };
