// Real WebRTC (ICE, DTLS, SRTP) end to end: a werift peer sends VP8 to a
// mediasoup WebRtcTransport on router 1, the producer is piped to router 2 on
// another worker, and a second werift peer receives it from router 2. The same
// with data channels (SCTP over DTLS), piped over SCTP between the workers.
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { RouterRtpCodecCapability } from '../lib/mediasoup-compat';
import { Mafalda, type WebRtcTransport } from '../lib';
import {
	LOOPBACK_IP,
	createReceivingPeer,
	createSendingPeer,
	type ReceivingPeer,
	type SendingPeer,
} from './helpers/werift-peer';
import { createDataPeer, type DataPeer } from './helpers/werift-data-peer';

const mediaCodecs: RouterRtpCodecCapability[] = [
	{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];

/** Resolves once a mediasoup transport's DTLS or SCTP state is 'connected'. */
function waitForConnected(transport: types.WebRtcTransport, layer: 'dtls' | 'sctp' = 'dtls', timeoutMs = 10_000): Promise<void> {
	const state = (): string | undefined => (layer === 'dtls' ? transport.dtlsState : transport.sctpState);
	const event = layer === 'dtls' ? 'dtlsstatechange' : 'sctpstatechange';
	return new Promise<void>((resolve, reject) => {
		if (state() === 'connected') return resolve();
		const done = (error?: Error): void => {
			clearTimeout(timer);
			transport.observer.removeListener('close', onClose);
			transport.removeListener(event, onState);
			if (error) reject(error);
			else resolve();
		};
		const onState = (value: string): void => {
			if (value === 'connected') done();
			else if (value === 'failed' || value === 'closed') done(new Error(`transport ${transport.id} ${layer}State ${value}`));
		};
		const onClose = (): void => done(new Error(`transport ${transport.id} closed before ${layer} connected (did its worker die?)`));
		transport.observer.once('close', onClose);
		const timer = setTimeout(() => done(new Error(`transport ${transport.id} ${layer}State still ${state()}`)), timeoutMs);
		transport.on(event, onState);
	});
}

/** Two workers with a router each and a loopback WebRtcTransport on each router. */
async function transportsOnTwoWorkers(
	workers: types.Worker[],
	options: { enableSctp?: boolean } = {},
): Promise<{ router1: types.Router; router2: types.Router; sendTransport: types.WebRtcTransport; recvTransport: types.WebRtcTransport }> {
	for (let i = 0; i < 2; i++) workers.push(await mediasoup.createWorker({ logLevel: 'warn' }));
	const [router1, router2] = await Promise.all(workers.map((w) => w.createRouter({ mediaCodecs })));
	const listenInfos: types.TransportListenInfo[] = [{ protocol: 'udp', ip: LOOPBACK_IP }];
	const sendTransport = await router1.createWebRtcTransport({ listenInfos, ...options });
	const recvTransport = await router2.createWebRtcTransport({ listenInfos, ...options });
	return { router1, router2, sendTransport, recvTransport };
}

describe('real WebRTC through mediasoup with werift peers', () => {
	const workers: types.Worker[] = [];
	let sender: SendingPeer | undefined;
	let receiver: ReceivingPeer | undefined;

	afterEach(async () => {
		await Promise.allSettled([sender?.close(), receiver?.close()]);
		for (const w of workers.splice(0)) w.close();
		sender = receiver = undefined;
	});

	test('VP8 from a werift peer on router 1 reaches a werift peer on router 2', async () => {
		const { router1, router2, sendTransport, recvTransport } = await transportsOnTwoWorkers(workers);

		sender = await createSendingPeer(sendTransport, router1.rtpCapabilities);
		sender.start(20);
		await Promise.all([sender.waitConnected(), waitForConnected(sendTransport)]);
		expect(sendTransport.dtlsState).toBe('connected');
		expect(sendTransport.iceState).toMatch(/^(connected|completed)$/);

		const { pipeProducer } = await router1.pipeToRouter({ producerId: sender.producerId, router: router2 });
		expect(pipeProducer?.id).toBe(sender.producerId);

		receiver = await createReceivingPeer(recvTransport, router2.rtpCapabilities, sender.producerId);
		await Promise.all([receiver.waitConnected(), waitForConnected(recvTransport)]);
		expect(recvTransport.dtlsState).toBe('connected');

		const received = await receiver.waitForPackets(20);
		expect(received).toBeGreaterThanOrEqual(20);
		expect(sender.framesSent).toBeGreaterThanOrEqual(received);
		// SRTP round trip kept the VP8 payload intact, and only the consumer's
		// SSRC came in (mediasoup rewrote the sender's SSRC twice on the way).
		expect(receiver.vp8KeyFramesReceived).toBe(receiver.packetsReceived);
		expect([...receiver.receivedSsrcs]).toEqual([receiver.ssrc]);
		expect(receiver.ssrc).not.toBe(sender.ssrc);
		// werift's side of DTLS is up too.
		for (const peer of [sender, receiver]) {
			expect(peer.pc.connectionState).toBe('connected');
			expect(peer.pc.dtlsTransports.map((t) => t.state)).toEqual(['connected']);
		}

		// mediasoup decrypted RTP on router 1 and sent RTP on router 2.
		const [sendStats] = await sendTransport.getStats();
		expect(sendStats?.rtpBytesReceived ?? 0).toBeGreaterThan(0);
		const [recvStats] = await recvTransport.getStats();
		expect(recvStats?.rtpBytesSent ?? 0).toBeGreaterThan(0);
	}, 30_000);
});

describe('real WebRTC through one MafaldaRouter spread over two workers', () => {
	let mafalda: Mafalda | undefined;
	let sender: SendingPeer | undefined;
	let receiver: ReceivingPeer | undefined;

	afterEach(async () => {
		await Promise.allSettled([sender?.close(), receiver?.close()]);
		await mafalda?.close();
		sender = receiver = mafalda = undefined;
	});

	test('a werift peer sends on one shard, another receives on the other shard, through mafalda', async () => {
		mafalda = new Mafalda(mediasoup, { numWorkers: 2 });
		// One unit per worker: the sending transport fills worker 0, so the
		// receiving transport opens a shard on worker 1 and the producer is piped.
		const router = await mafalda.createMafaldaRouter({ maxConsumersPerWorker: 1, routerOptions: { mediaCodecs } });
		const listenInfos: types.TransportListenInfo[] = [{ protocol: 'udp', ip: LOOPBACK_IP }];
		const sendTransport = await router.createWebRtcTransport({ listenInfos });
		const recvTransport = await router.createWebRtcTransport({ listenInfos });
		expect([sendTransport.workerIndex, recvTransport.workerIndex]).toEqual([0, 1]);

		const dtlsConnected = (t: WebRtcTransport): Promise<void> =>
			t.dtlsState === 'connected'
				? Promise.resolve()
				: new Promise((resolve) => t.on('dtlsstatechange', (state) => state === 'connected' && resolve()));

		sender = await createSendingPeer(sendTransport, router.rtpCapabilities);
		sender.start(20);
		await Promise.all([sender.waitConnected(), dtlsConnected(sendTransport)]);

		receiver = await createReceivingPeer(recvTransport, router.rtpCapabilities, sender.producerId);
		await Promise.all([receiver.waitConnected(), dtlsConnected(recvTransport)]);
		expect(recvTransport.dtlsState).toBe('connected');
		expect(mafalda.pipes.pipes()).toEqual([expect.objectContaining({ producerId: sender.producerId, fromWorker: 0, toWorker: 1 })]);

		const received = await receiver.waitForPackets(20);
		expect(received).toBeGreaterThanOrEqual(20);
		expect(receiver.vp8KeyFramesReceived).toBe(receiver.packetsReceived);
	}, 30_000);
});

const MESSAGES = Array.from({ length: 20 }, (_, i) => `message ${i} ${'x'.repeat(i * 50)}`);

/** Sends MESSAGES on `from`'s channel and expects them all, in order, on `to`'s. */
async function expectMessagesThrough(from: DataPeer, to: DataPeer): Promise<void> {
	for (const message of MESSAGES) from.channel.send(message);
	expect(await to.waitForMessages(MESSAGES.length)).toEqual(MESSAGES);
}

describe('real WebRTC data channels (SCTP over DTLS) with werift peers', () => {
	const workers: types.Worker[] = [];
	let peers: DataPeer[] = [];

	afterEach(async () => {
		await Promise.allSettled(peers.map((p) => p.close()));
		for (const w of workers.splice(0)) w.close();
		peers = [];
	});

	test('messages from a werift data channel on router 1 reach a werift data channel on router 2', async () => {
		const { router1, router2, sendTransport, recvTransport } = await transportsOnTwoWorkers(workers, { enableSctp: true });

		const sendPeer = await createDataPeer(sendTransport, 1);
		peers.push(sendPeer);
		const dataProducer = await sendTransport.produceData({ sctpStreamParameters: { streamId: 1, ordered: true }, label: 'chat' });
		await sendPeer.waitOpen();

		await router1.pipeToRouter({ dataProducerId: dataProducer.id, router: router2 });
		const dataConsumer = await recvTransport.consumeData({ dataProducerId: dataProducer.id });
		const streamId = dataConsumer.sctpStreamParameters?.streamId;
		expect(streamId).toBeDefined();
		const recvPeer = await createDataPeer(recvTransport, streamId as number);
		peers.push(recvPeer);
		await recvPeer.waitOpen();
		await Promise.all([sendTransport, recvTransport].map((t) => waitForConnected(t, 'sctp')));
		expect([sendTransport.dtlsState, recvTransport.dtlsState]).toEqual(['connected', 'connected']);

		await expectMessagesThrough(sendPeer, recvPeer);
		const [producerStats] = await dataProducer.getStats();
		const [consumerStats] = await dataConsumer.getStats();
		expect(producerStats.messagesReceived).toBe(MESSAGES.length);
		expect(consumerStats.messagesSent).toBe(MESSAGES.length);
	}, 30_000);
});

describe('real WebRTC data channels through one MafaldaRouter spread over two workers', () => {
	let mafalda: Mafalda | undefined;
	let peers: DataPeer[] = [];

	afterEach(async () => {
		await Promise.allSettled(peers.map((p) => p.close()));
		await mafalda?.close();
		peers = [];
		mafalda = undefined;
	});

	test('a werift data channel on one shard reaches a werift data channel on the other, through an SCTP pipe', async () => {
		mafalda = new Mafalda(mediasoup, { numWorkers: 2 });
		// One unit per worker: the first transport fills worker 0, so the second opens a shard on worker 1.
		const router = await mafalda.createMafaldaRouter({ maxConsumersPerWorker: 1, routerOptions: { mediaCodecs } });
		const listenInfos: types.TransportListenInfo[] = [{ protocol: 'udp', ip: LOOPBACK_IP }];
		const sendTransport = await router.createWebRtcTransport({ listenInfos, enableSctp: true });
		const recvTransport = await router.createWebRtcTransport({ listenInfos, enableSctp: true });
		expect([sendTransport.workerIndex, recvTransport.workerIndex]).toEqual([0, 1]);

		const sendPeer = await createDataPeer(sendTransport, 1);
		peers.push(sendPeer);
		const dataProducer = await sendTransport.produceData({ sctpStreamParameters: { streamId: 1, ordered: true }, label: 'chat' });
		await sendPeer.waitOpen();

		const dataConsumer = await recvTransport.consumeData({ dataProducerId: dataProducer.id });
		const recvPeer = await createDataPeer(recvTransport, dataConsumer.sctpStreamParameters?.streamId as number);
		peers.push(recvPeer);
		await recvPeer.waitOpen();
		expect(mafalda.dataPipes.pipes()).toEqual([expect.objectContaining({ stream: 'data', producerId: dataProducer.id, fromWorker: 0, toWorker: 1 })]);

		await expectMessagesThrough(sendPeer, recvPeer);
	}, 30_000);
});
