import { randomUUID } from 'node:crypto';
import type { types } from 'mediasoup';
import type { Watermarks } from '../actors/protocol';
import type { ShardRecord } from './shard-record';
import { singleFlight } from './single-flight';
import { PipeUnreachableError, UnknownProducerError } from './errors';
import { type EndCounters, PairHealth, PIPE_DEAD_CHECKS } from './pipe-health';
import type { RemoteObject } from './remote/RemoteObject';
import type { PipeTransport } from './remote/PipeTransport';
import type { PipeInfo, RepipeFailedInfo, RepipeInfo } from './types';

/** A shard that carries a producer's stream: its own shard, or one fed by a pipe. */
interface Carrier {
	producerId: string;
	shard: ShardRecord;
	/** 0 for the producer's own shard, parent's depth + 1 for a piped one. */
	depth: number;
	/** For piped carriers: the pipe feeding it (none for a moment while a relayed carrier is re-piped). */
	pipe?: Pipe;
	/**
	 * The id of the stream's producer on this shard, the one its consumers use.
	 * The producer's own id, except on a second shard of the same worker
	 * (another MafaldaRouter there: mediasoup ids are unique per worker), on a
	 * cluster node, and for a relay.
	 */
	localId: string;
	/** Consumers, observers and child pipes that use the stream on this shard (piped carriers). */
	users: number;
	/**
	 * The relay producer its users consume, fed by `pipe` (StreamRelay): it
	 * stays when that pipe dies, and another pipe feeds it.
	 */
	relay?: PipeEnd;
	/** Places (nodes, or workers of this process) whose pipes to this carrier were found dead (a partition): not chosen again to feed it. */
	unreachable?: Set<string>;
	closed: boolean;
}

interface Pipe {
	info: PipeInfo;
	source: Carrier;
	/** The carrier it feeds, once made. */
	dest?: Carrier;
	pipeConsumer: PipeEnd & { resume?(): Promise<void> };
	pipeProducer: PipeEnd & { pause(): Promise<void>; resume(): Promise<void> };
	pair: TransportPair;
	/** It holds a use of its source carrier (a child pipe keeps its parent open). */
	holdsSource: boolean;
	/** Why it was found dead (a partition), when the checks closed it. */
	dead?: string;
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
	/**
	 * Streams piped straight from their producer's shard to another machine
	 * (depth 1) go through a relay producer there too, so that a partition
	 * between the two re-pipes them under the same consumers
	 * (options.cluster.relayDirectPipes). Deeper pipes are relayed anyway.
	 */
	readonly relayDirectPipes: boolean;
	watermarks(shard: ShardRecord): Watermarks;
	/** Which worker should feed `destWorker` (the balancer's tree choice). */
	choosePipeSource(producerId: string, destWorker: number, watermarks: Watermarks): Promise<number>;
	streamAdded(routerId: string, producerId: string, workerIndex: number, depth: number): void;
	streamRemoved(producerId: string, workerIndex: number): void;
	createPipeTransport(shard: ShardRecord, options: Record<string, unknown>): Promise<PipeTransport>;
	/**
	 * Consumes the stream `producerId` on the source shard's pipe transport;
	 * `held`: paused until resumed (media), so that nothing passes before the
	 * relay producer on the other side is fed from it.
	 */
	pipeConsume(transport: PipeTransport, producerId: string, held: boolean): Promise<Pipe['pipeConsumer']>;
	/** Re-produces what `pipeConsumer` carries, with id `id`, on the destination shard's pipe transport. */
	pipeProduce(transport: PipeTransport, id: string, pipeConsumer: PipeEnd): Promise<Pipe['pipeProducer']>;
	/** The events of a pipe consumer that say its producer paused and resumed. */
	readonly pauseEvents: readonly [pause: string, resume: string];
	/**
	 * Makes relay producer `id` on `shard` fed by the producer `producerId`
	 * there, or feeds the existing one from it (media only; see StreamRelay).
	 * Without it, no stream is relayed.
	 */
	relay?(shard: ShardRecord, producerId: string, id: string): Promise<PipeEnd>;
	/**
	 * A shard of `shard`'s router on a cluster node none of `avoid` (node ids):
	 * one it has, or one it opens there; undefined if there is none. A stream
	 * cut off from a node goes around the partition through it.
	 */
	transitShard?(shard: ShardRecord, avoid: ReadonlySet<string>): Promise<ShardRecord | undefined>;
	pipeOpened(info: PipeInfo): void;
	pipeClosed(info: PipeInfo): void;
	pipeRepiped?(info: RepipeInfo): void;
	/**
	 * A carrier lost its pipe and could not be fed again (a relayed one after
	 * its attempts, an unrelayed one found cut off at once): it closed, and so
	 * did its consumers ('producerclose').
	 */
	repipeFailed(info: RepipeFailedInfo): void;
}

/** Re-pipe attempts for a relayed carrier before its consumers are let go. */
const REPIPE_ATTEMPTS = 3;
const REPIPE_RETRY_MS = 200;
/**
 * How often the pipe pairs between two machines are read (PairHealth): a
 * partition is told 1-1.5 s after the cut, and a pair costs one getStats per
 * end per check whatever the number of streams through it.
 */
const PIPE_CHECK_MS = 500;

/**
 * Pipes producers between router shards, as `router.pipeToRouter()` does
 * inside, but across threads and machines: a PipeTransport on each shard,
 * connected to each other, `consume` on the source, `produce` on the
 * destination. A producer is piped to a shard at most once; the pipe lives
 * while something on that shard uses it.
 *
 * A stream piped from a relay (a carrier that is itself fed by a pipe), or
 * from its producer's shard to another machine (relayDirectPipes), reaches its
 * consumers there through a relay producer: when the pipe feeding it dies (the
 * relay upstream died, or the pipe was found cut off), the stream is piped
 * again from another carrier, or around the partition through a third node,
 * and the relay producer is fed from the new pipe, so its consumers stay
 * (issue 11).
 */
export class PipeManager {
	readonly #carriers = new Map<string, Map<string, Carrier>>();
	readonly #opening = new Map<string, Promise<Carrier>>();
	readonly #pairs = new Map<string, Promise<TransportPair>>();
	/** Local producer id on some shard -> the app's producer id. */
	readonly #aliases = new Map<string, string>();
	readonly #health = new WeakMap<TransportPair, PairHealth>();
	#checkTimer: NodeJS.Timeout | undefined;
	/** Pairs whose check is still waiting for an end's stats. */
	readonly #checking = new WeakSet<TransportPair>();

	constructor(private readonly host: PipeHost) {}

	/** A producer was created on `shard`: the root of its pipe tree. */
	addOrigin(producerId: string, shard: ShardRecord): void {
		this.#carriersOf(producerId).set(shard.shardId, { producerId, shard, depth: 0, localId: producerId, users: 0, closed: false });
		this.#aliases.set(producerId, producerId);
		this.host.streamAdded(shard.routerId, producerId, shard.workerIndex, 0);
	}

	/** The producer closed: forget its tree (the pipes close through their own events). */
	removeProducer(producerId: string): void {
		const carriers = this.#carriers.get(producerId);
		if (!carriers) return;
		this.#carriers.delete(producerId);
		for (const carrier of carriers.values()) {
			if (carrier.depth === 0) {
				carrier.closed = true;
				this.host.streamRemoved(producerId, carrier.shard.workerIndex);
			} else this.#dropCarrier(carrier);
		}
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
		return (this.#carriers.get(producerId)?.get(shardId)?.depth ?? 0) > 0;
	}

	isCarried(producerId: string, shardId: string): boolean {
		return this.#carriers.get(producerId)?.has(shardId) ?? false;
	}

	/** Number of open pipes (for stats and tests). */
	get pipeCount(): number {
		return this.pipes().length;
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
		if (carrier.depth > 0) carrier.users++;
		return carrier.localId;
	}

	/**
	 * Makes a consumer of the stream on `shard` with `make` (given the
	 * producer's id there), holding one use of the stream for as long as the
	 * consumer lives, and none if making it fails.
	 */
	async consumeOn<T extends RemoteObject>(producerId: string, shard: ShardRecord, make: (localId: string) => Promise<T>): Promise<T> {
		const carrier = await this.#ensure(producerId, shard);
		if (carrier.depth > 0) carrier.users++;
		let consumer: T;
		try {
			consumer = await make(carrier.localId);
		} catch (error) {
			this.#release(carrier);
			throw error;
		}
		// The carrier it was made on: a later carrier of the same shard is not its own.
		consumer.onClosed(() => this.#release(carrier));
		return consumer;
	}

	release(producerId: string, shardId: string): void {
		const carrier = this.#carriers.get(producerId)?.get(shardId);
		if (carrier) this.#release(carrier);
	}

	#release(carrier: Carrier): void {
		if (carrier.depth === 0 || carrier.closed) return;
		carrier.users--;
		if (carrier.users <= 0) this.#dropCarrier(carrier);
	}

	async #ensure(producerId: string, shard: ShardRecord): Promise<Carrier> {
		const carriers = this.#carriers.get(producerId);
		if (!carriers || carriers.size === 0) throw new UnknownProducerError(producerId, 'this Mafalda instance');
		const existing = carriers.get(shard.shardId);
		if (existing) return existing;
		return singleFlight(this.#opening, `${producerId}@${shard.shardId}`, () => this.#open(producerId, shard));
	}

	/** Pipes the stream to `dest`, from `source` when given (a transit around a partition), else from the balancer's choice. */
	async #open(producerId: string, dest: ShardRecord, source?: Carrier): Promise<Carrier> {
		source ??= await this.#chooseSource(producerId, dest);
		// Through a relay producer, which outlives the pipe: fed by a relay, or across machines (a link that can be cut).
		const crosses = this.host.nodeOf(source.shard) !== this.host.nodeOf(dest);
		const relayed = this.host.relay !== undefined && (source.depth > 0 || (this.host.relayDirectPipes && crosses));
		const sharesWorker = [...(this.#carriers.get(producerId)?.values() ?? [])].some((c) => c.shard.workerIndex === dest.workerIndex);
		// A node's shard is shared by every controller of the router, and another
		// controller may have piped the same stream there: a fresh id cannot collide.
		const pipeId = relayed || sharesWorker || this.host.nodeOf(dest) !== undefined ? randomUUID() : producerId;
		const pipe = await this.#openPipe(source, dest, pipeId, relayed);
		let relay: PipeEnd | undefined;
		if (relayed && !pipe.closed) {
			// Without its relay producer the stream still reaches its consumers: it just cannot be re-piped under them.
			relay = await this.host.relay!(dest, pipe.pipeProducer.id, randomUUID()).catch(() => undefined);
			await this.#letThrough(pipe);
		}
		const carrier: Carrier = { producerId, shard: dest, depth: pipe.info.depth, pipe, localId: relay?.id ?? pipe.pipeProducer.id, users: 0, relay, closed: false };
		const carriers = this.#carriers.get(producerId);
		if (!carriers || pipe.closed || relay?.closed) {
			// The producer or an end closed while we were opening.
			this.#closePipe(pipe);
			relay?.close();
			throw new UnknownProducerError(producerId, 'this Mafalda instance (it closed while being piped)');
		}
		this.#attach(pipe, carrier);
		carriers.set(dest.shardId, carrier);
		this.#aliases.set(carrier.localId, producerId);
		relay?.onClosed(() => this.#dropCarrier(carrier));
		this.host.streamAdded(dest.routerId, producerId, dest.workerIndex, carrier.depth);
		this.host.pipeOpened(pipe.info);
		return carrier;
	}

	/** The pipe feeds `carrier` from now on; it keeps its source open meanwhile. */
	#attach(pipe: Pipe, carrier: Carrier): void {
		pipe.dest = carrier;
		carrier.pipe = pipe;
		this.#aliases.set(pipe.pipeProducer.id, carrier.producerId);
		if (pipe.source.depth > 0) {
			pipe.source.users++;
			pipe.holdsSource = true;
		}
		if (acrossMachines(pipe) && !this.#checkTimer) {
			this.#checkTimer = setInterval(() => this.#check(), PIPE_CHECK_MS);
			this.#checkTimer.unref();
		}
	}

	/** Checks every pipe pair between two machines (see PIPE_CHECK_MS); stops when there is none. */
	#check(): void {
		const watched = new Map<TransportPair, Pipe[]>();
		for (const carriers of this.#carriers.values()) {
			for (const c of carriers.values()) {
				// A pipe inside one machine cannot be cut off: only those between two machines are read.
				if (!c.pipe || c.pipe.closed || !acrossMachines(c.pipe)) continue;
				const pipes = watched.get(c.pipe.pair) ?? [];
				pipes.push(c.pipe);
				watched.set(c.pipe.pair, pipes);
			}
		}
		if (watched.size === 0 && this.#checkTimer) {
			clearInterval(this.#checkTimer);
			this.#checkTimer = undefined;
		}
		// One pair at a time each: a node whose control link hangs (its own death, told later) holds up only its own pairs.
		for (const [pair, pipes] of watched) {
			if (this.#checking.has(pair)) continue;
			this.#checking.add(pair);
			void this.#checkPair(pair, pipes).catch(() => undefined).finally(() => this.#checking.delete(pair));
		}
	}

	async #checkPair(pair: TransportPair, pipes: Pipe[]): Promise<void> {
		const now = new Map<string, EndCounters>();
		await Promise.all([...pair.ends].map(async ([shardId, end]) => {
			const [stats] = (await end.getStats().catch(() => [])) as Array<{ bytesSent?: number; bytesReceived?: number } | undefined>;
			if (stats) now.set(shardId, { sent: stats.bytesSent ?? 0, received: stats.bytesReceived ?? 0 });
		}));
		let health = this.#health.get(pair);
		if (!health) this.#health.set(pair, (health = new PairHealth()));
		for (const from of health.observe(now)) {
			for (const pipe of pipes) {
				if (pipe.closed || pipe.source.shard.shardId !== from || !pipe.dest) continue;
				const [fromPlace, toPlace] = [this.#placeOf(pipe.source.shard), this.#placeOf(pipe.dest.shard)];
				(pipe.dest.unreachable ??= new Set()).add(fromPlace);
				pipe.dead = `the pipe ${fromPlace} -> ${toPlace} was found dead (${toPlace} received none of what ${fromPlace} sent for ${PIPE_DEAD_CHECKS} checks ${PIPE_CHECK_MS} ms apart: a partition)`;
				this.#pipeBroke(pipe);
			}
		}
	}

	/** Where a shard is, as a partition cuts: its cluster node, or a worker of this process. */
	#placeOf(shard: ShardRecord): string {
		return this.host.nodeOf(shard) ?? `worker ${shard.workerIndex}`;
	}

	/**
	 * Lets the media of a held pipe (made with `held`) through: its pipe consumer
	 * waits for the next key frame from there, which the relay's feeder then sees
	 * first. (Letting it through before the feeder existed would make the
	 * feeder wait for the key frame after that one.)
	 */
	async #letThrough(pipe: Pipe): Promise<void> {
		await pipe.pipeConsumer.resume?.().catch(() => undefined);
	}

	/** A pipe of `source`'s stream into `dest`: its pipe producer there gets `pipeId` (`held`: see pipeConsume). */
	async #openPipe(source: Carrier, dest: ShardRecord, pipeId: string, held = false): Promise<Pipe> {
		const producerId = source.producerId;
		// The source must outlive the opening: hold one use of it meanwhile.
		if (source.depth > 0) source.users++;
		try {
			const pair = await this.#pair(source.shard, dest);
			// Counted from now, so that a pipe closing meanwhile does not close the pair under us.
			pair.pipes++;
			let opened = false;
			try {
				const pipeConsumer = await this.host.pipeConsume(pair.ends.get(source.shard.shardId)!, source.localId, held);
				let pipeProducer: Pipe['pipeProducer'];
				try {
					pipeProducer = await this.host.pipeProduce(pair.ends.get(dest.shardId)!, pipeId, pipeConsumer);
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
				const pipe: Pipe = { info, source, pipeConsumer, pipeProducer, pair, holdsSource: false, closed: false };
				opened = true;
				// Pause, resume and close travel through the pipe as they would on one router.
				const [pauseEvent, resumeEvent] = this.host.pauseEvents;
				const events = pipeConsumer as unknown as { on(event: string, listener: () => void): void };
				events.on(pauseEvent, () => void pipeProducer.pause().catch(() => undefined));
				events.on(resumeEvent, () => void pipeProducer.resume().catch(() => undefined));
				pipeConsumer.onClosed(() => this.#pipeBroke(pipe));
				pipeProducer.onClosed(() => this.#pipeBroke(pipe));
				if (pipeConsumer.closed || pipeProducer.closed) this.#closePipe(pipe);
				return pipe;
			} finally {
				if (!opened) this.#unusePair(pair);
			}
		} finally {
			this.#release(source);
		}
	}

	async #chooseSource(producerId: string, dest: ShardRecord): Promise<Carrier> {
		const carriers = [...(this.#carriers.get(producerId)?.values() ?? [])].filter((c) => c.depth === 0 || c.pipe !== undefined);
		// Another router's shard on the same worker already has it: no need to ask the balancer.
		const sameWorker = carriers.filter((c) => c.shard.workerIndex === dest.workerIndex).sort((a, b) => a.depth - b.depth)[0];
		if (sameWorker) return sameWorker;
		const worker = await this.host.choosePipeSource(producerId, dest.workerIndex, this.host.watermarks(dest));
		const onWorker = carriers.filter((c) => c.shard.workerIndex === worker).sort((a, b) => a.depth - b.depth)[0];
		if (!onWorker) throw new UnknownProducerError(producerId, `worker ${worker}`);
		return onWorker;
	}

	/**
	 * The pipe feeding a carrier died (an end closed: its node or worker died,
	 * or the pipe was found dead). A relayed carrier is fed again from another
	 * carrier; any other goes, and mediasoup tells its consumers 'producerclose'.
	 * One found cut off also tells the app why (repipeFailed): a partition
	 * closes no node, so nothing else would.
	 */
	#pipeBroke(pipe: Pipe): void {
		if (pipe.closed) return;
		const carrier = pipe.dest;
		const fed = carrier !== undefined && !carrier.closed && carrier.pipe === pipe;
		this.#closePipe(pipe);
		if (!fed) return;
		if (carrier.relay && !carrier.relay.closed) {
			void this.#repipe(carrier, pipe);
			return;
		}
		this.#dropCarrier(carrier);
		if (pipe.dead) {
			const why = this.host.relay === undefined
				? `${this.host.stream} streams are not relayed`
				: pipe.info.depth === 1 && !this.host.relayDirectPipes ? 'options.cluster.relayDirectPipes is false' : 'its relay producer could not be made';
			const error = new PipeUnreachableError(`${pipe.dead}; the stream has no relay producer there (${why}), so it cannot be piped again under its consumers`);
			this.host.repipeFailed({ previous: pipe.info, error: error.message, code: error.code, tookMs: 0 });
		}
	}

	/**
	 * Feeds a relayed carrier from another carrier of its stream: the balancer's
	 * choice when it is a live carrier outside the carrier's own subtree and not
	 * one that could not reach it, else the shallowest such carrier, else a
	 * transit shard on a third node (#transit). After REPIPE_ATTEMPTS failures
	 * the carrier goes (its consumers get 'producerclose').
	 */
	async #repipe(carrier: Carrier, broken: Pipe): Promise<void> {
		const startedAt = Date.now();
		// Every close of one fault lands in the same turn (a dead node's objects close together): choose after them.
		await new Promise((resolve) => setImmediate(resolve));
		for (let attempt = 1; !carrier.closed; attempt++) {
			try {
				const source = await this.#repipeSource(carrier, broken.source);
				// A transit made for this attempt has no other use yet: held until the new pipe holds it.
				if (source.depth > 0) source.users++;
				try {
					const pipe = await this.#openPipe(source, carrier.shard, randomUUID(), true);
					try {
						if (!carrier.closed) await this.host.relay!(carrier.shard, pipe.pipeProducer.id, carrier.localId);
						await this.#letThrough(pipe);
						if (pipe.closed) throw new Error('the new pipe closed while it was being fed');
					} catch (error) {
						this.#closePipe(pipe);
						throw error;
					}
					if (carrier.closed) {
						this.#closePipe(pipe);
						return;
					}
					this.#attach(pipe, carrier);
					this.#setDepth(carrier, pipe.info.depth);
					this.host.pipeOpened(pipe.info);
					this.host.pipeRepiped?.({ ...pipe.info, previous: broken.info, tookMs: Date.now() - startedAt });
					return;
				} finally {
					this.#release(source);
				}
			} catch (error) {
				if (attempt >= REPIPE_ATTEMPTS || carrier.closed) {
					if (carrier.closed) return;
					this.#dropCarrier(carrier);
					const code = (error as { code?: unknown }).code;
					this.host.repipeFailed({ previous: broken.info, error: (error as Error).message, ...(typeof code === 'string' ? { code } : {}), tookMs: Date.now() - startedAt });
					return;
				}
				await new Promise((resolve) => setTimeout(resolve, REPIPE_RETRY_MS));
			}
		}
	}

	async #repipeSource(carrier: Carrier, failed: Carrier): Promise<Carrier> {
		const carriers = this.#carriers.get(carrier.producerId);
		if (!carriers || carriers.get(carrier.shard.shardId) !== carrier) throw new UnknownProducerError(carrier.producerId, 'this Mafalda instance');
		if (![...carriers.values()].some((c) => c.depth === 0)) {
			throw new UnknownProducerError(carrier.producerId, 'this Mafalda instance (its shard is gone)');
		}
		const below = subtreeOf(carrier, carriers.values());
		const reachable = (c: Carrier): boolean => !carrier.unreachable?.has(this.#placeOf(c.shard));
		const candidates = [...carriers.values()].filter((c) => c !== failed && !below.has(c) && reachable(c) && feeding(c));
		if (candidates.length === 0) return this.#transit(carrier, carriers, below);
		const byDepth = (a: Carrier, b: Carrier): number => a.depth - b.depth;
		const worker = await this.host.choosePipeSource(carrier.producerId, carrier.shard.workerIndex, this.host.watermarks(carrier.shard)).catch(() => undefined);
		return candidates.filter((c) => c.shard.workerIndex === worker).sort(byDepth)[0] ?? candidates.sort(byDepth)[0];
	}

	/**
	 * No carrier left that reaches `carrier` (a partition cut it off from all of
	 * them): the stream goes around through a shard of the router on a node cut
	 * off from neither side, fed from the shallowest carrier outside the
	 * subtree (the one that could not reach `carrier` may still reach that
	 * node). Whether it does, the checks tell, as for any pipe.
	 */
	async #transit(carrier: Carrier, carriers: Map<string, Carrier>, below: Set<Carrier>): Promise<Carrier> {
		const place = this.#placeOf(carrier.shard);
		const cut = [...(carrier.unreachable ?? [])];
		const avoid = new Set([place, ...cut, ...[...below].map((c) => this.#placeOf(c.shard))]);
		const shard = this.host.nodeOf(carrier.shard) === undefined ? undefined : await this.host.transitShard?.(carrier.shard, avoid);
		const from = [...carriers.values()].filter((c) => !below.has(c) && feeding(c)).sort((a, b) => a.depth - b.depth)[0];
		if (!shard || !from) {
			const why = cut.length > 0 ? `${cut.join(' and ')} cannot reach it (a partition: its pipes from there were found dead)` : 'none but the one whose pipe died is outside its own subtree';
			throw new PipeUnreachableError(`no carrier of ${carrier.producerId} that reaches ${place} is left: ${why}, and no other node of router ${carrier.shard.routerId} (one reaching both sides) to pipe it through`);
		}
		const existing = carriers.get(shard.shardId);
		if (existing) {
			if (feeding(existing) && !below.has(existing)) return existing;
			throw new PipeUnreachableError(`the stream ${carrier.producerId} on ${this.#placeOf(shard)}, the way around the partition to ${place}, has no feed itself`);
		}
		return singleFlight(this.#opening, `${carrier.producerId}@${shard.shardId}`, () => this.#open(carrier.producerId, shard, from));
	}

	/** A carrier moved in the tree: it and what it feeds get their new depths. */
	#setDepth(carrier: Carrier, depth: number): void {
		carrier.depth = depth;
		if (carrier.pipe) carrier.pipe.info.depth = depth;
		this.host.streamAdded(carrier.shard.routerId, carrier.producerId, carrier.shard.workerIndex, depth);
		for (const c of this.#carriers.get(carrier.producerId)?.values() ?? []) if (c.pipe?.source === carrier && c !== carrier) this.#setDepth(c, depth + 1);
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

	/** Closes a pipe's ends and gives back what it held; the carrier it fed is its caller's business. */
	#closePipe(pipe: Pipe): void {
		if (pipe.closed) return;
		pipe.closed = true;
		if (pipe.dest?.pipe === pipe) pipe.dest.pipe = undefined;
		if (this.#aliases.get(pipe.pipeProducer.id) !== undefined && pipe.pipeProducer.id !== pipe.info.producerId) this.#aliases.delete(pipe.pipeProducer.id);
		// Consumers of the pipe producer on the receiving shard see 'producerclose' from mediasoup itself.
		pipe.pipeProducer.close();
		pipe.pipeConsumer.close();
		this.#unusePair(pipe.pair);
		if (pipe.holdsSource) this.#release(pipe.source);
		this.host.pipeClosed(pipe.info);
	}

	/** The stream leaves a piped carrier's shard: its pipe and its relay producer close. */
	#dropCarrier(carrier: Carrier): void {
		if (carrier.closed) return;
		carrier.closed = true;
		const carriers = this.#carriers.get(carrier.producerId);
		if (carriers?.get(carrier.shard.shardId) === carrier) {
			carriers.delete(carrier.shard.shardId);
			if (carriers.size === 0) this.#carriers.delete(carrier.producerId);
		}
		if (carrier.localId !== carrier.producerId) this.#aliases.delete(carrier.localId);
		if (carrier.pipe) this.#closePipe(carrier.pipe);
		// Its consumers see 'producerclose' from mediasoup itself.
		carrier.relay?.close();
		this.host.streamRemoved(carrier.producerId, carrier.shard.workerIndex);
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
			const fed = [...carriers.values()].filter((c) => c.pipe?.source === carrier);
			if (carrier.depth > 0) this.#dropCarrier(carrier);
			else {
				carrier.closed = true;
				carriers.delete(shardId);
				this.host.streamRemoved(producerId, carrier.shard.workerIndex);
			}
			for (const other of fed) if (other.pipe) this.#pipeBroke(other.pipe);
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

/** Whether a carrier has the stream now: its producer's shard, or fed by a pipe (not one being re-piped). */
function feeding(carrier: Carrier): boolean {
	return !carrier.closed && (carrier.depth === 0 || carrier.pipe !== undefined);
}

/** `carrier` and every carrier fed from it, however deep: none of them can feed it (a loop with no way in). */
function subtreeOf(carrier: Carrier, all: Iterable<Carrier>): Set<Carrier> {
	const below = new Set<Carrier>([carrier]);
	const carriers = [...all];
	for (let grew = true; grew; ) {
		grew = false;
		for (const c of carriers) {
			if (!below.has(c) && c.pipe && below.has(c.pipe.source)) {
				below.add(c);
				grew = true;
			}
		}
	}
	return below;
}

/** Whether a pipe crosses between two machines (a link that can be cut), as its ends' nodes say. */
function acrossMachines(pipe: Pipe): boolean {
	return pipe.info.fromNode !== pipe.info.toNode;
}

function tupleIp(tuple: types.TransportTuple): string {
	const t = tuple as types.TransportTuple & { localIp?: string; localAddress?: string };
	return t.localAddress ?? t.localIp ?? '127.0.0.1';
}
