import type { types } from 'mediasoup';
import type {
	CallRequest,
	CallResult,
	Cloneable,
	ConsumeRequest,
	CreateTransportRequest,
	HostEvent,
	HostStartOptions,
	LoadReport,
	ObjectRef,
	ObserverKind,
	ProduceRequest,
	RelayRequest,
	RemoteKind,
	TransportKind,
	WorkerHostApi,
	WorkerInfo,
} from '../protocol';
import { withJsonArguments } from './json-arguments';
import { LoadReporter } from './load-reporter';
import { type MediasoupObject, ObjectTable, snapshotOf, type TableEntry, toCloneable } from './object-table';
import { installPlainClone } from './mediasoup-clone';
import { RouterShard } from './router-shard';
import { StreamRelay } from './stream-relay';

type MediasoupModule = typeof import('mediasoup');

/** How each kind of transport is made on a mediasoup Router, and what kind of remote object it is. */
const TRANSPORT_FACTORIES: Readonly<Record<TransportKind, { kind: RemoteKind; make(router: types.Router, options: never): Promise<types.Transport> }>> = {
	webrtc: { kind: 'webrtc-transport', make: (router, options) => router.createWebRtcTransport(options) },
	plain: { kind: 'plain-transport', make: (router, options) => router.createPlainTransport(options) },
	pipe: { kind: 'pipe-transport', make: (router, options) => router.createPipeTransport(options) },
	direct: { kind: 'direct-transport', make: (router, options) => router.createDirectTransport(options) },
};

const TRANSPORT_KINDS: readonly RemoteKind[] = ['webrtc-transport', 'plain-transport', 'pipe-transport', 'direct-transport'];

/**
 * The worker host actor: owns one mediasoup Worker in its own thread, and the
 * router shard actors on it. The supervisor drives it by RPC (WorkerHostApi);
 * it answers with ids and snapshots, never with mediasoup objects.
 */
export class WorkerHost implements WorkerHostApi {
	#worker: types.Worker | undefined;
	#workerIndex = -1;
	#reporter: LoadReporter | undefined;
	#placedTransports = 0;
	readonly #shards = new Map<string, RouterShard>();
	readonly #pipeTransports = new Set<string>();
	readonly #pipeProducers = new Set<string>();
	/** This worker's mediasoup WebRtcServer for each mafalda WebRtcServer, by the latter's id. */
	readonly #webRtcServers = new Map<string, types.WebRtcServer>();
	/** Relay producers (see StreamRelay), by their id. */
	readonly #relays = new Map<string, StreamRelay>();
	readonly #table: ObjectTable;

	constructor(private readonly postEvent: (event: HostEvent) => void) {
		this.#table = new ObjectTable(
			(event) => {
				// A dying mediasoup Worker first closes all its routers (their
				// objects report 'routerclose', 'transportclose'...) and only then
				// emits 'died'. Those closes must not reach the main thread before
				// 'worker-died': the supervisor's death handling closes every proxy
				// of this worker with the 'workerdied' reason and lists the affected
				// transports, which it cannot do for proxies already closed.
				if (event.type === 'object-closed' && this.#worker?.died) return;
				postEvent(event);
			},
			(entry) => this.#removed(entry),
		);
	}

	async start(options: HostStartOptions): Promise<WorkerInfo> {
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const mediasoup = require(options.mediasoupEntry) as MediasoupModule;
		installPlainClone(options.mediasoupEntry);
		const worker = await mediasoup.createWorker(options.workerSettings as types.WorkerSettings);
		this.#worker = worker;
		this.#workerIndex = options.workerIndex;
		worker.on('died', (error: Error) => {
			this.#reporter?.stop();
			this.postEvent({ type: 'worker-died', workerIndex: options.workerIndex, error: String(error?.message ?? error) });
		});
		this.#reporter = new LoadReporter(
			{
				workerIndex: options.workerIndex,
				cpuTimeMs: async () => {
					const usage = await worker.getResourceUsage();
					return usage.ru_utime + usage.ru_stime;
				},
				bitrates: () => this.#pipeBitrates(),
				counts: () => this.#counts(),
			},
			(report) => this.postEvent({ type: 'load-report', report }),
			options.loadReportIntervalMs,
		);
		this.#reporter.report();
		return { pid: worker.pid, workerIndex: options.workerIndex };
	}

	async createRouter(routerId: string, routerOptions: Record<string, Cloneable>): Promise<ObjectRef> {
		const router = await this.#requireWorker().createRouter(routerOptions as types.RouterOptions);
		const shard = new RouterShard(router.id, routerId, router);
		this.#shards.set(router.id, shard);
		const ref = this.#table.add({ kind: 'router', object: router as unknown as MediasoupObject, shardId: router.id });
		this.#reporter?.changed();
		return ref;
	}

	async createTransport(request: CreateTransportRequest): Promise<ObjectRef> {
		const shard = this.#requireShard(request.shardId);
		// Validated in the main thread; mediasoup validates again and its errors reach the caller.
		const options = (request.webRtcServerId === undefined
			? request.options
			: { ...request.options, webRtcServer: this.#requireWebRtcServer(request.webRtcServerId) }) as never;
		const create = TRANSPORT_FACTORIES[request.transportKind];
		if (!create) throw new TypeError(`unknown transportKind "${String(request.transportKind)}"`);
		const transport = await create.make(shard.router, options);
		shard.transports.add(transport.id);
		if (request.internalPipe) this.#pipeTransports.add(transport.id);
		if (request.placed) {
			shard.transportPlaced(transport.id);
			this.#placedTransports++;
		}
		const ref = this.#table.add({ kind: create.kind, object: transport as unknown as MediasoupObject, shardId: shard.shardId });
		this.#reporter?.changed();
		return ref;
	}

	async createRtpObserver(shardId: string, kind: ObserverKind, options: Record<string, Cloneable>): Promise<ObjectRef> {
		const shard = this.#requireShard(shardId);
		const observer =
			kind === 'audio-level'
				? await shard.router.createAudioLevelObserver(options as types.AudioLevelObserverOptions)
				: await shard.router.createActiveSpeakerObserver(options as types.ActiveSpeakerObserverOptions);
		return this.#table.add({
			kind: kind === 'audio-level' ? 'audio-level-observer' : 'active-speaker-observer',
			object: observer as unknown as MediasoupObject,
			shardId,
		});
	}

	async produce(request: ProduceRequest): Promise<ObjectRef> {
		const { entry, transport } = this.#transport(request.transportId);
		const producer = await transport.produce(request.options as unknown as types.ProducerOptions);
		this.#requireShard(entry.shardId).producers.add(producer.id);
		if (request.pipe) this.#pipeProducers.add(producer.id);
		return this.#addChild('producer', producer, entry, transport.id);
	}

	async consume(request: ConsumeRequest): Promise<ObjectRef> {
		const { entry, transport } = this.#transport(request.transportId);
		const consumer = await transport.consume(withJsonArguments(request.options) as unknown as types.ConsumerOptions);
		this.#requireShard(entry.shardId).consumerAdded(transport.id, consumer.id, this.#pipeTransports.has(transport.id));
		return this.#addChild('consumer', consumer, entry, transport.id);
	}

	async produceData(request: ProduceRequest): Promise<ObjectRef> {
		const { entry, transport } = this.#transport(request.transportId);
		const dataProducer = await transport.produceData(request.options as unknown as types.DataProducerOptions);
		return this.#addChild('data-producer', dataProducer, entry, transport.id);
	}

	async consumeData(request: ConsumeRequest): Promise<ObjectRef> {
		const { entry, transport } = this.#transport(request.transportId);
		const dataConsumer = await transport.consumeData(request.options as unknown as types.DataConsumerOptions);
		return this.#addChild('data-consumer', dataConsumer, entry, transport.id);
	}

	async createWebRtcServer(serverId: string, options: Record<string, Cloneable>): Promise<void> {
		if (this.#webRtcServers.has(serverId)) return;
		const server = await this.#requireWorker().createWebRtcServer(options as unknown as types.WebRtcServerOptions);
		this.#webRtcServers.set(serverId, server);
		server.observer.once('close', () => {
			if (this.#webRtcServers.get(serverId) === server) this.#webRtcServers.delete(serverId);
		});
	}

	async closeWebRtcServer(serverId: string): Promise<void> {
		this.#webRtcServers.get(serverId)?.close();
	}

	async dumpWebRtcServer(serverId: string): Promise<Cloneable> {
		return toCloneable(await this.#requireWebRtcServer(serverId).dump());
	}

	async call(request: CallRequest): Promise<CallResult> {
		return this.#table.call(request.objectId, request.method, request.args);
	}

	async canConsume(shardId: string, producerId: string, rtpCapabilities: Cloneable): Promise<boolean> {
		return this.#requireShard(shardId).router.canConsume({ producerId, rtpCapabilities: rtpCapabilities as types.RtpCapabilities });
	}

	async relay(request: RelayRequest): Promise<ObjectRef> {
		const shard = this.#requireShard(request.shardId);
		const existing = this.#relays.get(request.id);
		if (existing && !existing.producer.closed) {
			await existing.feed(request.producerId);
			return { id: existing.producer.id, kind: 'producer', snapshot: snapshotOf(this.#table.require(existing.producer.id)) };
		}
		const relay = await StreamRelay.open(shard.router, request.producerId, request.id);
		const producer = relay.producer;
		this.#relays.set(producer.id, relay);
		producer.observer.once('close', () => {
			if (this.#relays.get(producer.id) === relay) this.#relays.delete(producer.id);
		});
		shard.producers.add(producer.id);
		this.#pipeProducers.add(producer.id);
		const ref = this.#table.add({ kind: 'producer', object: producer as unknown as MediasoupObject, shardId: shard.shardId, transportId: relay.transportId });
		this.#reporter?.changed();
		return ref;
	}

	async getResourceUsage(): Promise<Cloneable> {
		return this.#requireWorker().getResourceUsage();
	}

	async dump(): Promise<Cloneable> {
		const worker = this.#requireWorker();
		const routers = await Promise.all([...this.#shards.values()].map(async (s) => ({ routerId: s.routerId, dump: await s.router.dump() })));
		return toCloneable({ worker: await worker.dump(), routers });
	}

	async close(): Promise<void> {
		this.#reporter?.stop();
		this.#reporter = undefined;
		const worker = this.#worker;
		if (!worker || worker.closed) return;
		// Wait for the subprocess to exit before answering: the supervisor then
		// terminates this thread, and a child still running at that moment is
		// never reaped (it stays a zombie of the app's process for good).
		const exited = worker.subprocessClosed
			? Promise.resolve()
			: new Promise<void>((resolve) => worker.once('subprocessclose', () => resolve()));
		worker.close();
		let timer: NodeJS.Timeout | undefined;
		await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)))]);
		clearTimeout(timer);
	}

	async crashForTest(): Promise<void> {
		// After the answer has left: replies go out in the check phase (actors/batched-port.ts), timers run after it.
		setTimeout(() => {
			throw new Error('mafalda test: worker host thread crash');
		}, 0);
	}

	async #pipeBitrates(): Promise<{ in: number; out: number }> {
		let bitsIn = 0;
		let bitsOut = 0;
		for (const id of this.#pipeTransports) {
			const transport = this.#table.get(id)?.object as unknown as types.PipeTransport | undefined;
			if (!transport || transport.closed) continue;
			const [stats] = await transport.getStats().catch(() => []);
			bitsIn += stats?.recvBitrate ?? 0;
			bitsOut += stats?.sendBitrate ?? 0;
		}
		return { in: bitsIn, out: bitsOut };
	}

	#counts(): Omit<LoadReport, 'workerIndex' | 'seq' | 'at' | 'cpuPercent' | 'bitrateIn' | 'bitrateOut'> {
		let transports = 0;
		let producers = 0;
		let consumers = 0;
		let pipeConsumers = 0;
		let idleTransports = 0;
		const shards = [];
		for (const shard of this.#shards.values()) {
			const load = shard.load();
			shards.push(load);
			transports += load.transports;
			producers += load.producers;
			consumers += load.consumers;
			pipeConsumers += load.pipeConsumers;
			idleTransports += shard.idleTransports();
		}
		return {
			routers: this.#shards.size,
			transports,
			producers,
			consumers,
			pipeConsumers,
			pipeTransports: this.#pipeTransports.size,
			pipeProducers: this.#pipeProducers.size,
			idleTransports,
			placedTransports: this.#placedTransports,
			shards,
		};
	}

	#removed(entry: TableEntry): void {
		const shard = this.#shards.get(entry.shardId);
		if (entry.kind === 'router') this.#shards.delete(entry.shardId);
		else if (TRANSPORT_KINDS.includes(entry.kind)) {
			shard?.transportRemoved(entry.object.id);
			this.#pipeTransports.delete(entry.object.id);
		} else if (entry.kind === 'producer') {
			shard?.producers.delete(entry.object.id);
			this.#pipeProducers.delete(entry.object.id);
		} else if (entry.kind === 'consumer') shard?.consumerRemoved(entry.transportId, entry.object.id);
		this.#reporter?.changed();
	}

	/** Tracks an object made on a transport (producer, consumer, data ones) and reports the new load. */
	#addChild(kind: RemoteKind, object: { id: string }, transportEntry: TableEntry, transportId: string): ObjectRef {
		const ref = this.#table.add({ kind, object: object as unknown as MediasoupObject, shardId: transportEntry.shardId, transportId });
		this.#reporter?.changed();
		return ref;
	}

	#requireWorker(): types.Worker {
		if (!this.#worker || this.#worker.closed) throw new Error(`worker ${this.#workerIndex} is not running`);
		return this.#worker;
	}

	#requireWebRtcServer(serverId: string): types.WebRtcServer {
		const server = this.#webRtcServers.get(serverId);
		if (!server || server.closed) throw new Error(`no WebRtcServer "${serverId}" on worker ${this.#workerIndex}`);
		return server;
	}

	#requireShard(shardId: string): RouterShard {
		const shard = this.#shards.get(shardId);
		if (!shard || shard.router.closed) throw new Error(`no router shard "${shardId}" on worker ${this.#workerIndex}`);
		return shard;
	}

	#transport(transportId: string): { entry: TableEntry; transport: types.Transport } {
		const entry = this.#table.require(transportId, TRANSPORT_KINDS);
		return { entry, transport: entry.object as unknown as types.Transport };
	}
}
