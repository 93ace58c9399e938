// Media plumbing shared by the MafaldaRouter integration tests: real RTP from
// UDP sockets into PlainTransport producers, and out of PlainTransport
// consumers into UDP sockets, on 127.0.0.1.
import * as path from 'node:path';
import type { types } from 'mediasoup';
import { mediasoupPackageDir, type RouterRtpCodecCapability } from '../../lib/mediasoup-compat';
import { buildRtpPacket, nowMs, writeProbe } from '../../bench/media/rtp-packet';
import { RtpReceiver, RtpSender } from '../../bench/media/udp-peers';
import type { MafaldaRouter, Consumer, PlainTransport, Producer } from '../../lib';

export const LOCALHOST = '127.0.0.1';

export const mediaCodecs: RouterRtpCodecCapability[] = [
	{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
	{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];

export const VIDEO_PT = 101;
export const AUDIO_PT = 100;
export const AUDIO_LEVEL_EXT_ID = 1;

/** The mediasoup module file, resolved the way an app would import it. */
export function mediasoupEntry(): string {
	return require.resolve('mediasoup');
}

export function mediasoupDir(): string {
	return mediasoupPackageDir();
}

export function plainOptions(): types.PlainTransportOptions {
	return { listenInfo: { protocol: 'udp', ip: LOCALHOST }, rtcpMux: true, comedia: false };
}

export interface Publisher {
	transport: PlainTransport;
	producer: Producer;
	sender: RtpSender;
	ssrc: number;
	seq: number;
}

/** `host`: this process's address as the transport's machine reaches it (a cluster test's bridge). */
export async function publishVideo(router: MafaldaRouter, ssrc: number, host = LOCALHOST): Promise<Publisher> {
	const sender = await RtpSender.bind(host);
	const transport = await router.createPlainTransport(plainOptions());
	await transport.connect({ ip: host, port: sender.port });
	const producer = await transport.produce({
		kind: 'video',
		rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: VIDEO_PT, clockRate: 90000 }], encodings: [{ ssrc }] },
	});
	return { transport, producer, sender, ssrc, seq: 0 };
}

/** Audio with the ssrc-audio-level header extension, so audio level observers can measure it. */
export async function publishAudio(router: MafaldaRouter, ssrc: number): Promise<Publisher> {
	const sender = await RtpSender.bind();
	const transport = await router.createPlainTransport(plainOptions());
	await transport.connect({ ip: LOCALHOST, port: sender.port });
	const producer = await transport.produce({
		kind: 'audio',
		rtpParameters: {
			codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO_PT, clockRate: 48000, channels: 2 }],
			encodings: [{ ssrc }],
			headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:ssrc-audio-level', id: AUDIO_LEVEL_EXT_ID }],
		},
	});
	return { transport, producer, sender, ssrc, seq: 0 };
}

/** Sends `count` VP8 packets, key frames every 10, `gapMs` apart. */
export async function sendVideo(pub: Publisher, count: number, gapMs = 2): Promise<void> {
	for (let i = 0; i < count; i++, pub.seq++) {
		const packet = buildRtpPacket(
			{ payloadType: VIDEO_PT, ssrc: pub.ssrc, sequenceNumber: pub.seq & 0xffff, timestamp: pub.seq * 3000, marker: true },
			writeProbe(pub.seq, nowMs(), 200, 'vp8', pub.seq % 10 === 0),
		);
		pub.sender.send(packet, pub.transport.tuple.localPort, localAddress(pub.transport));
		await sleep(gapMs);
	}
}

/** Where a transport receives: on a cluster node, the node's own address. */
export function localAddress(transport: PlainTransport): string {
	const tuple = transport.tuple as types.TransportTuple & { localIp?: string };
	return tuple.localAddress ?? tuple.localIp ?? LOCALHOST;
}

/** Sends opus packets carrying an audio level of -`levelDbov` dBov in a one-byte header extension. */
export async function sendAudio(pub: Publisher, count: number, levelDbov: number, gapMs = 20): Promise<void> {
	for (let i = 0; i < count; i++, pub.seq++) {
		const plain = buildRtpPacket(
			{ payloadType: AUDIO_PT, ssrc: pub.ssrc, sequenceNumber: pub.seq & 0xffff, timestamp: pub.seq * 960, marker: false },
			writeProbe(pub.seq, nowMs(), 60, 'opus', false),
		);
		pub.sender.send(withAudioLevel(plain, levelDbov), pub.transport.tuple.localPort);
		await sleep(gapMs);
	}
}

/** Inserts an RFC 6464 one-byte header extension (RFC 8285) into a packet built without extensions. */
function withAudioLevel(packet: Buffer, levelDbov: number): Buffer {
	const header = Buffer.from(packet.subarray(0, 12));
	header[0] |= 0x10; // X bit
	const ext = Buffer.from([0xbe, 0xde, 0x00, 0x01, (AUDIO_LEVEL_EXT_ID << 4) | 0, 0x80 | (levelDbov & 0x7f), 0, 0]);
	return Buffer.concat([header, ext, packet.subarray(12)]);
}

export interface Viewer {
	transport: PlainTransport;
	consumer: Consumer;
	receiver: RtpReceiver;
}

export async function view(router: MafaldaRouter, producerId: string, host = LOCALHOST): Promise<Viewer> {
	const receiver = await RtpReceiver.bind(host);
	try {
		const transport = await router.createPlainTransport(plainOptions());
		await transport.connect({ ip: host, port: receiver.port });
		const consumer = await transport.consume({ producerId, rtpCapabilities: router.rtpCapabilities });
		receiver.codecFor(consumer.rtpParameters.codecs[0].payloadType, consumer.kind === 'video' ? 'vp8' : 'opus');
		return { transport, consumer, receiver };
	} catch (error) {
		await receiver.close();
		throw error;
	}
}

export function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves when `predicate` holds, polling; rejects with `what` after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!predicate()) {
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await sleep(10);
	}
}

/**
 * router.close() is synchronous and its shards leave their workers behind it;
 * tests whose next placement depends on the workers' load wait for that too.
 */
export async function closeRouter(router: MafaldaRouter): Promise<void> {
	router.close();
	await router.tornDown();
}
