import { EventEmitter } from 'eventemitter3';
import * as path from 'node:path';
import type { types } from 'mediasoup';
import type { ObjectRef, TransportKind, Watermarks } from '../actors/protocol';
import type { HostApi } from '../actors/supervisor/worker-handle';
import { CommonApi, CommonApiLevel } from './common-api';
import { InvalidArgumentError, MafaldaClosedError, ObjectClosedError, RouterClosedError, UnknownDataProducerError, UnknownProducerError, UnsupportedError } from './errors';
import { type RouterRtpCodecCapability, routerRtpCapabilitiesGenerator } from './mediasoup-compat';
import type { Mafalda } from './Mafalda';
import type { ResolvedRouterOptions } from './options';
import { type PipeEndpoint, pipeToRouter, type PipeToRouterOptions, type PipeToRouterResult, type PipeTransportPair } from './pipe-to-router';
import { mergeRouterDumps } from './router-dump';
import { Consumer } from './remote/Consumer';
import { DataConsumer } from './remote/DataConsumer';
import { DataProducer } from './remote/DataProducer';
import type { ProxyContext, RemoteObject } from './remote/RemoteObject';
import { Producer } from './remote/Producer';
import { Router } from './remote/Router';
import { ActiveSpeakerObserver } from './remote/ActiveSpeakerObserver';
import { AudioLevelObserver } from './remote/AudioLevelObserver';
import type { RtpObserver } from './remote/RtpObserver';
import { DirectTransport } from './remote/DirectTransport';
import { PipeTransport } from './remote/PipeTransport';
import { PlainTransport } from './remote/PlainTransport';
import { Transport } from './remote/Transport';
import { WebRtcServer } from './remote/WebRtcServer';
import { WebRtcTransport } from './remote/WebRtcTransport';
import type { TransportOwner } from './remote/Transport';
import type { Worker } from './remote/Worker';
import type { ShardRecord } from './shard-record';
import type { HostHandle } from '../actors/supervisor/worker-handle';
import { singleFlight } from './single-flight';
import type { AppData, ShardInfo, WebRtcTransportOptions } from './types';
import { plainClone } from '../actors/plain-clone';
import { checkListenInfo, forHost, optionalArray, optionalObject, requireObject, requireString } from './validate';

export interface MafaldaRouterEvents {
	close: [];
	/** Its Mafalda closed, which closed this router (mediasoup's Router says so when its Worker closes). */
	workerclose: [];
	error: [Error];
	/** A shard opened: its mediasoup Router (proxy) and Worker. */
	newrouter: [Router, Worker | undefined];
	workerdied: [{ workerIndex: number; error: string }];
}

export interface MafaldaRouterObserverEvents {
	close: [];
	newtransport: [Transport];
	newrtpobserver: [RtpObserver];
}

export interface PipeToMafaldaRouterOptions {
	producerId?: string;
	dataProducerId?: string;
	mafaldaRouter: MafaldaRouter;
}

export interface PipeToMafaldaRouterResult {
	pipeConsumer?: Consumer;
	pipeProducer?: Producer;
}

const TRANSPORT_CLASSES = {
	webrtc: WebRtcTransport,
	plain: PlainTransport,
	pipe: PipeTransport,
	direct: DirectTransport,
} as const;

/**
 * One logical mediasoup Router spread over router shards on several workers.
 * It is used like a mediasoup Router: mafalda places each new transport on a
 * shard with headroom and pipes producers to wherever they are consumed.
 */
export class MafaldaRouter extends CommonApiLevel<MafaldaRouterEvents> implements PipeEndpoint {
	readonly id: string;
	appData: AppData;
	readonly observer = new EventEmitter<MafaldaRouterObserverEvents>();
	readonly #mafalda: Mafalda;
	readonly #options: ResolvedRouterOptions;
	protected readonly commonApi: CommonApi;
	readonly #shards = new Map<number, ShardRecord>();
	readonly #opening = new Map<number, Promise<ShardRecord>>();
	/** Producers consumable here: made here, or piped in with pipeToMafaldaRouter. */
	readonly #producerIds = new Set<string>();
	readonly #dataProducers = new Map<string, DataProducer>();
	/** Producers of other controllers being looked up in the cluster's producer index. */
	readonly #adopting = new Map<string, Promise<void>>();
	#rtpCapabilities: types.RtpCapabilities | undefined;
	#closed = false;
	/** Closed because its Mafalda closed: calls then fail as on a closed mediasoup Worker's router. */
	#closedByWorker = false;
	/** What close() left running in the background: closing the shards on their hosts. */
	#teardown: Promise<void> = Promise.resolve();
	readonly #owner: TransportOwner;
	/** @internal PipeTransport pairs of pipeToRouter(), by the other router's id. */
	readonly pipeTransportPairs = new Map<string, Promise<PipeTransportPair>>();

	/** @internal Use mafalda.createMafaldaRouter(). */
	constructor(mafalda: Mafalda, options: ResolvedRouterOptions) {
		super();
		this.#mafalda = mafalda;
		this.#options = options;
		this.id = options.id;
		this.appData = options.appData;
		this.commonApi = new CommonApi(mafalda.common);
		this.#owner = {
			produce: (t, o) => this.#unlessClosed(this.#produce(t, o)),
			consume: (t, o) => this.#unlessClosed(this.#consume(t, o)),
			produceData: (t, o) => this.#unlessClosed(this.#produceData(t, o)),
			consumeData: (t, o) => this.#unlessClosed(this.#consumeData(t, o)),
		};
	}

	/**
	 * A call that fails because this router closed while it was under way
	 * (a shard or pipe went from under it) reports the close, not whatever
	 * the host said about the missing shard.
	 */
	async #unlessClosed<T>(work: Promise<T>): Promise<T> {
		try {
			return await work;
		} catch (error) {
			if (this.#closed && !(error instanceof InvalidArgumentError)) throw this.#closedError();
			throw error;
		}
	}

	get closed(): boolean {
		return this.#closed;
	}

	/** As mediasoup's private router.transportsForTesting: the app's open transports of this router. */
	get transportsForTesting(): Map<string, Transport> {
		return this.commonApi.transports;
	}

	/**
	 * The router's RTP capabilities; every shard has the same ones. A copy at
	 * each read, as mediasoup 3.27's getter gives: an app that changes it
	 * changes nothing of the router's.
	 */
	get rtpCapabilities(): types.RtpCapabilities {
		if (!this.#rtpCapabilities) throw this.#closedError();
		return plainClone(this.#rtpCapabilities);
	}

	/**
	 * mediasoup's router.updateMediaCodecs() (3.16.7 and later): synchronous, as
	 * there. The new capabilities are computed here by the mediasoup module's
	 * own ortc (which refuses bad codecs as mediasoup's Router does); every
	 * shard gets the same codecs in the background, ahead of any later call
	 * to it on the same channel, and shards opened later start with them.
	 */
	updateMediaCodecs(mediaCodecs: RouterRtpCodecCapability[]): void {
		this.#assertOpen();
		if (!Array.isArray(mediaCodecs)) throw new InvalidArgumentError('mediaCodecs', 'must be an array');
		const generate = routerRtpCapabilitiesGenerator(this.#mafalda.mediasoup);
		if (!generate) throw new UnsupportedError(`router.updateMediaCodecs() needs mediasoup 3.16.7 or later (this is ${this.#mafalda.mediasoup.version})`);
		this.#rtpCapabilities = generate(mediaCodecs);
		const codecs = structuredClone(mediaCodecs);
		this.#options.routerOptions = { ...this.#options.routerOptions, mediaCodecs: codecs };
		for (const shard of this.#shards.values()) {
			void shard.worker.call((host) => host.call({ objectId: shard.shardId, method: 'updateMediaCodecs', args: [codecs] })).catch(() => undefined);
		}
	}

	async getRtpCapabilities(): Promise<types.RtpCapabilities> {
		this.#assertOpen();
		if (!this.#rtpCapabilities) await this.#primaryShard();
		return this.rtpCapabilities;
	}

	/**
	 * mediasoup's router.dump(), over every shard: the app's transports, RTP
	 * observers, producers and consumers in mediasoup's shape, with the app's
	 * ids. mafalda's own pipes between shards are left out (mafaldaDump() shows them).
	 */
	async dump(): Promise<types.RouterDump> {
		this.#assertOpen();
		const shards = [...this.#shards.values()];
		const dumps = await Promise.all(
			shards.map(async (shard) => ({ workerIndex: shard.workerIndex, dump: (await shard.router.dump()) as types.RouterDump })),
		);
		return mergeRouterDumps(this.id, dumps, {
			isPublic: (workerIndex, id) => {
				const proxy = this.#mafalda.proxyOn(workerIndex, id);
				return proxy !== undefined && !proxy.internal;
			},
			producerId: (localId) => {
				const id = this.#mafalda.pipes.publicId(localId) ?? localId;
				return this.#producerIds.has(id) ? id : undefined;
			},
			dataProducerId: (localId) => {
				const id = this.#mafalda.dataPipes.publicId(localId) ?? localId;
				return this.#dataProducers.has(id) ? id : undefined;
			},
		});
	}

	/** mafalda's summary of this router (the Common API's dump at this level): its shards, producers, workers, transports. */
	async mafaldaDump(): Promise<Record<string, unknown>> {
		return {
			id: this.id,
			closed: this.#closed,
			shards: [...this.#shards.values()].map((s) => ({ shardId: s.shardId, workerIndex: s.workerIndex })),
			producerIds: [...this.#producerIds],
			...(await this.commonApi.dump()),
		};
	}

	/** @internal */
	get watermarks(): Watermarks {
		return { watermarkWorker: this.#options.watermarkWorker, maxConsumersPerWorker: this.#options.maxConsumersPerWorker };
	}

	/** @internal */
	get workerSettings(): Record<string, unknown> {
		return this.#options.workerSettings;
	}

	/** Shards by worker index (for stats and tests): plain data, a copy. */
	shards(): ReadonlyMap<number, ShardInfo> {
		return new Map([...this.#shards].map(([index, s]) => [index, { routerId: s.routerId, shardId: s.shardId, workerIndex: s.workerIndex }]));
	}

	/** Plain data for JSON.stringify (the router holds its Mafalda, whose objects refer back to it). */
	toJSON(): { id: string; closed: boolean; shards: ShardInfo[] } {
		return { id: this.id, closed: this.#closed, shards: [...this.shards().values()] };
	}

	/** @internal */
	shardCount(): number {
		return this.#shards.size;
	}

	/** @internal */
	hasShardOn(workerIndex: number): boolean {
		return this.#shards.has(workerIndex);
	}

	/** @internal */
	ownsShard(shardId: string): boolean {
		for (const shard of this.#shards.values()) if (shard.shardId === shardId) return true;
		return false;
	}

	/** @internal Opens the first shard, which also gives the RTP capabilities. */
	async open(): Promise<void> {
		await this.#primaryShard();
	}

	/**
	 * Whether a consumer with these capabilities can consume the producer, as
	 * mediasoup's router.canConsume(). Synchronous, like mediasoup's: it uses the
	 * producer's consumable parameters held in this thread.
	 */
	canConsume(options: { producerId: string; rtpCapabilities: types.RtpCapabilities }): boolean {
		// Not destructured in the signature: a missing argument must say so, not fail to destructure.
		const o = requireObject(options, 'options');
		const producerId = requireString(o.producerId, 'producerId');
		const rtpCapabilities = requireObject(o.rtpCapabilities, 'rtpCapabilities') as types.RtpCapabilities;
		const producer = this.#mafalda.producers.get(producerId)?.producer as Producer | undefined;
		if (!producer || !this.#producerIds.has(producerId)) return false;
		// Cloned first, as mediasoup does: ortc fills in defaults (parameters,
		// rtcpFeedback), which must not land in the app's object or fail on a frozen one.
		return canConsumeParameters(this.#mafalda, producer.consumableRtpParameters, structuredClone(rtpCapabilities));
	}

	async createWebRtcTransport(options: WebRtcTransportOptions): Promise<WebRtcTransport> {
		const o = requireObject(options, 'options');
		if (o.webRtcServer !== undefined) {
			const { webRtcServer: server, ...rest } = o;
			if (!(server instanceof WebRtcServer) || this.#mafalda.webRtcServers.get(server.id) !== server) {
				throw new InvalidArgumentError('options.webRtcServer', 'must be an open WebRtcServer of this Mafalda (mafalda.createWebRtcServer())');
			}
			// As mediasoup, the server's listen infos win over any given here.
			const transport = (await this.#createTransport('webrtc', rest, server)) as WebRtcTransport;
			if (server.closed) transport.markClosed('listenserverclose');
			else server.handleTransport(transport);
			return transport;
		}
		if (o.listenInfos === undefined && o.listenIps === undefined) {
			throw new InvalidArgumentError('options.listenInfos', 'is required (or the older listenIps, or webRtcServer)');
		}
		if (o.listenInfos !== undefined) {
			const infos = optionalArray(o.listenInfos, 'options.listenInfos') ?? [];
			infos.forEach((info, i) => checkListenInfo(info, `options.listenInfos[${i}]`));
		}
		return (await this.#createTransport('webrtc', o)) as WebRtcTransport;
	}

	async createPlainTransport(options: types.PlainTransportOptions): Promise<PlainTransport> {
		return (await this.#createTransport('plain', withListenInfo(options))) as PlainTransport;
	}

	async createPipeTransport(options: types.PipeTransportOptions): Promise<PipeTransport> {
		return (await this.#createTransport('pipe', withListenInfo(options))) as PipeTransport;
	}

	async createDirectTransport(options: Partial<types.DirectTransportOptions> = {}): Promise<DirectTransport> {
		return (await this.#createTransport('direct', requireObject(options, 'options'))) as DirectTransport;
	}

	async createAudioLevelObserver(options: types.AudioLevelObserverOptions = {}): Promise<AudioLevelObserver> {
		return this.#createRtpObserver('audio-level', requireObject(options, 'options'));
	}

	async createActiveSpeakerObserver(options: types.ActiveSpeakerObserverOptions = {}): Promise<ActiveSpeakerObserver> {
		return this.#createRtpObserver('active-speaker', requireObject(options, 'options'));
	}

	/**
	 * mediasoup's router.pipeToRouter(): pipes a producer or data producer of
	 * this router to another MafaldaRouter, of another Mafalda (with
	 * `keepId: false`, of the same one too), through a PipeTransport pair that
	 * both routers show, and returns the pipe ends as mediasoup does.
	 */
	async pipeToRouter(options: PipeToRouterOptions): Promise<PipeToRouterResult> {
		this.#assertOpen();
		return pipeToRouter(this, options);
	}

	/** @internal For pipeToRouter(): ids are unique within one Mafalda. */
	get idSpace(): object {
		return this.#mafalda;
	}

	/** @internal */
	producerById(id: string): Producer | undefined {
		if (!this.#producerIds.has(id)) return undefined;
		return this.#mafalda.producers.get(id)?.producer as Producer | undefined;
	}

	/** @internal */
	dataProducerById(id: string): DataProducer | undefined {
		return this.#dataProducers.get(id);
	}

	/**
	 * Makes a producer of this router consumable in another MafaldaRouter of the
	 * same Mafalda, without a pipe of its own: the two routers share it.
	 */
	async pipeToMafaldaRouter(options: PipeToMafaldaRouterOptions): Promise<PipeToMafaldaRouterResult> {
		const o = requireObject(options, 'options');
		this.#assertOpen();
		const target = o.mafaldaRouter;
		if (!(target instanceof MafaldaRouter)) throw new InvalidArgumentError('options.mafaldaRouter', 'must be a MafaldaRouter');
		if (target === this) throw new InvalidArgumentError('options.mafaldaRouter', 'cannot be the same MafaldaRouter');
		if (o.dataProducerId !== undefined) {
			throw new InvalidArgumentError('options.dataProducerId', 'is not supported yet: data producers are piped between the shards of one MafaldaRouter only');
		}
		const producerId = requireString(o.producerId, 'options.producerId');
		if (!this.#producerIds.has(producerId)) throw new UnknownProducerError(producerId, `MafaldaRouter "${this.id}"`);
		return target.acceptPipedProducer(producerId);
	}

	/** @internal The receiving side of pipeToMafaldaRouter. */
	async acceptPipedProducer(producerId: string): Promise<PipeToMafaldaRouterResult> {
		this.#assertOpen();
		const record = this.#mafalda.producers.get(producerId);
		if (!record) throw new UnknownProducerError(producerId, 'this Mafalda instance');
		if (this.#producerIds.has(producerId)) return {};
		const origin = record.producer.workerIndex;
		const shard = this.#shards.get(origin) ?? (await this.#primaryShard());
		await this.#mafalda.pipes.acquire(producerId, shard);
		this.#producerIds.add(producerId);
		// The pipe is held until the producer or this router closes.
		record.producer.onClosed(() => this.#producerIds.delete(producerId));
		this.once('close', () => this.#mafalda.pipes.release(producerId, shard.shardId));
		return {};
	}

	/**
	 * Closes the router, synchronously as mediasoup's: it and everything on it
	 * are closed when this returns (observer 'close' included); the shards'
	 * mediasoup Routers are closed on their hosts in the background.
	 */
	close(): void {
		this.#closeNow(false);
	}

	/** @internal Its Mafalda is closing: closed as a mediasoup Router whose Worker closed ('workerclose'). */
	workerClosed(): void {
		this.#closeNow(true);
	}

	/** @internal Settles when the shards of a closed router are gone from their hosts. */
	tornDown(): Promise<void> {
		return this.#teardown;
	}

	#closeNow(byWorker: boolean): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#closedByWorker = byWorker;
		const shards = [...this.#shards.values()];
		this.#shards.clear();
		for (const transport of [...this.commonApi.transports.values()]) transport.markClosed('routerclose');
		for (const observer of [...this.commonApi.rtpObservers.values()]) observer.markClosed('routerclose');
		for (const shard of shards) {
			this.#mafalda.shardGone(shard.shardId);
			shard.router.markClosed('close');
		}
		this.#teardown = this.#closeShards(shards);
		if (byWorker) this.emit('workerclose');
		this.emit('close');
		this.observer.emit('close');
	}

	async #closeShards(shards: ShardRecord[]): Promise<void> {
		await Promise.all(
			shards.map(async (shard) => {
				await shard.worker.call((host) => host.call({ objectId: shard.shardId, method: 'close', args: [] })).catch(() => undefined);
				this.#mafalda.emit('shardclosed', { routerId: this.id, shardId: shard.shardId, workerIndex: shard.workerIndex });
			}),
		);
		// Bookkeeping only: when the whole Mafalda is closing, the balancer may be gone already.
		await Promise.resolve()
			.then(() => this.#mafalda.supervisor().balancer.routerClosed(this.id))
			.catch(() => undefined);
	}

	/** @internal A worker died: forget its shard; the next placements open a new one elsewhere. */
	workerDied(workerIndex: number, error: string): void {
		const shard = this.#shards.get(workerIndex);
		if (!shard) return;
		this.#shards.delete(workerIndex);
		this.#opening.delete(workerIndex);
		this.commonApi.workers.delete(String(workerIndex));
		this.#mafalda.shardGone(shard.shardId);
		this.#mafalda.emit('shardclosed', { routerId: this.id, shardId: shard.shardId, workerIndex });
		this.emit('workerdied', { workerIndex, error });
	}

	// -------------------------------------------------------------------------
	// Internals used by the pipe manager

	/** @internal */
	async createInternalPipeTransport(shard: ShardRecord, options: Record<string, unknown>): Promise<PipeTransport> {
		const ref = await shard.worker.call((host) =>
			host.createTransport({ shardId: shard.shardId, transportKind: 'pipe', options, placed: false, internalPipe: true }),
		);
		const transport = new PipeTransport(this.#mafalda.proxyContext(shard), ref, {}, true);
		transport.owner = this.#owner;
		this.#mafalda.register(transport);
		return transport;
	}

	/** @internal */
	async pipeConsume(transport: PipeTransport, producerId: string, paused = false): Promise<Consumer> {
		return this.#pipeEnd(transport, Consumer, (host) => host.consume({ transportId: transport.id, options: { producerId, paused }, pipe: true }));
	}

	/** @internal Re-produces, on this side of a pipe, what a pipe consumer on the other side carries. */
	async pipeProduce(transport: PipeTransport, id: string, from: RemoteObject): Promise<Producer> {
		const pipeConsumer = from as Consumer;
		const options = { id, kind: pipeConsumer.kind, rtpParameters: pipeConsumer.rtpParameters, paused: pipeConsumer.producerPaused };
		return this.#pipeEnd(transport, Producer, (host) => host.produce({ transportId: transport.id, options, pipe: true }));
	}

	/** @internal Makes relay producer `id` on the shard, fed by its producer `producerId`, or feeds it from there (StreamRelay). */
	async relayProducer(shard: ShardRecord, producerId: string, id: string): Promise<Producer> {
		const ref = await shard.worker.call((host) => host.relay({ shardId: shard.shardId, producerId, id }));
		const known = this.#mafalda.proxyOn(shard.workerIndex, ref.id);
		if (known instanceof Producer && !known.closed) return known;
		// Its transport is the relay's own, in the host: the proxy belongs to no transport proxy.
		const producer = new Producer(this.#mafalda.proxyContext(shard), ref, {}, true);
		this.#mafalda.register(producer);
		return producer;
	}

	/**
	 * @internal A shard of this router on a cluster node none of `avoidNodes`,
	 * for a stream to go around a partition: one it has, else one it opens
	 * there (within maxWorkers), on the first such node able to take it.
	 */
	async transitShard(avoidNodes: ReadonlySet<string>): Promise<ShardRecord | undefined> {
		const fits = (worker: HostHandle): boolean => worker.alive && worker.nodeId !== undefined && !avoidNodes.has(worker.nodeId);
		for (const shard of this.#shards.values()) if (fits(shard.worker)) return shard;
		if (this.#closed || (this.#options.maxWorkers > 0 && this.#shards.size >= this.#options.maxWorkers)) return undefined;
		const handle = this.#mafalda.cluster?.placeable().find(fits);
		return handle ? this.#shardOn(handle.index) : undefined;
	}

	/** @internal */
	async pipeConsumeData(transport: PipeTransport, dataProducerId: string): Promise<DataConsumer> {
		return this.#pipeEnd(transport, DataConsumer, (host) =>
			host.consumeData({ transportId: transport.id, options: { dataProducerId }, pipe: true }),
		);
	}

	/** @internal As pipeProduce, for a data producer (what router.pipeToRouter({ dataProducerId }) does). */
	async pipeProduceData(transport: PipeTransport, id: string, from: RemoteObject): Promise<DataProducer> {
		const pipeConsumer = from as DataConsumer;
		const options = {
			id,
			sctpStreamParameters: pipeConsumer.sctpStreamParameters,
			label: pipeConsumer.label,
			protocol: pipeConsumer.protocol,
			paused: pipeConsumer.dataProducerPaused,
		};
		return this.#pipeEnd(transport, DataProducer, (host) => host.produceData({ transportId: transport.id, options, pipe: true }));
	}

	/** One end of a mafalda pipe: made by `request` on the transport's host, internal, owned by the transport. */
	async #pipeEnd<T extends RemoteObject>(
		transport: PipeTransport,
		Proxy: new (ctx: ProxyContext, ref: ObjectRef, appData: AppData, internal: boolean) => T,
		request: (host: HostApi) => Promise<ObjectRef>,
	): Promise<T> {
		const shard = this.#shardOf(transport);
		const ref = await shard.worker.call(request);
		return this.#adopt(transport, new Proxy(this.#mafalda.proxyContext(shard), ref, {}, true));
	}

	// -------------------------------------------------------------------------

	/** A closed Mafalda's MafaldaClosedError (mediasoup 3.21+: a WorkerClosedError), else RouterClosedError (3.21+: a NotFoundError). */
	#closedError(): Error {
		return this.#closedByWorker ? new MafaldaClosedError() : new RouterClosedError(this.id);
	}

	#assertOpen(): void {
		if (this.#closed) throw this.#closedError();
	}

	#adopt<T extends RemoteObject>(transport: Transport, child: T): T {
		this.#mafalda.register(child);
		transport.adopt(child);
		// The transport closed while the child was being made: it goes with it.
		if (transport.closed) child.markClosed('transportclose');
		return child;
	}

	#shardOf(object: RemoteObject): ShardRecord {
		const shard = this.#shards.get(object.workerIndex);
		if (!shard || shard.shardId !== object.shardId) throw this.#closedError();
		return shard;
	}

	async #primaryShard(): Promise<ShardRecord> {
		const first = this.#shards.values().next();
		if (!first.done) return first.value;
		const handle = await this.#mafalda.anyWorker(this.#options.workerSettings, this.id);
		return this.#shardOn(handle.index);
	}

	/** The shard on a worker, opening it on first use (once, however many callers). */
	async #shardOn(workerIndex: number): Promise<ShardRecord> {
		const existing = this.#shards.get(workerIndex);
		if (existing) return existing;
		return singleFlight(this.#opening, workerIndex, () => this.#openShard(workerIndex));
	}

	async #openShard(workerIndex: number): Promise<ShardRecord> {
		this.#assertOpen();
		const worker = this.#mafalda.workerHandle(workerIndex);
		if (!worker) throw this.#closedError();
		const ref = await worker.call((host) => host.createRouter(this.id, this.#options.routerOptions));
		const router = new Router(this.id, { worker, shardId: ref.id, resolve: (id) => this.#mafalda.resolve(workerIndex, id), mafaldaClosed: () => this.#mafalda.closed }, ref, {});
		const shard: ShardRecord = { shardId: ref.id, routerId: this.id, workerIndex, worker, router };
		this.#mafalda.register(router);
		if (this.#closed || !worker.alive) {
			await worker.call((host) => host.call({ objectId: ref.id, method: 'close', args: [] })).catch(() => undefined);
			throw this.#closedError();
		}
		this.#shards.set(workerIndex, shard);
		// The app can reach a shard's router (router.routers) and close it. Then
		// forget the shard, as when its worker dies, so that later placements
		// open a new one instead of failing on a router that is gone. (Closes by
		// this MafaldaRouter or by a worker's death have their own clean-up.)
		router.onClosed((reason) => {
			if (reason !== 'close' || this.#shards.get(workerIndex) !== shard) return;
			this.#shards.delete(workerIndex);
			this.#mafalda.shardGone(shard.shardId);
			void Promise.resolve()
				.then(() => this.#mafalda.supervisor().balancer.shardClosed(this.id, workerIndex))
				.catch(() => undefined);
			this.#mafalda.emit('shardclosed', { routerId: this.id, shardId: shard.shardId, workerIndex });
		});
		this.#rtpCapabilities ??= router.rtpCapabilities;
		this.commonApi.addRouter(router);
		const remoteWorker = this.#mafalda.remoteWorker(workerIndex);
		if (remoteWorker) this.commonApi.workers.set(remoteWorker.id, remoteWorker);
		await this.#mafalda.supervisor().balancer.shardOpened(this.id, workerIndex);
		this.#mafalda.emit('shardopened', { routerId: this.id, shardId: shard.shardId, workerIndex });
		this.emit('newrouter', router, remoteWorker);
		remoteWorker?.observer.emit('newrouter', router);
		return shard;
	}

	async #createTransport(kind: TransportKind, options: Record<string, unknown>, webRtcServer?: WebRtcServer): Promise<Transport> {
		this.#assertOpen();
		const appData = optionalObject(options.appData, 'options.appData') as AppData | undefined;
		const placement = await this.#mafalda.place(this, {
			routerId: this.id,
			maxWorkers: this.#options.maxWorkers,
			...this.watermarks,
			// A transport through a WebRtcServer goes only where that server listens.
			...(webRtcServer ? { excludeWorkers: this.#mafalda.workersWithout(webRtcServer) } : {}),
		}, webRtcServer && ((workerIndex) => webRtcServer.runsOn(workerIndex)));
		let ref: ObjectRef;
		let shard: ShardRecord;
		try {
			shard = await this.#shardOn(placement.workerIndex);
			const worker = shard.worker;
			const shardId = shard.shardId;
			const webRtcServerId = webRtcServer?.id;
			ref = await worker.call((host) => host.createTransport({ shardId, transportKind: kind, options: forHost(options), placed: true, webRtcServerId }));
		} catch (error) {
			await Promise.resolve()
				.then(() => this.#mafalda.supervisor().balancer.releasePlacement(placement.workerIndex))
				.catch(() => undefined);
			// The router closed while the transport was being made: its shard is
			// gone, and "closed" says that better than the host's "no router shard".
			if (this.#closed) throw this.#closedError();
			throw error;
		}
		const transport = new TRANSPORT_CLASSES[kind](this.#mafalda.proxyContext(shard), ref, appData);
		transport.owner = this.#owner;
		this.#mafalda.register(transport);
		if (this.#closed) {
			transport.close();
			throw this.#closedError();
		}
		this.commonApi.addTransport(transport);
		this.observer.emit('newtransport', transport);
		// The shard's own Router tells it too, for consoles that walk worker -> router -> transport.
		shard.router.observer.emit('newtransport', transport);
		return transport;
	}

	async #createRtpObserver(kind: 'audio-level' | 'active-speaker', options: Record<string, unknown>): Promise<RtpObserver> {
		this.#assertOpen();
		const appData = optionalObject(options.appData, 'options.appData') as AppData | undefined;
		const shard = await this.#primaryShard();
		const ref = await shard.worker.call((host) => host.createRtpObserver(shard.shardId, kind, forHost(options)));
		const Observer = kind === 'audio-level' ? AudioLevelObserver : ActiveSpeakerObserver;
		const observer = new Observer(this.#mafalda.proxyContext(shard), ref, appData);
		this.#mafalda.register(observer);
		observer.owner = {
			addProducer: async (o, producerId) => {
				requireString(producerId, 'producerId');
				if (o.closed) throw new ObjectClosedError(o.remoteKind, o.id);
				if (!this.#producerIds.has(producerId)) throw new UnknownProducerError(producerId, `MafaldaRouter "${this.id}"`);
				if (o.producerIds.has(producerId)) return;
				const localId = await this.#mafalda.pipes.acquire(producerId, shard);
				try {
					await o.callProducerMethod('addProducer', localId);
				} catch (error) {
					this.#mafalda.pipes.release(producerId, shard.shardId);
					throw error;
				}
				o.producerIds.add(producerId);
			},
			removeProducer: async (o, producerId) => {
				requireString(producerId, 'producerId');
				// As mediasoup: a closed observer or an unknown producer is an error; a known one not added is not.
				if (o.closed) throw new ObjectClosedError(o.remoteKind, o.id);
				if (!o.producerIds.has(producerId) && !this.#producerIds.has(producerId)) {
					throw new UnknownProducerError(producerId, `MafaldaRouter "${this.id}"`);
				}
				if (!o.producerIds.delete(producerId)) return;
				const localId = this.#mafalda.pipes.localIdOn(producerId, shard.shardId) ?? producerId;
				await o.callProducerMethod('removeProducer', localId).catch(() => undefined);
				this.#mafalda.pipes.release(producerId, shard.shardId);
			},
		};
		observer.onClosed(() => {
			for (const producerId of observer.producerIds) this.#mafalda.pipes.release(producerId, shard.shardId);
			observer.producerIds.clear();
		});
		this.commonApi.addRtpObserver(observer);
		this.observer.emit('newrtpobserver', observer);
		shard.router.observer.emit('newrtpobserver', observer);
		return observer;
	}

	async #produce(transport: Transport, options: types.ProducerOptions): Promise<Producer> {
		this.#assertOpen();
		const o = requireObject(options, 'options');
		if (o.kind !== 'audio' && o.kind !== 'video') throw new InvalidArgumentError('options.kind', 'must be "audio" or "video"');
		requireObject(o.rtpParameters, 'options.rtpParameters');
		// A pipe producer of pipeToRouter() keeps its producer's id, as in mediasoup.
		if (o.id !== undefined && this.#mafalda.pipes.has(requireString(o.id, 'options.id'))) {
			throw new InvalidArgumentError('options.id', `"${String(o.id)}" is already the id of a producer`);
		}
		const appData = optionalObject(o.appData, 'options.appData') as AppData | undefined;
		const shard = this.#shardOf(transport);
		const ref = await shard.worker.call((host) => host.produce({ transportId: transport.id, options: forHost(o) }));
		const producer = this.#adopt(transport, new Producer(this.#mafalda.proxyContext(shard), ref, appData));
		if (producer.closed) throw new ObjectClosedError('transport', transport.id);
		this.#producerIds.add(producer.id);
		this.#mafalda.producers.set(producer.id, { producer, router: this });
		this.#mafalda.pipes.addOrigin(producer.id, shard);
		producer.onClosed(() => {
			this.#producerIds.delete(producer.id);
			this.#mafalda.producers.delete(producer.id);
			this.#mafalda.pipes.removeProducer(producer.id);
		});
		transport.observer.emit('newproducer', producer);
		return producer;
	}

	async #consume(transport: Transport, options: types.ConsumerOptions): Promise<Consumer> {
		this.#assertOpen();
		const o = requireObject(options, 'options');
		const producerId = requireString(o.producerId, 'options.producerId');
		const isPipe = transport instanceof PipeTransport;
		if (!isPipe) requireObject(o.rtpCapabilities, 'options.rtpCapabilities');
		const appData = optionalObject(o.appData, 'options.appData') as AppData | undefined;
		if (!this.#producerIds.has(producerId)) await this.#adoptClusterProducer(producerId);
		const shard = this.#shardOf(transport);
		const consumer = await this.#mafalda.pipes.consumeOn(producerId, shard, async (localId) => {
			const ref = await shard.worker.call((host) => host.consume({ transportId: transport.id, options: { ...forHost(o), producerId: localId } }));
			return new Consumer(this.#mafalda.proxyContext(shard), ref, appData);
		});
		consumer.publicProducerId = producerId;
		// Fed by a pipe: the producer it consumes there is mafalda's copy, with other SSRCs.
		if (this.#mafalda.pipes.isPiped(producerId, shard.shardId)) consumer.publicProducer = this.producerById(producerId);
		this.#adopt(transport, consumer);
		transport.observer.emit('newconsumer', consumer);
		return consumer;
	}

	/**
	 * A router id is cluster-wide: a producer made through another controller
	 * of this router is found in the cluster's producer index, its shard (on
	 * its node, shared by every controller of the router) joined, and its
	 * stream rooted there, so it pipes from there like one of ours.
	 */
	#adoptClusterProducer(producerId: string): Promise<void> {
		return singleFlight(this.#adopting, producerId, () => this.#adoptProducer(producerId));
	}

	async #adoptProducer(producerId: string): Promise<void> {
		const cluster = this.#mafalda.cluster;
		const entry = cluster ? await cluster.findProducer(producerId) : undefined;
		if (!cluster || !entry || entry.routerId !== this.id) throw new UnknownProducerError(producerId, `MafaldaRouter "${this.id}"`);
		const index = cluster.globalIndex(entry.nodeId, entry.worker);
		if (index === undefined) throw new UnknownProducerError(producerId, `MafaldaRouter "${this.id}" (its node ${entry.nodeId} is not connected)`);
		const shard = await this.#shardOn(index);
		if (shard.shardId !== entry.shardId) throw new UnknownProducerError(producerId, `MafaldaRouter "${this.id}" (its shard is gone)`);
		if (this.#producerIds.has(producerId)) return;
		const producer = new Producer(this.#mafalda.proxyContext(shard), entry.ref, {}, true);
		this.#mafalda.register(producer);
		this.#producerIds.add(producerId);
		this.#mafalda.producers.set(producerId, { producer, router: this });
		this.#mafalda.pipes.addOrigin(producerId, shard);
		producer.onClosed(() => {
			this.#producerIds.delete(producerId);
			if (this.#mafalda.producers.get(producerId)?.producer === producer) this.#mafalda.producers.delete(producerId);
			this.#mafalda.pipes.removeProducer(producerId);
		});
	}

	async #produceData(transport: Transport, options: types.DataProducerOptions): Promise<DataProducer> {
		this.#assertOpen();
		const o = requireObject(options, 'options');
		const appData = optionalObject(o.appData, 'options.appData') as AppData | undefined;
		if (o.id !== undefined && this.#mafalda.dataPipes.has(requireString(o.id, 'options.id'))) {
			throw new InvalidArgumentError('options.id', `"${String(o.id)}" is already the id of a data producer`);
		}
		const shard = this.#shardOf(transport);
		const ref = await shard.worker.call((host) => host.produceData({ transportId: transport.id, options: forHost(o) }));
		const dataProducer = this.#adopt(transport, new DataProducer(this.#mafalda.proxyContext(shard), ref, appData));
		this.#dataProducers.set(dataProducer.id, dataProducer);
		this.#mafalda.dataPipes.addOrigin(dataProducer.id, shard);
		dataProducer.onClosed(() => {
			this.#dataProducers.delete(dataProducer.id);
			this.#mafalda.dataPipes.removeProducer(dataProducer.id);
		});
		transport.observer.emit('newdataproducer', dataProducer);
		return dataProducer;
	}

	async #consumeData(transport: Transport, options: types.DataConsumerOptions): Promise<DataConsumer> {
		this.#assertOpen();
		const o = requireObject(options, 'options');
		const dataProducerId = requireString(o.dataProducerId, 'options.dataProducerId');
		const appData = optionalObject(o.appData, 'options.appData') as AppData | undefined;
		const dataProducer = this.#dataProducers.get(dataProducerId);
		if (!dataProducer) throw new UnknownDataProducerError(dataProducerId, `MafaldaRouter "${this.id}"`);
		const shard = this.#shardOf(transport);
		// A data producer of another shard is piped here first, as media producers are.
		const dataConsumer = await this.#mafalda.dataPipes.consumeOn(dataProducerId, shard, async (localId) => {
			const ref = await shard.worker.call((host) =>
				host.consumeData({ transportId: transport.id, options: { ...forHost(o), dataProducerId: localId } }),
			);
			return new DataConsumer(this.#mafalda.proxyContext(shard), ref, appData);
		});
		dataConsumer.publicDataProducerId = dataProducerId;
		this.#adopt(transport, dataConsumer);
		transport.observer.emit('newdataconsumer', dataConsumer);
		return dataConsumer;
	}
}

/** Plain and pipe transports listen on one address: `listenInfo` (or mediasoup's older `listenIp`). */
function withListenInfo(options: unknown): Record<string, unknown> {
	const o = requireObject(options, 'options');
	if (o.listenInfo === undefined && o.listenIp === undefined) {
		throw new InvalidArgumentError('options.listenInfo', 'is required (or the older listenIp)');
	}
	if (o.listenInfo !== undefined) checkListenInfo(o.listenInfo, 'options.listenInfo');
	return o;
}

type OrtcModule = { canConsume(params: types.RtpParameters, caps: types.RtpCapabilities): boolean };
const ortcCache = new WeakMap<object, OrtcModule | null>();

/** mediasoup's own matching rules (its ortc module), loaded from the app's mediasoup package. */
function canConsumeParameters(mafalda: Mafalda, params: types.RtpParameters, caps: types.RtpCapabilities): boolean {
	let ortc = ortcCache.get(mafalda);
	if (ortc === undefined) {
		try {
			// eslint-disable-next-line @typescript-eslint/no-require-imports
			ortc = require(path.join(mafalda.mediasoupEntryDir, 'ortc.js')) as OrtcModule;
		} catch {
			ortc = null;
		}
		ortcCache.set(mafalda, ortc);
	}
	if (ortc) {
		try {
			return ortc.canConsume(params, caps);
		} catch {
			return false;
		}
	}
	// Without mediasoup's module: a codec with the same MIME type and clock rate is enough.
	return (params.codecs ?? []).some(
		(c) => !/\/(rtx)$/i.test(c.mimeType) && (caps.codecs ?? []).some((k) => k.mimeType.toLowerCase() === c.mimeType.toLowerCase() && k.clockRate === c.clockRate),
	);
}
