import * as dgram from 'node:dgram';
import { nowMs, parseRtpPacket, readProbe } from './rtp-packet';

type ProbeCodec = 'vp8' | 'opus';

function socketTypeFor(host: string): dgram.SocketType {
	return host.includes(':') ? 'udp6' : 'udp4';
}

// Bursts from many consumers can outrun the event loop; the default socket
// buffer (~200 KB) would then drop packets in the kernel and show up as "loss"
// that mediasoup never caused. Linux silently caps this at net.core.rmem_max.
const DEFAULT_RECV_BUFFER = 4 * 1024 * 1024;

function bindSocket(host: string, recvBufferSize?: number): Promise<dgram.Socket> {
	return new Promise((resolve, reject) => {
		const socket = dgram.createSocket({ type: socketTypeFor(host), recvBufferSize });
		const onError = (err: Error): void => {
			socket.close();
			reject(err);
		};
		socket.once('error', onError);
		socket.bind(0, host, () => {
			socket.off('error', onError);
			resolve(socket);
		});
	});
}

// mediasoup's bandwidth probation packets (RtpProbationGenerator.hpp): padding
// a transport sends on its own, e.g. right after a consumer is created. They are
// not media, so they must not satisfy waitForPackets() or create a loss stream.
const PROBATION_SSRC = 1234;
const PROBATION_PAYLOAD_TYPE = 127;

interface SsrcState {
	lastSeq: number;
	received: number;
	lost: number;
}

interface PacketWaiter {
	target: number;
	resolve: () => void;
	reject: (err: Error) => void;
	timer: NodeJS.Timeout;
}

export interface RtpReceiverOptions {
	/** How to find probes per payload type; payload types not listed are only counted. */
	codecs?: Record<number, ProbeCodec>;
	recvBufferSize?: number;
}

/**
 * The far end of a consumer's PlainTransport: counts what arrives, derives loss
 * from sequence gaps and one-way latency from the probes in the payload.
 */
export class RtpReceiver {
	/** RTP media packets; mediasoup's probation packets are counted apart. */
	packets = 0;
	probationPackets = 0;
	rtcpPackets = 0;
	socketErrors = 0;
	/** Packets lost per SSRC, from sequence-number gaps; late arrivals are credited back. */
	readonly lost = new Map<number, number>();
	/** One-way latencies in ms, in arrival order. */
	readonly latencies: number[] = [];
	/** Arrival times (nowMs()) of media packets, once recordArrivals() was called. */
	arrivals: number[] | undefined;
	readonly port: number;

	private readonly codecs = new Map<number, ProbeCodec>();
	private readonly ssrcs = new Map<number, SsrcState>();
	private waiters: PacketWaiter[] = [];
	private closed = false;

	private constructor(
		private readonly socket: dgram.Socket,
		options: RtpReceiverOptions,
	) {
		this.port = socket.address().port;
		for (const [pt, codec] of Object.entries(options.codecs ?? {})) this.codecs.set(Number(pt), codec);
		socket.on('message', (msg) => this.onMessage(msg));
		// A receive-side error must not crash a benchmark thread; the counters
		// (fewer packets) already show its effect.
		socket.on('error', () => {
			this.socketErrors++;
		});
	}

	static async bind(host = '127.0.0.1', options: RtpReceiverOptions = {}): Promise<RtpReceiver> {
		const socket = await bindSocket(host, options.recvBufferSize ?? DEFAULT_RECV_BUFFER);
		return new RtpReceiver(socket, options);
	}

	/** Makes payloads of `payloadType` be read as probes of `codec`. */
	codecFor(payloadType: number, codec: ProbeCodec): this {
		this.codecs.set(payloadType, codec);
		return this;
	}

	get totalLost(): number {
		let sum = 0;
		for (const n of this.lost.values()) sum += n;
		return sum;
	}

	/** Packets received per SSRC. */
	receivedBySsrc(): Map<number, number> {
		return new Map([...this.ssrcs].map(([ssrc, state]) => [ssrc, state.received]));
	}

	/** Resolves once `n` RTP packets have arrived in total (counting those already received). */
	waitForPackets(n: number, timeoutMs: number): Promise<void> {
		if (this.packets >= n) return Promise.resolve();
		if (this.closed) return Promise.reject(new Error(`RtpReceiver on port ${this.port} is closed`));
		return new Promise<void>((resolve, reject) => {
			const waiter: PacketWaiter = {
				target: n,
				resolve,
				reject,
				timer: setTimeout(() => {
					this.waiters = this.waiters.filter((w) => w !== waiter);
					reject(
						new Error(
							`RtpReceiver on port ${this.port}: got ${this.packets} of ${n} RTP packets ` +
								`(${this.rtcpPackets} RTCP) within ${timeoutMs} ms`,
						),
					);
				}, timeoutMs),
			};
			this.waiters.push(waiter);
		});
	}

	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		for (const waiter of this.waiters) {
			clearTimeout(waiter.timer);
			waiter.reject(new Error(`RtpReceiver on port ${this.port} closed while waiting for ${waiter.target} packets`));
		}
		this.waiters = [];
		await new Promise<void>((resolve) => this.socket.close(() => resolve()));
	}

	/** From now on, keeps the arrival time of each media packet (to measure gaps in the media). */
	recordArrivals(): number[] {
		this.arrivals ??= [];
		return this.arrivals;
	}

	/** Feeds one datagram through the counters; public so unit tests need no socket. */
	onMessage(msg: Buffer, receivedAtMs = nowMs()): void {
		const rtp = parseRtpPacket(msg);
		if (!rtp) {
			this.rtcpPackets++;
			return;
		}
		if (rtp.ssrc === PROBATION_SSRC && rtp.payloadType === PROBATION_PAYLOAD_TYPE) {
			this.probationPackets++;
			return;
		}
		this.packets++;
		this.arrivals?.push(receivedAtMs);
		this.countSequence(rtp.ssrc, rtp.sequenceNumber);

		const codec = this.codecs.get(rtp.payloadType);
		if (codec) {
			const probe = readProbe(rtp.payload, codec);
			if (probe) this.latencies.push(receivedAtMs - probe.sentAtMs);
		}

		if (this.waiters.length > 0) this.settleWaiters();
	}

	private countSequence(ssrc: number, seq: number): void {
		const state = this.ssrcs.get(ssrc);
		if (!state) {
			this.ssrcs.set(ssrc, { lastSeq: seq, received: 1, lost: 0 });
			this.lost.set(ssrc, 0);
			return;
		}
		state.received++;
		// Distance modulo 2^16: a small positive step is forward progress even
		// across the 65535 -> 0 wrap; a step in the upper half is a late packet.
		const delta = (seq - state.lastSeq) & 0xffff;
		if (delta === 0) return;
		if (delta < 0x8000) {
			state.lost += delta - 1;
			state.lastSeq = seq;
		} else if (state.lost > 0) {
			// A reordered packet that its gap already counted as lost.
			state.lost--;
		}
		this.lost.set(ssrc, state.lost);
	}

	private settleWaiters(): void {
		const pending: PacketWaiter[] = [];
		for (const waiter of this.waiters) {
			if (this.packets >= waiter.target) {
				clearTimeout(waiter.timer);
				waiter.resolve();
			} else {
				pending.push(waiter);
			}
		}
		this.waiters = pending;
	}
}

/** The near end of a producer's PlainTransport. */
export class RtpSender {
	sendErrors = 0;
	private connectedTo: string | undefined;
	readonly port: number;
	private closed = false;

	private constructor(private readonly socket: dgram.Socket) {
		this.port = socket.address().port;
		// A send to a port nobody listens on yet surfaces as ICMP-driven errors;
		// a load generator must keep going, so they are counted, not thrown.
		socket.on('error', () => {
			this.sendErrors++;
		});
	}

	static async bind(host = '127.0.0.1'): Promise<RtpSender> {
		return new RtpSender(await bindSocket(host));
	}

	send(packet: Buffer, port: number, host = '127.0.0.1'): void {
		if (this.closed) return;
		this.socket.send(packet, port, host, (err) => {
			if (err) this.sendErrors++;
		});
	}

	/**
	 * Fixes the destination, for a load generator that sends to one port: a
	 * connected socket's send skips the address lookup, and without a
	 * callback nothing is queued per packet (Node still makes a SendWrap for
	 * every send, but a callback is also scheduled with process.nextTick even
	 * when the send completed at once; errors reach the 'error' listener,
	 * which counts them): about half the sender's CPU per packet here.
	 */
	async connect(port: number, host = '127.0.0.1'): Promise<void> {
		if (this.connectedTo === `${host}:${port}`) return;
		if (this.connectedTo !== undefined) this.socket.disconnect();
		await new Promise<void>((resolve) => this.socket.connect(port, host, () => resolve()));
		this.connectedTo = `${host}:${port}`;
	}

	sendConnected(packet: Buffer): void {
		if (!this.closed) this.socket.send(packet);
	}

	async close(): Promise<void> {
		if (this.closed) return;
		this.closed = true;
		await new Promise<void>((resolve) => this.socket.close(() => resolve()));
	}
}

/** Nearest-rank percentile of an ascending array; `p` in 0..100. NaN when empty. */
export function percentile(sorted: number[], p: number): number {
	if (sorted.length === 0) return Number.NaN;
	const clamped = Math.min(100, Math.max(0, p));
	const rank = Math.ceil((clamped / 100) * sorted.length);
	return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}
