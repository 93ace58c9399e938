// The proxies behave as mediasoup's own objects where an app can tell: the
// observer events of pause()/resume() (overlapping calls included, and a
// consumer following its producer), Buffers, the states of a closed
// transport, DirectTransport.connect(), subchannels, canConsume() on the app's
// capabilities, and plain data from JSON.stringify. Where it can, each test
// runs the same steps on plain mediasoup and expects the same result.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { buildRtpPacket, nowMs, parseRtpPacket, writeProbe } from '../bench/media/rtp-packet';
import { Mafalda, type MafaldaRouter } from '../lib';
import { LOCALHOST, mediaCodecs, sleep, waitFor } from './helpers/mafalda-media';

let mafalda: Mafalda;
let plainWorker: types.Worker;
let plainRouter: types.Router;

beforeAll(async () => {
	// Its own CPU slots: the second worker must start in this file whatever else runs.
	mafalda = new Mafalda(mediasoup, { numWorkers: 2, cpuSlotDir: fs.mkdtempSync(path.join(os.tmpdir(), 'mafalda-fidelity-slots-')) });
	plainWorker = await mediasoup.createWorker();
	plainRouter = await plainWorker.createRouter({ mediaCodecs });
});

afterAll(async () => {
	await mafalda.close();
	// Until its process is gone, jest's worker would not exit.
	const exited = new Promise<void>((resolve) => plainWorker.once('subprocessclose', () => resolve()));
	plainWorker.close();
	await exited;
});

/** What the tests use of a mediasoup Router, a MafaldaRouter offers too. */
interface Pausable {
	readonly id: string;
	readonly paused: boolean;
	readonly observer: { on(event: string, listener: () => void): unknown };
	pause(): Promise<void>;
	resume(): Promise<void>;
}
interface TransportLike {
	produce(options: types.ProducerOptions): Promise<Pausable>;
	consume(options: types.ConsumerOptions): Promise<Pausable & { readonly producerPaused: boolean }>;
	produceData(options?: types.DataProducerOptions): Promise<Pausable>;
	consumeData(options: types.DataConsumerOptions): Promise<Pausable & { readonly dataProducerPaused: boolean }>;
}
interface RouterLike {
	readonly rtpCapabilities: types.RtpCapabilities;
	createPlainTransport(options: types.PlainTransportOptions): Promise<TransportLike>;
	createDirectTransport(): Promise<TransportLike>;
}

const VP8_PARAMETERS: types.RtpParameters = { codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }], encodings: [{ ssrc: 4242 }] };
const PLAIN = { listenInfo: { protocol: 'udp', ip: LOCALHOST }, rtcpMux: true, comedia: false } as const;

/** A producer, a consumer, a data producer and a data consumer; with two transports, so on two shards when `maxConsumersPerWorker` is 1. */
async function objectsOn(router: RouterLike): Promise<{ producer: Pausable; consumer: Awaited<ReturnType<TransportLike['consume']>>; dataProducer: Pausable; dataConsumer: Awaited<ReturnType<TransportLike['consumeData']>> }> {
	const sending = await router.createPlainTransport(PLAIN);
	const receiving = await router.createPlainTransport(PLAIN);
	const producer = await sending.produce({ kind: 'video', rtpParameters: VP8_PARAMETERS });
	const consumer = await receiving.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
	const directSending = await router.createDirectTransport();
	const directReceiving = await router.createDirectTransport();
	const dataProducer = await directSending.produceData();
	const dataConsumer = await directReceiving.consumeData({ dataProducerId: dataProducer.id });
	return { producer, consumer, dataProducer, dataConsumer };
}

function observerLog(object: Pausable): string[] {
	const events: string[] = [];
	object.observer.on('pause', () => events.push('pause'));
	object.observer.on('resume', () => events.push('resume'));
	return events;
}

/** mediasoup's own race: calls not awaited still give one observer event per change of state. */
async function overlappingPauses(object: Pausable): Promise<{ events: string[]; paused: boolean }> {
	const events = observerLog(object);
	await object.pause();
	await object.resume();
	void object.pause();
	void object.resume();
	void object.pause();
	void object.pause();
	void object.pause();
	await object.resume();
	void object.resume();
	await object.pause();
	return { events, paused: object.paused };
}

async function mafaldaRouter(): Promise<MafaldaRouter> {
	// One placement unit per worker: the receiving transports land on the second worker, behind pipes.
	return mafalda.createMafaldaRouter({ maxConsumersPerWorker: 1, routerOptions: { mediaCodecs } });
}

describe('pause() and resume()', () => {
	const EXPECTED = { events: ['pause', 'resume', 'pause', 'resume', 'pause', 'resume', 'pause'], paused: true };

	test('overlapping calls emit the observer events mediasoup emits, on all four kinds', async () => {
		const plain = await objectsOn(plainRouter as unknown as RouterLike);
		const router = await mafaldaRouter();
		const ours = await objectsOn(router as unknown as RouterLike);
		expect(router.shards().size).toBe(2);
		// Consumers first: a producer left paused would silence its consumer's observer.
		for (const kind of ['consumer', 'dataConsumer', 'producer', 'dataProducer'] as const) {
			const expected = await overlappingPauses(plain[kind]);
			expect({ kind, ...expected }).toEqual({ kind, ...EXPECTED });
			expect({ kind, ...(await overlappingPauses(ours[kind])) }).toEqual({ kind, ...expected });
		}
		await router.close();
	});

	test('a consumer and a data consumer on another shard report their producer pausing as mediasoup does', async () => {
		const workers: number[][] = [];
		const steps = async (router: RouterLike): Promise<Record<string, string[]>> => {
			const { producer, consumer, dataProducer, dataConsumer } = await objectsOn(router);
			workers.push([producer, consumer, dataProducer, dataConsumer].map((o) => (o as { workerIndex?: number }).workerIndex ?? -1));
			const log = { consumer: observerLog(consumer), dataConsumer: observerLog(dataConsumer) };
			// As in mediasoup's own test: both calls at once, events in order.
			await Promise.all([dataProducer.pause(), dataProducer.resume()]);
			await waitFor(() => log.dataConsumer.length === 2, 'data consumer observer pause and resume');
			await producer.pause();
			await waitFor(() => consumer.producerPaused, 'producerpause');
			// Paused twice over: neither its own pause nor its producer's resume is news.
			await consumer.pause();
			await producer.resume();
			await waitFor(() => !consumer.producerPaused, 'producerresume');
			await consumer.resume();
			await dataConsumer.pause();
			await dataProducer.pause();
			await waitFor(() => dataConsumer.dataProducerPaused, 'dataproducerpause');
			await dataConsumer.resume();
			await dataProducer.resume();
			await waitFor(() => !dataConsumer.dataProducerPaused, 'dataproducerresume');
			// Late events would show up here.
			await sleep(100);
			return log;
		};
		const expected = await steps(plainRouter as unknown as RouterLike);
		expect(expected).toEqual({ consumer: ['pause', 'resume'], dataConsumer: ['pause', 'resume', 'pause', 'resume'] });
		const router = await mafaldaRouter();
		expect(await steps(router as unknown as RouterLike)).toEqual(expected);
		// Each consumer on the other worker than its producer: the pauses went through pipes.
		expect(workers[1][0]).not.toBe(workers[1][1]);
		expect(workers[1][2]).not.toBe(workers[1][3]);
		await router.close();
	});
});

describe('Buffers cross the thread as Buffers', () => {
	let router: MafaldaRouter;

	beforeAll(async () => {
		router = await mafalda.createMafaldaRouter({ routerOptions: { mediaCodecs } });
	});

	afterAll(() => router.close());

	test("a data consumer's 'message'", async () => {
		const sending = await router.createDirectTransport();
		const receiving = await router.createDirectTransport();
		const dataProducer = await sending.produceData();
		const dataConsumer = await receiving.consumeData({ dataProducerId: dataProducer.id });
		const message = new Promise<unknown>((resolve) => dataConsumer.once('message', resolve));
		dataProducer.send(Buffer.from('héllo'), 53);
		const received = await message;
		expect(Buffer.isBuffer(received)).toBe(true);
		expect((received as Buffer).toString('utf8')).toBe('héllo');
		// Just its bytes crossed the thread, not the 8 KB pool mediasoup's small Buffers are slices of.
		expect((received as Buffer).buffer.byteLength).toBe((received as Buffer).length);
	});

	test("a DirectTransport consumer's 'rtp' and a DirectTransport producer's 'rtcp'", async () => {
		const sending = await router.createDirectTransport();
		const receiving = await router.createDirectTransport();
		// With PLI in its feedback, a key frame request reaches the producer's transport as RTCP.
		const codec = { ...VP8_PARAMETERS.codecs[0], rtcpFeedback: [{ type: 'nack', parameter: 'pli' }] };
		const producer = await sending.produce({ kind: 'video', rtpParameters: { ...VP8_PARAMETERS, codecs: [codec] } });
		const consumer = await receiving.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
		const rtp: unknown[] = [];
		const rtcp: unknown[] = [];
		consumer.on('rtp', (packet) => rtp.push(packet));
		sending.on('rtcp', (packet) => rtcp.push(packet));
		for (let seq = 0; seq < 500 && (rtp.length === 0 || rtcp.length === 0); seq++) {
			const payload = writeProbe(seq, nowMs(), 200, 'vp8', seq % 10 === 0);
			producer.send(buildRtpPacket({ payloadType: 101, ssrc: 4242, sequenceNumber: seq, timestamp: seq * 3000, marker: true }, payload));
			if (seq % 20 === 5) await consumer.requestKeyFrame();
			await sleep(10);
		}
		expect(rtp.length).toBeGreaterThan(0);
		expect(rtcp.length).toBeGreaterThan(0);
		expect(rtp.every((p) => Buffer.isBuffer(p))).toBe(true);
		expect(rtcp.every((p) => Buffer.isBuffer(p))).toBe(true);
		expect(parseRtpPacket(rtp[0] as Buffer)?.ssrc).toBe(consumer.rtpParameters.encodings?.[0].ssrc);
		// A PLI: payload-specific feedback (packet type 206), format 1.
		expect([(rtcp[0] as Buffer)[1], (rtcp[0] as Buffer)[0] & 0x1f]).toEqual([206, 1]);
	});
});

describe('closed transports', () => {
	test("a closed WebRtcTransport's ice, dtls and sctp states are 'closed', as mediasoup's", async () => {
		const router = await mafalda.createMafaldaRouter({ routerOptions: { mediaCodecs } });
		const options = { listenInfos: [{ protocol: 'udp' as const, ip: LOCALHOST }], enableSctp: true };
		const byClose = await router.createWebRtcTransport(options);
		const byRouter = await router.createWebRtcTransport(options);
		const plain = await router.createPlainTransport({ ...PLAIN, enableSctp: true });
		expect([byClose.iceState, byClose.dtlsState, byClose.sctpState]).toEqual(['new', 'new', 'new']);
		byClose.close();
		expect([byClose.iceState, byClose.dtlsState, byClose.sctpState, byClose.iceSelectedTuple]).toEqual(['closed', 'closed', 'closed', undefined]);
		const reference = await plainRouter.createWebRtcTransport(options);
		reference.close();
		expect([reference.iceState, reference.dtlsState, reference.sctpState]).toEqual(['closed', 'closed', 'closed']);

		const routerClosed = new Promise<void>((resolve) => byRouter.once('routerclose', () => resolve()));
		await router.close();
		await routerClosed;
		expect([byRouter.iceState, byRouter.dtlsState, byRouter.sctpState]).toEqual(['closed', 'closed', 'closed']);
		expect(plain.sctpState).toBe('closed');
	});
});

describe('DirectTransport and DataConsumer methods', () => {
	test('directTransport.connect() takes no argument and resolves, as mediasoup', async () => {
		const router = await mafalda.createMafaldaRouter();
		const direct = await router.createDirectTransport();
		await expect(direct.connect()).resolves.toBeUndefined();
		await router.close();
	});

	test('setSubchannels() packs into 16 bits as mediasoup does (65536 is 0)', async () => {
		const run = async (router: RouterLike): Promise<number[]> => {
			const sending = await router.createDirectTransport();
			const receiving = await router.createDirectTransport();
			const dataProducer = await sending.produceData();
			const dataConsumer = (await receiving.consumeData({ dataProducerId: dataProducer.id })) as unknown as types.DataConsumer;
			await dataConsumer.setSubchannels([999, 999, 998, 65536]);
			return [...dataConsumer.subchannels].sort((a, b) => a - b);
		};
		const expected = await run(plainRouter as unknown as RouterLike);
		expect(expected).toEqual([0, 998, 999]);
		const router = await mafalda.createMafaldaRouter();
		expect(await run(router as unknown as RouterLike)).toEqual(expected);
		await router.close();
	});
});

test("canConsume() works on frozen capabilities and leaves the app's object as it was", async () => {
	const router = await mafalda.createMafaldaRouter({ routerOptions: { mediaCodecs } });
	const transport = await router.createPlainTransport(PLAIN);
	const producer = await transport.produce({ kind: 'video', rtpParameters: VP8_PARAMETERS });
	// Capabilities as a browser's device gives them: no parameters, no rtcpFeedback.
	const capabilities = (): types.RtpCapabilities => ({ codecs: [{ kind: 'video', mimeType: 'video/VP8', preferredPayloadType: 96, clockRate: 90000 }] });
	const frozen = deepFreeze(capabilities());
	expect(router.canConsume({ producerId: producer.id, rtpCapabilities: frozen })).toBe(true);
	const mutable = capabilities();
	expect(router.canConsume({ producerId: producer.id, rtpCapabilities: mutable })).toBe(true);
	expect(mutable).toEqual(capabilities());
	await router.close();
});

test('JSON.stringify works on shards(), the router, its workers and the proxies: plain data, no call into a worker thread', async () => {
	const router = await mafaldaRouter();
	const first = await router.createDirectTransport();
	const second = await router.createDirectTransport();
	const dataProducer = await first.produceData({ label: 'x' });
	const shards = router.shards();
	expect(shards.size).toBe(2);
	const rows = JSON.parse(JSON.stringify([...shards.values()])) as Array<Record<string, unknown>>;
	expect(rows).toEqual([...shards.values()].map((s) => ({ routerId: router.id, shardId: s.shardId, workerIndex: s.workerIndex })));
	// Structured clone too: nothing in it but data.
	expect(structuredClone([...shards.values()])).toEqual(rows);
	for (const proxy of [first, second, dataProducer]) {
		const json = JSON.parse(JSON.stringify(proxy)) as Record<string, unknown>;
		expect(json).toMatchObject({ id: proxy.id, closed: false, workerIndex: proxy.workerIndex });
	}
	expect(JSON.parse(JSON.stringify(dataProducer))).toMatchObject({ label: 'x', remoteKind: 'data-producer' });
	expect(JSON.parse(JSON.stringify(router))).toEqual({ id: router.id, closed: false, shards: rows });
	const workers = JSON.parse(JSON.stringify([...mafalda.workers.values()])) as Array<Record<string, unknown>>;
	expect(workers.map((w) => w.id).sort()).toEqual(['0', '1']);
	await router.close();
});

function deepFreeze<T>(value: T): T {
	if (value && typeof value === 'object') {
		for (const v of Object.values(value)) deepFreeze(v);
		Object.freeze(value);
	}
	return value;
}
