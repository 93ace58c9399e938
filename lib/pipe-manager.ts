import { randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import type { Watermarks } from '../actors/protocol';
import type { ShardRecord } from './shard-record';
import { singleFlight } from './single-flight';
import { UnknownProducerError } from './errors';
import type { RemoteObject } from './remote/RemoteObject';
import type { PipeTransport } from './remote/PipeTransport';
import type { PipeInfo } from './types';

/** A shard that carries a producer's stream: its own shard, or one fed by a pipe. */
interface Carrier {
	producerId: string;
	shard: ShardRecord;
	/** 0 for the producer's own shard, parent's depth + 1 for a piped one. */
	depth: number;
	/** For piped carriers: the pipe feeding it. */
	pipe?: Pipe;
	/**
	 * The id of the stream's producer on this shard. The producer's own id,
	 * except on a second shard of the same worker (another MafaldaRouter there):
	 * mediasoup ids are unique per worker, so that pipe producer gets a new one.
	 */
	localId: string;
}

interface Pipe {
	info: PipeInfo;
	source: Carrier;
	pipeConsumer: PipeEnd;
	pipeProducer: PipeEnd & { pause(): Promise<void>; resume(): Promise<void> };
	pair: TransportPair;
	/** Consumers, observers and child pipes that use the piped stream on the receiving shard. */
	users: number;
	closed: boolean;
}

interface TransportPair {
	key: string;
	/** Both ends encrypt (their transports answered with SRTP parameters). */
	srtp: boolean;
	ends: Map<string, PipeTransport>;
	pipes: number;
}

/** A pipe consumer or pipe producer: media or data, it closes and tells when it closed. */
type PipeEnd = RemoteObject;

/** What the pipe manager needs from its Mafalda instance. */
export interface PipeHost {
	readonly pipeListenIp: string;
	readonly pipeEnableSrtp: boolean;
	readonly pipeEnableSctp: boolean;
	/** What this manager pipes: media producers or data producers. */
	readonly stream: PipeInfo['stream'];
	/** The cluster node of a shard's worker (undefined: this process's own). */
	nodeOf(shard: ShardRecord): string | undefined;
	watermarks(shard: ShardRecord): Watermarks;
	/** Which worker should feed `destWorker` (the balancer's tree choice). */
	choosePipeSource(producerId: string, destWorker: number, watermarks: Watermarks): Promise<number>;
	streamAdded(routerId: string, producerId: string, workerIndex: number, depth: number): void;
	streamRemoved(producerId: string, workerIndex: number): void;
	createPipeTransport(shard: ShardRecord, options: Record<string, unknown>): Promise<PipeTransport>;
	/** Consumes the stream `producerId` on the source shard's pipe transport. */
	pipeConsume(transport: PipeTransport, producerId: string): Promise<PipeEnd>;
	/** Re-produces what `pipeConsumer` carries, with id `id`, on the destination shard's pipe transport. */
	pipeProduce(transport: PipeTransport, id: string, pipeConsumer: PipeEnd): Promise<Pipe['pipeProducer']>;
	/** The events of a pipe consumer that say its producer paused and resumed. */
	readonly pauseEvents: readonly [pause: string, resume: string];
	pipeOpened(info: PipeInfo): void;
	pipeClosed(info: PipeInfo): void;
}

/**
 * Pipes producers between router shards, as `router.pipeToRouter()` does
 * inside, but across threads (and, later, machines): a PipeTransport on each
 * shard, connected to each other, `consume` on the source, `produce` with the
 * same producer id on the destination. A producer is piped to a shard at most
 * once; the pipe lives while something on that shard uses it.
 */
export class PipeManager {
	readonly #carriers = new Map<string, Map<string, Carrier>>();
	readonly #opening = new Map<string, Promise<Carrier>>();
	readonly #pairs = new Map<string, Promise<TransportPair>>();
	/** Local producer id on some shard -> the app's producer id. */
	readonly #aliases = new Map<string, string>();

	constructor(private readonly host: PipeHost) {}

	/** A producer was created on `shard`: the root of its pipe tree. */
	addOrigin(producerId: string, shard: ShardRecord): void {
		this.#carriersOf(producerId).set(shard.shardId, { producerId, shard, depth: 0, localId: producerId });
		this.#aliases.set(producerId, producerId);
		this.host.streamAdded(shard.routerId, producerId, shard.workerIndex, 0);
	}

	/** The producer closed: forget its tree (the pipes close through their own events). */
	removeProducer(producerId: string): void {
		const carriers = this.#carriers.get(producerId);
		if (!carriers) return;
		for (const carrier of carriers.values()) {
			if (carrier.depth === 0) this.host.streamRemoved(producerId, carrier.shard.workerIndex);
		}
		for (const carrier of [...carriers.values()]) if (carrier.pipe) this.#closePipe(carrier.pipe);
		this.#carriers.delete(producerId);
		this.#aliases.delete(producerId);
	}

	/** Whether a producer with this id exists (on any shard of the Mafalda). */
	has(producerId: string): boolean {
		return (this.#carriers.get(producerId)?.size ?? 0) > 0;
	}

	/** The app's producer id for a producer id seen on a shard (see Carrier.localId). */
	publicId(localId: string): string | undefined {
		return this.#aliases.get(localId);
	}

	localIdOn(producerId: string, shardId: string): string | undefined {
		return this.#carriers.get(producerId)?.get(shardId)?.localId;
	}

	/** Whether the producer reaches this shard through a pipe (not the shard it was made on). */
	isPiped(producerId: string, shardId: string): boolean {
		return this.#carriers.get(producerId)?.get(shardId)?.pipe !== undefined;
	}

	isCarried(producerId: string, shardId: string): boolean {
		return this.#carriers.get(producerId)?.has(shardId) ?? false;
	}

	/** Number of open pipes (for stats and tests). */
	get pipeCount(): number {
		let n = 0;
		for (const carriers of this.#carriers.values()) for (const c of carriers.values()) if (c.pipe) n++;
		return n;
	}

	pipes(): PipeInfo[] {
		const out: PipeInfo[] = [];
		for (const carriers of this.#carriers.values()) for (const c of carriers.values()) if (c.pipe) out.push(c.pipe.info);
		return out;
	}

	/**
	 * Makes the producer's stream available on `shard`, piping it there if
	 * needed, and takes one use of it. Every acquire needs one release.
	 * Returns the producer's id on that shard.
	 */
	async acquire(producerId: string, shard: ShardRecord): Promise<string> {
		const carrier = await this.#ensure(producerId, shard);
		if (carrier.pipe) carrier.pipe.users++;
		return carrier.localId;
	}

	/**
	 * Makes a consumer of the stream on `shard` with `make` (given the
	 * producer's id there), holding one use of the stream for as long as the
	 * consumer lives, and none if making it fails.
	 */
	async consumeOn<T extends RemoteObject>(producerId: string, shard: ShardRecord, make: (localId: string) => Promise<T>): Promise<T> {
		const localId = await this.acquire(producerId, shard);
		let consumer: T;
		try {
			consumer = await make(localId);
		} catch (error) {
			this.release(producerId, shard.shardId);
			throw error;
		}
		consumer.onClosed(() => this.release(producerId, shard.shardId));
		return consumer;
	}

	release(producerId: string, shardId: string): void {
		const carrier = this.#carriers.get(producerId)?.get(shardId);
		const pipe = carrier?.pipe;
		if (!pipe || pipe.closed) return;
		pipe.users--;
		if (pipe.users <= 0) this.#closePipe(pipe);
	}

	async #ensure(producerId: string, shard: ShardRecord): Promise<Carrier> {
		const carriers = this.#carriers.get(producerId);
		if (!carriers || carriers.size === 0) throw new UnknownProducerError(producerId, 'this Mafalda instance');
		const existing = carriers.get(shard.shardId);
		if (existing) return existing;
		return singleFlight(this.#opening, `${producerId}@${shard.shardId}`, () => this.#open(producerId, shard));
	}

	async #open(producerId: string, dest: ShardRecord): Promise<Carrier> {
		const source = await this.#chooseSource(producerId, dest);
		// The source must outlive the opening: hold one use of it meanwhile.
		if (source.pipe) source.pipe.users++;
		try {
			const pair = await this.#pair(source.shard, dest);
			// Counted from now, so that a pipe closing meanwhile does not close the pair under us.
			pair.pipes++;
			let opened = false;
			try {
			const pipeConsumer = await this.host.pipeConsume(pair.ends.get(source.shard.shardId)!, source.localId);
			const sharesWorker = [...(this.#carriers.get(producerId)?.values() ?? [])].some((c) => c.shard.workerIndex === dest.workerIndex);
			// A node's shard is shared by every controller of the router, and another
			// controller may have piped the same stream there: a fresh id cannot collide.
			const localId = sharesWorker || this.host.nodeOf(dest) !== undefined ? randomUUID() : producerId;
			let pipeProducer: Pipe['pipeProducer'];
			try {
				pipeProducer = await this.host.pipeProduce(pair.ends.get(dest.shardId)!, localId, pipeConsumer);
			} catch (error) {
				pipeConsumer.close();
				throw error;
			}
			const info: PipeInfo = {
				stream: this.host.stream,
				producerId,
				fromShardId: source.shard.shardId,
				toShardId: dest.shardId,
				fromWorker: source.shard.workerIndex,
				toWorker: dest.workerIndex,
				depth: source.depth + 1,
				srtp: pair.srtp,
			};
			const [fromNode, toNode] = [this.host.nodeOf(source.shard), this.host.nodeOf(dest)];
			if (fromNode !== undefined) info.fromNode = fromNode;
			if (toNode !== undefined) info.toNode = toNode;
			const pipe: Pipe = { info, source, pipeConsumer, pipeProducer, pair, users: 0, closed: false };
			opened = true;
			// Pause, resume and close travel through the pipe as they would on one router.
			const [pauseEvent, resumeEvent] = this.host.pauseEvents;
			const events = pipeConsumer as unknown as { on(event: string, listener: () => void): void };
			events.on(pauseEvent, () => void pipeProducer.pause().catch(() => undefined));
			events.on(resumeEvent, () => void pipeProducer.resume().catch(() => undefined));
			pipeConsumer.onClosed(() => this.#closePipe(pipe));
			pipeProducer.onClosed(() => this.#closePipe(pipe));
			const carrier: Carrier = { producerId, shard: dest, depth: info.depth, pipe, localId };
			const carriers = this.#carriers.get(producerId);
			if (!carriers || pipeConsumer.closed || pipeProducer.closed) {
				// The producer or an end closed while we were opening.
				this.#closePipe(pipe);
				throw new UnknownProducerError(producerId, 'this Mafalda instance (it closed while being piped)');
			}
			carriers.set(dest.shardId, carrier);
			this.#aliases.set(localId, producerId);
			// A child pipe keeps its parent open.
			if (source.pipe) source.pipe.users++;
			this.host.streamAdded(dest.routerId, producerId, dest.workerIndex, info.depth);
			this.host.pipeOpened(info);
			return carrier;
			} finally {
				if (!opened) this.#unusePair(pair);
			}
		} finally {
			if (source.pipe) this.release(producerId, source.shard.shardId);
		}
	}

	async #chooseSource(producerId: string, dest: ShardRecord): Promise<Carrier> {
		const carriers = [...(this.#carriers.get(producerId)?.values() ?? [])];
		// Another router's shard on the same worker already has it: no need to ask the balancer.
		const sameWorker = carriers.filter((c) => c.shard.workerIndex === dest.workerIndex).sort((a, b) => a.depth - b.depth)[0];
		if (sameWorker) return sameWorker;
		const worker = await this.host.choosePipeSource(producerId, dest.workerIndex, this.host.watermarks(dest));
		const onWorker = carriers.filter((c) => c.shard.workerIndex === worker).sort((a, b) => a.depth - b.depth)[0];
		if (!onWorker) throw new UnknownProducerError(producerId, `worker ${worker}`);
		return onWorker;
	}

	/** One connected PipeTransport pair per pair of shards, shared by all pipes between them. */
	async #pair(a: ShardRecord, b: ShardRecord): Promise<TransportPair> {
		const key = [a.shardId, b.shardId].sort().join('|');
		let pair = this.#pairs.get(key);
		if (!pair) {
			pair = this.#openPair(key, a, b);
			this.#pairs.set(key, pair);
			pair.catch(() => this.#pairs.delete(key));
		}
		return pair;
	}

	async #openPair(key: string, a: ShardRecord, b: ShardRecord): Promise<TransportPair> {
		// Between machines the pipe crosses a network: SRTP on, whatever pipeEnableSrtp says for pipes inside one.
		// (A node replaces the listen address with its own.)
		const betweenMachines = this.host.nodeOf(a) !== this.host.nodeOf(b);
		const options = {
			listenInfo: { protocol: 'udp', ip: this.host.pipeListenIp },
			enableSrtp: this.host.pipeEnableSrtp || betweenMachines,
			// Data producers travel over SCTP; media pipes need none.
			enableSctp: this.host.pipeEnableSctp,
		};
		const [ta, tb] = await Promise.allSettled([this.host.createPipeTransport(a, options), this.host.createPipeTransport(b, options)]);
		if (ta.status === 'rejected' || tb.status === 'rejected') {
			if (ta.status === 'fulfilled') ta.value.close();
			if (tb.status === 'fulfilled') tb.value.close();
			throw ta.status === 'rejected' ? ta.reason : (tb as PromiseRejectedResult).reason;
		}
		const [endA, endB] = [ta.value, tb.value];
		const pair: TransportPair = {
			key,
			srtp: endA.srtpParameters !== undefined && endB.srtpParameters !== undefined,
			ends: new Map([[a.shardId, endA], [b.shardId, endB]]),
			pipes: 0,
		};
		const closeBoth = (): void => {
			if (this.#pairs.get(key) !== undefined) this.#pairs.delete(key);
			endA.close();
			endB.close();
		};
		endA.onClosed(closeBoth);
		endB.onClosed(closeBoth);
		try {
			await Promise.all([
				endA.connect({ ip: tupleIp(endB.tuple), port: endB.tuple.localPort, srtpParameters: endB.srtpParameters }),
				endB.connect({ ip: tupleIp(endA.tuple), port: endA.tuple.localPort, srtpParameters: endA.srtpParameters }),
			]);
		} catch (error) {
			closeBoth();
			throw error;
		}
		return pair;
	}

	#closePipe(pipe: Pipe): void {
		if (pipe.closed) return;
		pipe.closed = true;
		const carriers = this.#carriers.get(pipe.info.producerId);
		const carrier = carriers?.get(pipe.info.toShardId);
		if (carrier?.pipe === pipe) {
			carriers!.delete(pipe.info.toShardId);
			if (carrier.localId !== pipe.info.producerId) this.#aliases.delete(carrier.localId);
		}
		// Consumers on the receiving shard see 'producerclose' from mediasoup itself.
		pipe.pipeProducer.close();
		pipe.pipeConsumer.close();
		this.host.streamRemoved(pipe.info.producerId, pipe.info.toWorker);
		this.#unusePair(pipe.pair);
		if (pipe.source.pipe) this.release(pipe.info.producerId, pipe.source.shard.shardId);
		this.host.pipeClosed(pipe.info);
	}

	#unusePair(pair: TransportPair): void {
		pair.pipes--;
		if (pair.pipes > 0) return;
		this.#pairs.delete(pair.key);
		for (const end of pair.ends.values()) end.close();
	}

	/** A shard closed or its worker died: every pipe into or out of it is gone. */
	shardGone(shardId: string): void {
		for (const [producerId, carriers] of [...this.#carriers]) {
			const carrier = carriers.get(shardId);
			if (!carrier) continue;
			if (carrier.pipe) this.#closePipe(carrier.pipe);
			else {
				carriers.delete(shardId);
				this.host.streamRemoved(producerId, carrier.shard.workerIndex);
			}
			for (const other of [...carriers.values()]) if (other.pipe?.source === carrier) this.#closePipe(other.pipe);
			if (carriers.size === 0) this.#carriers.delete(producerId);
		}
	}

	#carriersOf(producerId: string): Map<string, Carrier> {
		let carriers = this.#carriers.get(producerId);
		if (!carriers) {
			carriers = new Map();
			this.#carriers.set(producerId, carriers);
		}
		return carriers;
	}
}

function tupleIp(tuple: types.TransportTuple): string {
	const t = tuple as types.TransportTuple & { localIp?: string; localAddress?: string };
	return t.localAddress ?? t.localIp ?? '127.0.0.1';
}
