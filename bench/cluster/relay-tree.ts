// A stream whose pipe tree is A -> B -> C across three cluster nodes (or
// three workers of one machine), with paced real RTP, for the relay faults of
// issue 11 (test/cluster-relay.test.ts and the cluster-faults bench): B relays
// the stream to C.
import type { Mafalda, MafaldaRouter, PipeInfo, PlainTransport } from '../../lib';
import { localAddress, mediaCodecs, plainOptions, publishVideo, VIDEO_PT, type Publisher, type Viewer } from '../../test/helpers/mafalda-media';
import { buildRtpPacket, nowMs, writeProbe } from '../media/rtp-packet';
import { RtpReceiver } from '../media/udp-peers';
import { sleep } from './hosts';

export interface RelayTree {
	router: MafaldaRouter;
	pub: Publisher;
	/** Node ids (`worker-<index>` for a worker of this process, or with apart 'worker'): the producer's (A), the relay's (B), the leaf's (C). */
	origin: string;
	relay: string;
	leaf: string;
	/** Their workers' global indices. */
	workers: { origin: number; relay: number; leaf: number };
	/** A viewer on B (fed by A) and one on C (fed by B). */
	relayViewer: Viewer;
	leafViewer: Viewer;
	/** The pipe B -> C. */
	relayPipe: PipeInfo;
	/** Stops the RTP and closes the router and the receivers. */
	close(): Promise<void>;
}

/** The node of a worker, by its global index in the controller (`worker-<index>` for one of this process). */
export function placeOfWorker(mafalda: Mafalda, workerIndex: number): string {
	for (const worker of mafalda.workers.values()) {
		if ((worker as { handle?: { index: number } }).handle?.index === workerIndex && worker.nodeId !== undefined) return worker.nodeId;
	}
	return `worker-${workerIndex}`;
}

/** A viewer on a transport placed already: a receiver on `host`, connected, consuming. */
export async function viewOn(router: MafaldaRouter, transport: PlainTransport, producerId: string, host: string): Promise<Viewer> {
	const receiver = await RtpReceiver.bind(host);
	await transport.connect({ ip: host, port: receiver.port });
	const consumer = await transport.consume({ producerId, rtpCapabilities: router.rtpCapabilities });
	receiver.codecFor(consumer.rtpParameters.codecs[0].payloadType, 'vp8');
	return { transport, consumer, receiver };
}

/** 50 VP8 packets a second into the producer, a key frame every 10 (200 ms); returns the stop. */
export function paceVideo(pub: Publisher, intervalMs = 20): () => void {
	const timer = setInterval(() => {
		const i = pub.seq++;
		const packet = buildRtpPacket(
			{ payloadType: VIDEO_PT, ssrc: pub.ssrc, sequenceNumber: i & 0xffff, timestamp: i * 3000, marker: true },
			writeProbe(i, nowMs(), 200, 'vp8', i % 10 === 0),
		);
		pub.sender.send(packet, pub.transport.tuple.localPort, localAddress(pub.transport));
	}, intervalMs);
	return () => clearInterval(timer);
}

/**
 * The longest time between two packets in `arrivals` of which the later one
 * came at or after `fromMs`, or between the last one and `untilMs`, ms.
 */
export function longestGap(arrivals: readonly number[], fromMs: number, untilMs = Date.now()): number {
	let longest = 0;
	for (let i = 1; i < arrivals.length; i++) if (arrivals[i] >= fromMs) longest = Math.max(longest, arrivals[i] - arrivals[i - 1]);
	return arrivals.length === 0 ? untilMs - fromMs : Math.max(longest, untilMs - arrivals[arrivals.length - 1]);
}

export async function until(predicate: () => Promise<boolean> | boolean, what: string, timeoutMs: number): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await predicate())) {
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await sleep(20);
	}
}

/**
 * Builds A -> B -> C. The pipe-source rule feeds a new shard from the carrier
 * that is not over its watermarks before the shallowest one, so: with
 * `maxConsumersPerWorker: 2` (one worker per node), the producer's transport
 * and a filler make A full; B gets a viewer (pipe A -> B) and a filler, so the
 * next transport goes to a third node C; the filler on B closes (B is under
 * its watermark again, A is not), and C's consume is piped from B.
 * `address`: this process's address as the nodes reach it.
 */
export interface RelayTreeOptions {
	routerId: string;
	ssrc: number;
	address: string;
	/** What A, B and C must differ by: their nodes (default), or only their workers (B and C may share a node). */
	apart?: 'node' | 'worker';
	/** Runs once A is full (the producer and a filler placed), before B's transport is placed. */
	afterOrigin?: () => Promise<void>;
}

export function buildRelayTree(mafalda: Mafalda, options: RelayTreeOptions): Promise<RelayTree> {
	return withShapeRetries(options.routerId, (routerId) => buildOnce(mafalda, { ...options, routerId }));
}

/**
 * Builds a pipe shape up to three times, under a new router id each time: a
 * CPU sample of a busy machine can still push a worker over (its projection
 * adds the CPU per consumer measured so far), and then the balancer places a
 * transport elsewhere than the shape needs (TreeShapeError).
 */
export async function withShapeRetries<T>(routerId: string, build: (routerId: string) => Promise<T>): Promise<T> {
	for (let attempt = 1; ; attempt++) {
		try {
			return await build(attempt === 1 ? routerId : `${routerId}-${attempt}`);
		} catch (error) {
			if (!(error instanceof TreeShapeError) || attempt === 3) throw error;
			await sleep(500);
		}
	}
}

/**
 * A router on an idle cluster (the shape is built from the workers' loads:
 * what closed before must be reported gone) whose transports only the count
 * of consumers places (a CPU watermark on a busy machine would move them),
 * and the pipes opened for the producer it is told to track.
 */
export async function shapeRouter(mafalda: Mafalda, routerId: string, maxConsumersPerWorker: number): Promise<{ router: MafaldaRouter; pipes: PipeInfo[]; track(producerId: string): void; untrack(): void }> {
	await until(async () => (await mafalda.supervisor().balancer.loadTable()).every((w) => w.load === 0), 'every worker idle', 10_000);
	// (maxWorkers: inside one machine the default is one per CPU.)
	const router = await mafalda.createMafaldaRouter({ id: routerId, maxConsumersPerWorker, watermarkWorker: 100, maxWorkers: 3, routerOptions: { mediaCodecs } });
	const pipes: PipeInfo[] = [];
	let tracked: string | undefined;
	const onPipe = (info: PipeInfo): void => {
		if (tracked !== undefined && info.producerId === tracked) pipes.push(info);
	};
	mafalda.on('pipeopened', onPipe);
	return { router, pipes, track: (id) => (tracked = id), untrack: () => mafalda.off('pipeopened', onPipe) };
}

/** The balancer placed a transport elsewhere than the tree needs. */
export class TreeShapeError extends Error {}

async function buildOnce(mafalda: Mafalda, options: RelayTreeOptions): Promise<RelayTree> {
	const { address } = options;
	const { router, pipes, track, untrack } = await shapeRouter(mafalda, options.routerId, 2);
	const receivers: RtpReceiver[] = [];
	let pub: Publisher | undefined;
	let stop: (() => void) | undefined;
	const close = async (): Promise<void> => {
		stop?.();
		untrack();
		router.close();
		await pub?.sender.close();
		await Promise.allSettled(receivers.map((r) => r.close()));
	};
	try {
		pub = await publishVideo(router, options.ssrc, address);
		const producerId = pub.producer.id;
		track(producerId);
		const where = (workerIndex: number): string => (options.apart === 'worker' ? `worker-${workerIndex}` : placeOfWorker(mafalda, workerIndex));
		const origin = where(pub.producer.workerIndex);
		const place = async (): Promise<{ transport: PlainTransport; node: string }> => {
			const transport = await router.createPlainTransport(plainOptions());
			return { transport, node: where(transport.workerIndex) };
		};
		const fillerA = await place();
		if (fillerA.node !== origin) throw new TreeShapeError(`the filler went to ${fillerA.node}, not to the producer's node ${origin}`);
		await options.afterOrigin?.();
		const toB = await place();
		const relay = toB.node;
		if (relay === origin) throw new TreeShapeError(`node ${origin} took a third transport (maxConsumersPerWorker 2)`);
		const relayViewer = await viewOn(router, toB.transport, producerId, address);
		receivers.push(relayViewer.receiver);
		const fillerB = await place();
		if (fillerB.node !== relay) throw new TreeShapeError(`the filler went to ${fillerB.node}, not to the relay ${relay}`);
		const toC = await place();
		const leaf = toC.node;
		if (leaf === origin || leaf === relay) throw new TreeShapeError(`the leaf's transport went to ${leaf}`);
		fillerB.transport.close();
		// The balancer sees B under its watermark again once B's next load report says so.
		const relayWorker = toB.transport.workerIndex;
		await until(async () => (await mafalda.supervisor().balancer.loadTable()).some((w) => w.workerIndex === relayWorker && w.load < 2), `${relay} under its watermark`, 10_000);
		const leafViewer = await viewOn(router, toC.transport, producerId, address);
		receivers.push(leafViewer.receiver);
		const relayPipe = pipes.find((p) => p.toWorker === toC.transport.workerIndex);
		if (relayPipe?.fromWorker !== relayWorker) throw new TreeShapeError(`${leaf} is fed by worker ${relayPipe?.fromWorker ?? 'none'}, not by the relay ${relay}`);
		stop = paceVideo(pub);
		await Promise.all([relayViewer.receiver.waitForPackets(20, 10_000), leafViewer.receiver.waitForPackets(20, 10_000)]);
		untrack();
		const workers = { origin: pub.producer.workerIndex, relay: relayWorker, leaf: toC.transport.workerIndex };
		return { router, pub, origin, relay, leaf, workers, relayViewer, leafViewer, relayPipe, close };
	} catch (error) {
		await close();
		throw error;
	}
}
