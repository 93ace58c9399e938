// Proves the mediasoup-worker that set-up compiled is a working binary, not just
// a file: it must run, answer requests, and move real RTP between workers.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { RouterRtpCodecCapability } from '../lib/mediasoup-compat';
import { buildRtpPacket, nowMs, writeProbe } from '../bench/media/rtp-packet';
import { RtpReceiver, RtpSender } from '../bench/media/udp-peers';
import { mediasoupPackageDir } from '../scripts/mediasoup-under-test';

const LOCALHOST = '127.0.0.1';
const PRODUCER_PT = 101;
const PRODUCER_SSRC = 0x11223344;
const PACKETS = 100;
const KEY_FRAME_EVERY = 10;

const mediaCodecs: RouterRtpCodecCapability[] = [{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 }];

let worker1: types.Worker;
let worker2: types.Worker;
const sockets: Array<RtpReceiver | RtpSender> = [];

beforeAll(async () => {
	[worker1, worker2] = await Promise.all([
		mediasoup.createWorker({ logLevel: 'warn' }),
		mediasoup.createWorker({ logLevel: 'warn' }),
	]);
});

/**
 * Worker.close() only signals the child. Until Node reaps it, its process and
 * pipe handles stay open and jest may report them, so wait until the pid is
 * gone (a zombie still answers signal 0; a reaped process does not).
 */
async function closeWorker(worker: types.Worker | undefined): Promise<void> {
	if (!worker) return;
	const pid = worker.pid;
	worker.close();
	const deadline = Date.now() + 3000;
	while (Date.now() < deadline) {
		try {
			process.kill(pid, 0);
		} catch {
			return;
		}
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}

afterAll(async () => {
	await Promise.all(sockets.map((s) => s.close()));
	// Closing the workers closes their routers and transports too.
	await Promise.all([closeWorker(worker1), closeWorker(worker2)]);
});

async function bindPeers(): Promise<{ sender: RtpSender; receiver: RtpReceiver }> {
	const [sender, receiver] = await Promise.all([RtpSender.bind(), RtpReceiver.bind()]);
	sockets.push(sender, receiver);
	return { sender, receiver };
}

async function createRouters(): Promise<[types.Router, types.Router]> {
	return Promise.all([worker1.createRouter({ mediaCodecs }), worker2.createRouter({ mediaCodecs })]);
}

/** A VP8 producer on a PlainTransport of `router`, fed by `sender`. */
async function createProducer(
	router: types.Router,
	sender: RtpSender,
): Promise<{ producer: types.Producer; rtpPort: number }> {
	const transport = await router.createPlainTransport({ listenIp: LOCALHOST, rtcpMux: true, comedia: false });
	// Without comedia the transport only accepts RTP from the address it is connected to.
	await transport.connect({ ip: LOCALHOST, port: sender.port });
	const producer = await transport.produce({
		kind: 'video',
		rtpParameters: {
			codecs: [{ mimeType: 'video/VP8', payloadType: PRODUCER_PT, clockRate: 90000 }],
			encodings: [{ ssrc: PRODUCER_SSRC }],
		},
	});
	return { producer, rtpPort: transport.tuple.localPort };
}

/** A PlainTransport consumer of `producerId` on `router`, sending to `receiver`. */
async function createConsumer(
	router: types.Router,
	producerId: string,
	receiver: RtpReceiver,
): Promise<types.Consumer> {
	const transport = await router.createPlainTransport({ listenIp: LOCALHOST, rtcpMux: true, comedia: false });
	await transport.connect({ ip: LOCALHOST, port: receiver.port });
	const consumer = await transport.consume({ producerId, rtpCapabilities: router.rtpCapabilities, paused: false });
	receiver.codecFor(consumer.rtpParameters.codecs[0].payloadType, 'vp8');
	return consumer;
}

// Paced in 2 ms steps so a loss can only come from mediasoup, not from a burst
// overflowing a socket buffer.
async function sendVideo(sender: RtpSender, rtpPort: number): Promise<void> {
	for (let i = 0; i < PACKETS; i++) {
		const keyFrame = i % KEY_FRAME_EVERY === 0;
		const payload = writeProbe(i, nowMs(), 600, 'vp8', keyFrame);
		const header = {
			payloadType: PRODUCER_PT,
			ssrc: PRODUCER_SSRC,
			sequenceNumber: 1000 + i,
			timestamp: 3000 * i,
			marker: true,
		};
		sender.send(buildRtpPacket(header, payload), rtpPort);
		await new Promise((resolve) => setTimeout(resolve, 2));
	}
}

async function expectVideoThrough(consumer: types.Consumer, receiver: RtpReceiver): Promise<void> {
	// Packets before the first key frame are legitimately dropped by consumers;
	// the stream starts with one, so nearly all should arrive on loopback.
	await receiver.waitForPackets(PACKETS - KEY_FRAME_EVERY, 5000);
	const consumerSsrc = consumer.rtpParameters.encodings?.[0]?.ssrc;
	expect(consumerSsrc).toBeDefined();
	expect(receiver.receivedBySsrc().get(consumerSsrc as number)).toBeGreaterThanOrEqual(PACKETS - KEY_FRAME_EVERY);
	// Every forwarded packet's probe must decode: a latency is only recorded then.
	expect(receiver.latencies.length).toBe(receiver.packets);
	expect(receiver.latencies.every((ms) => ms >= 0 && ms < 2000)).toBe(true);
	expect(receiver.totalLost).toBe(0);
}

type SrtpTransport = types.PipeTransport | types.PlainTransport;

/** Connects two SRTP transports to each other, each with the other's address and keys. */
async function connectSrtpPair(a: SrtpTransport, b: SrtpTransport): Promise<void> {
	await Promise.all([
		a.connect({ ip: b.tuple.localAddress, port: b.tuple.localPort, srtpParameters: b.srtpParameters }),
		b.connect({ ip: a.tuple.localAddress, port: a.tuple.localPort, srtpParameters: a.srtpParameters }),
	]);
}

/** The pair really carried encrypted media (counted on both of its ends). */
async function expectRtpBetween(sending: SrtpTransport, receiving: SrtpTransport): Promise<void> {
	const [sendStats] = await sending.getStats();
	const [recvStats] = await receiving.getStats();
	expect(sendStats.rtpBytesSent).toBeGreaterThan(0);
	expect(recvStats.rtpBytesReceived).toBeGreaterThan(0);
}

test('the built worker runs and answers requests', async () => {
	const bin = process.env.MEDIASOUP_WORKER_BIN;
	expect(bin).toBeDefined();
	expect(() => fs.accessSync(bin as string, fs.constants.X_OK)).not.toThrow();
	expect(worker1.pid).toBeGreaterThan(0);
	const usage = await worker1.getResourceUsage();
	expect(typeof usage.ru_utime).toBe('number');
	const dump = await worker1.dump();
	expect(dump.pid).toBe(worker1.pid);
});

test('the mediasoup module under test is the package MAFALDA_TEST_MEDIASOUP names', () => {
	const pkg = JSON.parse(fs.readFileSync(path.join(mediasoupPackageDir(), 'package.json'), 'utf8')) as { version: string };
	expect(mediasoup.version).toBe(pkg.version);
});

test('RTP crosses workers through router.pipeToRouter()', async () => {
	const [router1, router2] = await createRouters();
	const { sender, receiver } = await bindPeers();
	const { producer, rtpPort } = await createProducer(router1, sender);
	await router1.pipeToRouter({ producerId: producer.id, router: router2 });
	const consumer = await createConsumer(router2, producer.id, receiver);

	await sendVideo(sender, rtpPort);
	await expectVideoThrough(consumer, receiver);
	expect(sender.sendErrors).toBe(0);
});

test('RTP crosses workers through an SRTP pipe', async () => {
	const [router1, router2] = await createRouters();
	const { sender, receiver } = await bindPeers();
	const { producer, rtpPort } = await createProducer(router1, sender);

	const [pipe1, pipe2] = await Promise.all([
		router1.createPipeTransport({ listenIp: LOCALHOST, enableSrtp: true }),
		router2.createPipeTransport({ listenIp: LOCALHOST, enableSrtp: true }),
	]);
	expect(pipe1.srtpParameters).toBeDefined();
	expect(pipe2.srtpParameters).toBeDefined();
	await connectSrtpPair(pipe1, pipe2);
	const pipeConsumer = await pipe1.consume({ producerId: producer.id });
	await pipe2.produce({
		id: producer.id,
		kind: pipeConsumer.kind,
		rtpParameters: pipeConsumer.rtpParameters,
		paused: pipeConsumer.producerPaused,
	});
	const consumer = await createConsumer(router2, producer.id, receiver);

	await sendVideo(sender, rtpPort);
	await expectVideoThrough(consumer, receiver);
	await expectRtpBetween(pipe1, pipe2);
});

// Each suite has its own key and salt lengths, which the libsrtp bridge of the
// worker build splits and joins (scripts/worker-build/srtp3-compat.h): a wrong
// length would fail the session or garble every packet. RTCP goes through the
// same sessions (receiver reports), so SRTCP is exercised too.
const SRTP_SUITES: types.SrtpCryptoSuite[] = ['AEAD_AES_256_GCM', 'AEAD_AES_128_GCM', 'AES_CM_128_HMAC_SHA1_80', 'AES_CM_128_HMAC_SHA1_32'];

test.each(SRTP_SUITES)('RTP crosses workers through SRTP PlainTransports with %s', async (srtpCryptoSuite) => {
	const [router1, router2] = await createRouters();
	const { sender, receiver } = await bindPeers();
	const { producer, rtpPort } = await createProducer(router1, sender);

	const options = { listenIp: LOCALHOST, rtcpMux: true, comedia: false, enableSrtp: true, srtpCryptoSuite };
	const [out, into] = await Promise.all([router1.createPlainTransport(options), router2.createPlainTransport(options)]);
	expect(out.srtpParameters?.cryptoSuite).toBe(srtpCryptoSuite);
	await connectSrtpPair(out, into);
	const relay = await out.consume({ producerId: producer.id, rtpCapabilities: router1.rtpCapabilities });
	const relayed = await into.produce({ kind: relay.kind, rtpParameters: relay.rtpParameters });
	const consumer = await createConsumer(router2, relayed.id, receiver);

	await sendVideo(sender, rtpPort);
	await expectVideoThrough(consumer, receiver);
	await expectRtpBetween(out, into);
});
