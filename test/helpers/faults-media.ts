// Real RTP for the fault tests: a paced VP8 sender feeding a producer of a
// MafaldaRouter, and receivers behind consumers, over PlainTransports on
// loopback. Arrival times are recorded so a test can see a gap in the media.
import type { types } from 'mediasoup';
import type { RouterRtpCodecCapability } from '../../lib/mediasoup-compat';
import { buildRtpPacket, nowMs, writeProbe } from '../../bench/media/rtp-packet';
import { RtpReceiver, RtpSender } from '../../bench/media/udp-peers';
import type { MafaldaRouter } from '../../lib/MafaldaRouter';
import type { Consumer } from '../../lib/remote/Consumer';
import type { Producer } from '../../lib/remote/Producer';
import type { PlainTransport } from '../../lib/remote/PlainTransport';

export const LOCALHOST = '127.0.0.1';
export const VP8_CODECS: RouterRtpCodecCapability[] = [{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 }];
const PRODUCER_PT = 101;
/** Consumers drop everything before a key frame; one every few packets bounds what a new consumer misses. */
const KEY_FRAME_EVERY = 10;

export const PLAIN_OPTIONS = { listenInfo: { protocol: 'udp', ip: LOCALHOST }, rtcpMux: true, comedia: false } as const;

let nextSsrc = 0x10000;

/** A producer fed with paced VP8 packets by a UDP sender. */
export class PacedProducer {
	sent = 0;
	#timer: NodeJS.Timeout | undefined;

	private constructor(
		readonly transport: PlainTransport,
		readonly producer: Producer,
		readonly sender: RtpSender,
		readonly ssrc: number,
	) {}

	static async create(router: MafaldaRouter): Promise<PacedProducer> {
		const sender = await RtpSender.bind();
		try {
			const transport = await router.createPlainTransport(PLAIN_OPTIONS as unknown as types.PlainTransportOptions);
			// Without comedia the transport only accepts RTP from the address it is connected to.
			await transport.connect({ ip: LOCALHOST, port: sender.port });
			const ssrc = nextSsrc++;
			const producer = await transport.produce({
				kind: 'video',
				rtpParameters: {
					codecs: [{ mimeType: 'video/VP8', payloadType: PRODUCER_PT, clockRate: 90000 }],
					encodings: [{ ssrc }],
				},
			});
			return new PacedProducer(transport, producer, sender, ssrc);
		} catch (error) {
			// Nobody else holds the socket yet: close it, or it keeps the test process alive.
			await sender.close();
			throw error;
		}
	}

	sendOne(): void {
		const i = this.sent++;
		const payload = writeProbe(i, nowMs(), 200, 'vp8', i % KEY_FRAME_EVERY === 0);
		const header = { payloadType: PRODUCER_PT, ssrc: this.ssrc, sequenceNumber: i, timestamp: i * 3000, marker: true };
		this.sender.send(buildRtpPacket(header, payload), this.transport.tuple.localPort);
	}

	/** Sends one packet every `intervalMs` until stop(). */
	start(intervalMs = 5): void {
		if (this.#timer) return;
		this.#timer = setInterval(() => this.sendOne(), intervalMs);
	}

	stop(): void {
		if (this.#timer) clearInterval(this.#timer);
		this.#timer = undefined;
	}

	async close(): Promise<void> {
		this.stop();
		await this.sender.close();
	}
}

/** A PlainTransport whose consumers send to one UDP receiver; records arrival times. */
export class ReceivingEnd {
	/** Arrival time (ms) of each RTP packet, per SSRC. */
	readonly arrivals = new Map<number, number[]>();

	private constructor(
		readonly transport: PlainTransport,
		readonly receiver: RtpReceiver,
	) {
		const original = receiver.onMessage.bind(receiver);
		// The socket listener looks onMessage up at each packet, so wrapping the
		// instance's method sees every datagram without touching the receiver's internals.
		receiver.onMessage = (msg: Buffer, at = nowMs()): void => {
			const before = receiver.packets;
			original(msg, at);
			if (receiver.packets > before && msg.length >= 12) {
				const ssrc = msg.readUInt32BE(8);
				let list = this.arrivals.get(ssrc);
				if (!list) this.arrivals.set(ssrc, (list = []));
				list.push(at);
			}
		};
	}

	static async create(router: MafaldaRouter): Promise<ReceivingEnd> {
		const receiver = await RtpReceiver.bind();
		try {
			const transport = await router.createPlainTransport(PLAIN_OPTIONS as unknown as types.PlainTransportOptions);
			await transport.connect({ ip: LOCALHOST, port: receiver.port });
			return new ReceivingEnd(transport, receiver);
		} catch (error) {
			await receiver.close();
			throw error;
		}
	}

	async consume(router: MafaldaRouter, producer: Producer): Promise<Consumer> {
		const consumer = await this.transport.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
		this.receiver.codecFor(consumer.rtpParameters.codecs[0].payloadType, 'vp8');
		return consumer;
	}

	/** RTP packets received from one consumer. */
	received(consumer: Consumer): number {
		return this.arrivals.get(consumerSsrc(consumer))?.length ?? 0;
	}

	/** Packets lost (sequence gaps) in one consumer's stream. */
	lost(consumer: Consumer): number {
		return this.receiver.lost.get(consumerSsrc(consumer)) ?? 0;
	}

	async close(): Promise<void> {
		await this.receiver.close();
	}
}

export function consumerSsrc(consumer: Consumer): number {
	const ssrc = consumer.rtpParameters.encodings?.[0]?.ssrc;
	if (ssrc === undefined) throw new Error(`consumer ${consumer.id} has no SSRC`);
	return ssrc;
}
