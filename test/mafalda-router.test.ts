// The product, end to end: one MafaldaRouter over two real mediasoup workers,
// real RTP on 127.0.0.1, placement by the balancer and transparent piping.
import * as mediasoup from 'mediasoup';
import * as mafaldaPackage from '../lib';
import { Mafalda, type MafaldaRouter, type LoadReport, type PipeInfo, type ShardInfo } from '../lib';
import {
	closeRouter,
	mediaCodecs,
	publishAudio,
	publishVideo,
	sendAudio,
	sendVideo,
	sleep,
	view,
	waitFor,
	type Publisher,
	type Viewer,
} from './helpers/mafalda-media';

let mafalda: Mafalda;
const sockets: Array<{ close(): Promise<void> }> = [];
const pipesOpened: PipeInfo[] = [];
const pipesClosed: PipeInfo[] = [];
const shardsOpened: ShardInfo[] = [];

beforeAll(() => {
	mafalda = new Mafalda(mediasoup, { numWorkers: 2, loadReportIntervalMs: 200 });
	mafalda.on('pipeopened', (info) => pipesOpened.push(info));
	mafalda.on('pipeclosed', (info) => pipesClosed.push(info));
	mafalda.on('shardopened', (info) => shardsOpened.push(info));
});

afterAll(async () => {
	await mafalda.close();
	await Promise.all(sockets.map((s) => s.close()));
});

function track<T extends Publisher | Viewer>(x: T): T {
	sockets.push('sender' in x ? x.sender : x.receiver);
	return x;
}

describe('one producer, consumers on both workers', () => {
	let router: MafaldaRouter;
	let pub: Publisher;
	const viewers: Viewer[] = [];
	// With 3 units per worker: the producer's transport is one, so worker 0 takes
	// two viewers; then a second worker starts and takes the next three.
	const MAX_PER_WORKER = 3;

	beforeAll(async () => {
		router = await mafalda.createMafaldaRouter({ maxConsumersPerWorker: MAX_PER_WORKER, routerOptions: { mediaCodecs } });
		pub = track(await publishVideo(router, 0x1111));
		for (let i = 0; i < 5; i++) viewers.push(track(await view(router, pub.producer.id)));
	});

	test('placement fills the producer worker first, then the next one', () => {
		expect(pub.producer.workerIndex).toBe(0);
		expect(viewers.map((v) => v.consumer.workerIndex)).toEqual([0, 0, 1, 1, 1]);
		expect(router.shards().size).toBe(2);
		expect(shardsOpened.filter((s) => s.routerId === router.id).map((s) => s.workerIndex)).toEqual([0, 1]);
	});

	test('the producer is piped once to the second shard, from its own shard (a tree of depth 1)', () => {
		const mine = pipesOpened.filter((p) => p.producerId === pub.producer.id);
		expect(mine).toHaveLength(1);
		expect(mine[0]).toMatchObject({ fromWorker: 0, toWorker: 1, depth: 1 });
	});

	test('every consumer socket receives the producer packets', async () => {
		await sendVideo(pub, 60);
		await Promise.all(viewers.map((v) => v.receiver.waitForPackets(60, 5000)));
		for (const v of viewers) {
			expect(v.receiver.packets).toBeGreaterThanOrEqual(60);
			expect(v.receiver.totalLost).toBe(0);
			expect(v.receiver.latencies.length).toBeGreaterThanOrEqual(60);
		}
	});

	test('pause and resume travel through the pipe', async () => {
		const remote = viewers[4].consumer;
		const paused = new Promise<void>((resolve) => remote.once('producerpause', () => resolve()));
		await pub.producer.pause();
		await paused;
		expect(remote.producerPaused).toBe(true);
		const resumed = new Promise<void>((resolve) => remote.once('producerresume', () => resolve()));
		await pub.producer.resume();
		await resumed;
		expect(remote.producerPaused).toBe(false);
	});

	test('load reports reach subscribers and count the real consumers', async () => {
		const reports = new Map<number, LoadReport>();
		const listener = (r: LoadReport): void => void reports.set(r.workerIndex, r);
		mafalda.on('loadreport', listener);
		// Media flowing meanwhile, so the pipe's bitrate shows in the reports.
		const sending = sendVideo(pub, 300);
		await waitFor(
			() => (reports.get(0)?.bitrateOut ?? 0) > 0 && (reports.get(1)?.bitrateIn ?? 0) > 0,
			'load reports from both workers with the pipe bitrate',
		);
		await sending;
		mafalda.off('loadreport', listener);
		const shardLoad = (w: number): { consumers: number; pipeConsumers: number } => {
			const shard = reports.get(w)!.shards.find((s) => s.routerId === router.id)!;
			return { consumers: shard.consumers, pipeConsumers: shard.pipeConsumers };
		};
		expect(shardLoad(0)).toEqual({ consumers: 2, pipeConsumers: 1 });
		expect(shardLoad(1)).toEqual({ consumers: 3, pipeConsumers: 0 });
	});

	test('closing the producer closes every consumer (producerclose) and the pipe', async () => {
		const producerCloses = viewers.map((v) => new Promise<void>((resolve) => v.consumer.once('producerclose', () => resolve())));
		pub.producer.close();
		await Promise.all(producerCloses);
		for (const v of viewers) expect(v.consumer.closed).toBe(true);
		await waitFor(() => mafalda.pipes.pipeCount === 0, 'the pipe to close');
		expect(pipesClosed.filter((p) => p.producerId === pub.producer.id)).toHaveLength(1);
	});

	afterAll(async () => {
		await closeRouter(router);
	});
});

describe('a pipe lives while it has consumers', () => {
	test('the last consumer on a shard closes the pipe into it; the next one reopens it', async () => {
		const router = await mafalda.createMafaldaRouter({ maxConsumersPerWorker: 2, routerOptions: { mediaCodecs } });
		const pub = track(await publishVideo(router, 0x2222));
		const near = track(await view(router, pub.producer.id));
		const far = track(await view(router, pub.producer.id));
		expect([near.consumer.workerIndex, far.consumer.workerIndex]).toEqual([0, 1]);
		const opened = pipesOpened.filter((p) => p.producerId === pub.producer.id).length;
		expect(opened).toBe(1);

		far.consumer.close();
		await waitFor(() => pipesClosed.some((p) => p.producerId === pub.producer.id), 'the unused pipe to close');
		expect(mafalda.pipes.isCarried(pub.producer.id, far.consumer.shardId)).toBe(false);

		// A new consumer on the far transport's shard needs the stream again.
		const again = await far.transport.consume({ producerId: pub.producer.id, rtpCapabilities: router.rtpCapabilities });
		expect(pipesOpened.filter((p) => p.producerId === pub.producer.id)).toHaveLength(2);
		await sendVideo(pub, 30);
		await far.receiver.waitForPackets(30, 5000);
		expect(again.closed).toBe(false);
		await closeRouter(router);
		expect(again.closed).toBe(true);
		expect(again.closeReason).toBe('transportclose');
	});
});

describe('RTP observers see producers of every shard', () => {
	test('an AudioLevelObserver on the first shard reports a producer on the second', async () => {
		const router = await mafalda.createMafaldaRouter({ maxConsumersPerWorker: 1, routerOptions: { mediaCodecs } });
		// The first transport fills worker 0, so the speaker lands on worker 1.
		const idle = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' } });
		const speaker = track(await publishAudio(router, 0x3333));
		expect(idle.workerIndex).toBe(0);
		expect(speaker.producer.workerIndex).toBe(1);

		const observer = await router.createAudioLevelObserver({ interval: 100, threshold: -70 });
		expect(observer.workerIndex).toBe(0);
		await observer.addProducer({ producerId: speaker.producer.id });
		const volumes = new Promise<Array<{ producer: unknown; volume: number }>>((resolve) => observer.once('volumes', (v) => resolve(v)));
		const sending = sendAudio(speaker, 40, 20);
		const reported = await volumes;
		await sending;
		expect(reported[0].producer).toBe(speaker.producer);
		expect(reported[0].volume).toBeGreaterThan(-70);
		expect(router.rtpObservers.get(observer.id)).toBe(observer);
		await closeRouter(router);
		expect(observer.closed).toBe(true);
	});
});

describe('pipeToMafaldaRouter', () => {
	test('a producer of one MafaldaRouter is consumable in another', async () => {
		const a = await mafalda.createMafaldaRouter({ routerOptions: { mediaCodecs } });
		const b = await mafalda.createMafaldaRouter({ routerOptions: { mediaCodecs } });
		const pub = track(await publishVideo(a, 0x4444));
		await expect(view(b, pub.producer.id)).rejects.toBeInstanceOf(mafaldaPackage.UnknownProducerError);
		await a.pipeToMafaldaRouter({ producerId: pub.producer.id, mafaldaRouter: b });
		const viewer = track(await view(b, pub.producer.id));
		await sendVideo(pub, 30);
		await viewer.receiver.waitForPackets(30, 5000);
		expect(b.canConsume({ producerId: pub.producer.id, rtpCapabilities: b.rtpCapabilities })).toBe(true);
		await closeRouter(a);
		await waitFor(() => viewer.consumer.closed, 'the consumer in the other router to close');
		await closeRouter(b);
	});
});

describe('Common API at three levels', () => {
	test('collections, resource usages and dumps cover what each level made', async () => {
		const router = await mafalda.createMafaldaRouter({ id: 'common-api-room', appData: { room: 'x' }, routerOptions: { mediaCodecs } });
		const transport = await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] });
		expect(router.appData).toEqual({ room: 'x' });
		expect(mafaldaPackage.mafaldaRouters.get('common-api-room')).toBe(router);
		expect(mafalda.mafaldaRouters.get('common-api-room')).toBe(router);
		for (const level of [router, mafalda, mafaldaPackage]) {
			expect(level.transports.get(transport.id)).toBe(transport);
			expect(level.workers.size).toBeGreaterThanOrEqual(1);
			expect(level.routers.size).toBeGreaterThanOrEqual(1);
			const usages = await level.getResourceUsages();
			expect([...usages.values()][0].ru_utime).toEqual(expect.any(Number));
		}
		const dump = await router.mafaldaDump();
		expect(dump.transports).toEqual([expect.objectContaining({ id: transport.id, kind: 'webrtc-transport' })]);
		expect(transport.iceParameters.usernameFragment).toEqual(expect.any(String));
		expect(transport.dtlsState).toBe('new');
		const newTransports: string[] = [];
		router.observer.on('newtransport', (t) => newTransports.push(t.id));
		const plain = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' } });
		expect(newTransports).toEqual([plain.id]);
		await mafaldaPackage.closeAllMafaldaRouters();
		expect(router.closed).toBe(true);
		expect(transport.closed).toBe(true);
		expect(mafaldaPackage.mafaldaRouters.has('common-api-room')).toBe(false);
		expect(mafaldaPackage.transports.has(transport.id)).toBe(false);
		await sleep(10);
	});
});
