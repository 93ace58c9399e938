// Real WebRTC (ICE, DTLS, SRTP) end to end: a werift peer sends VP8 to a
// mediasoup WebRtcTransport on router 1, the producer is piped to router 2 on
// another worker, and a second werift peer receives it from router 2.
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

const mediaCodecs: RouterRtpCodecCapability[] = [
	{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];

function waitForDtlsConnected(transport: types.WebRtcTransport, timeoutMs = 10_000): Promise<void> {
	return new Promise<void>((resolve, reject) => {
		if (transport.dtlsState === 'connected') return resolve();
		const onState = (state: types.DtlsState): void => {
			if (state === 'connected') {
				clearTimeout(timer);
				transport.observer.removeListener('close', onClose);
				transport.removeListener('dtlsstatechange', onState);
				resolve();
			} else if (state === 'failed' || state === 'closed') {
				clearTimeout(timer);
				transport.observer.removeListener('close', onClose);
				transport.removeListener('dtlsstatechange', onState);
				reject(new Error(`transport ${transport.id} dtlsState ${state}`));
			}
		};
		const onClose = (): void => {
			clearTimeout(timer);
			transport.removeListener('dtlsstatechange', onState);
			reject(new Error(`transport ${transport.id} closed before DTLS connected (did its worker die?)`));
		};
		transport.observer.once('close', onClose);
		const timer = setTimeout(() => {
			transport.observer.removeListener('close', onClose);
			transport.removeListener('dtlsstatechange', onState);
			reject(new Error(`transport ${transport.id} dtlsState still ${transport.dtlsState}`));
		}, timeoutMs);
		transport.on('dtlsstatechange', onState);
	});
}

describe('real WebRTC through mediasoup with werift peers', () => {
	let worker1: types.Worker | undefined;
	let worker2: types.Worker | undefined;
	let sender: SendingPeer | undefined;
	let receiver: ReceivingPeer | undefined;

	afterEach(async () => {
		await Promise.allSettled([sender?.close(), receiver?.close()]);
		worker1?.close();
		worker2?.close();
		sender = receiver = worker1 = worker2 = undefined;
	});

	test('VP8 from a werift peer on router 1 reaches a werift peer on router 2', async () => {
		worker1 = await mediasoup.createWorker({ logLevel: 'warn' });
		worker2 = await mediasoup.createWorker({ logLevel: 'warn' });
		const router1 = await worker1.createRouter({ mediaCodecs });
		const router2 = await worker2.createRouter({ mediaCodecs });

		const listenInfos: types.TransportListenInfo[] = [{ protocol: 'udp', ip: LOOPBACK_IP }];
		const sendTransport = await router1.createWebRtcTransport({ listenInfos });
		const recvTransport = await router2.createWebRtcTransport({ listenInfos });

		sender = await createSendingPeer(sendTransport, router1.rtpCapabilities);
		sender.start(20);
		await Promise.all([sender.waitConnected(), waitForDtlsConnected(sendTransport)]);
		expect(sendTransport.dtlsState).toBe('connected');
		expect(sendTransport.iceState).toMatch(/^(connected|completed)$/);

		const { pipeProducer } = await router1.pipeToRouter({ producerId: sender.producerId, router: router2 });
		expect(pipeProducer?.id).toBe(sender.producerId);

		receiver = await createReceivingPeer(recvTransport, router2.rtpCapabilities, sender.producerId);
		await Promise.all([receiver.waitConnected(), waitForDtlsConnected(recvTransport)]);
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
