import { performance } from 'node:perf_hooks';

export interface RtpHeader {
	payloadType: number;
	ssrc: number;
	sequenceNumber: number;
	timestamp: number;
	marker: boolean;
}

const RTP_FIXED_HEADER_LEN = 12;

/** A plain RTP v2 packet: no padding, no CSRC, no header extension. */
export function buildRtpPacket(header: RtpHeader, payload: Buffer): Buffer {
	const packet = Buffer.allocUnsafe(RTP_FIXED_HEADER_LEN + payload.length);
	packet[0] = 0x80;
	packet[1] = (header.marker ? 0x80 : 0) | (header.payloadType & 0x7f);
	packet.writeUInt16BE(header.sequenceNumber & 0xffff, 2);
	// `>>> 0` so callers may pass a running counter that went past 2^32.
	packet.writeUInt32BE(header.timestamp >>> 0, 4);
	packet.writeUInt32BE(header.ssrc >>> 0, 8);
	payload.copy(packet, RTP_FIXED_HEADER_LEN);
	return packet;
}

/**
 * Parses what a mediasoup transport sends out, which may carry CSRCs, header
 * extensions (mid, abs-send-time...) and padding. Returns null for RTCP (with
 * rtcpMux it shares the socket) and for anything too short to be RTP.
 */
export function parseRtpPacket(packet: Buffer): (RtpHeader & { payload: Buffer }) | null {
	if (packet.length < RTP_FIXED_HEADER_LEN) return null;
	if (packet[0] >> 6 !== 2) return null;
	// RTCP packet types 192..223 land where RTP has marker + payload type; RFC 5761
	// keeps RTP payload types out of 64..95 precisely so this test works.
	if (packet[1] >= 192 && packet[1] <= 223) return null;

	const hasPadding = (packet[0] & 0x20) !== 0;
	const hasExtension = (packet[0] & 0x10) !== 0;
	const csrcCount = packet[0] & 0x0f;
	let offset = RTP_FIXED_HEADER_LEN + csrcCount * 4;
	if (packet.length < offset) return null;

	if (hasExtension) {
		if (packet.length < offset + 4) return null;
		const extensionWords = packet.readUInt16BE(offset + 2);
		offset += 4 + extensionWords * 4;
		if (packet.length < offset) return null;
	}

	let end = packet.length;
	if (hasPadding) {
		const paddingLen = packet[packet.length - 1];
		if (paddingLen === 0 || end - paddingLen < offset) return null;
		end -= paddingLen;
	}

	return {
		payloadType: packet[1] & 0x7f,
		marker: (packet[1] & 0x80) !== 0,
		sequenceNumber: packet.readUInt16BE(2),
		timestamp: packet.readUInt32BE(4),
		ssrc: packet.readUInt32BE(8),
		payload: packet.subarray(offset, end),
	};
}

/**
 * Wall-clock milliseconds with sub-ms precision. performance.now() alone is
 * relative to each thread's own start, so timeOrigin is added to make stamps
 * from different worker threads comparable.
 */
export function nowMs(): number {
	return performance.timeOrigin + performance.now();
}

// "MFPB": lets readProbe reject payloads that are not ours (e.g. mediasoup's
// own padding-only probation packets) instead of reporting garbage latencies.
const PROBE_MAGIC = 0x4d465042;
const PROBE_LEN = 4 + 4 + 8;

// Extended VP8 payload descriptor (RFC 7741 §4.2) with no optional fields.
// mediasoup's VP8::Parse() rejects descriptors without the X bit, and an
// unparsed packet is never a key frame, so consumers would drop everything.
// Byte 0: X=1, S=1 (start of partition), PID=0. Byte 1: I=L=T=K=0.
const VP8_DESCRIPTOR_X_S = 0x90;
const VP8_DESCRIPTOR_EXT = 0x00;
// VP8 payload header byte 0 (RFC 6386 §9.1): the low bit is the inverse key
// frame flag (0 = key frame); version 0 and show_frame=1 for the rest.
const VP8_HEADER_KEY = 0x10;
const VP8_HEADER_DELTA = 0x11;
const VP8_PREFIX_LEN = 3;

/** Smallest payload writeProbe can produce for a codec. */
export function probeMinSize(codec: 'vp8' | 'opus'): number {
	return (codec === 'vp8' ? VP8_PREFIX_LEN : 0) + PROBE_LEN;
}

/**
 * An RTP payload carrying a probe sequence number and send time, zero-padded to
 * `size` bytes (or to the minimum if `size` is smaller). For VP8 every packet
 * starts a frame, so `keyFrame` decides what mediasoup's parser sees.
 */
export function writeProbe(
	probeSeq: number,
	sentAtMs: number,
	size: number,
	codec: 'vp8' | 'opus',
	keyFrame: boolean,
): Buffer {
	const payload = Buffer.alloc(Math.max(size, probeMinSize(codec)));
	let offset = 0;
	if (codec === 'vp8') {
		payload[0] = VP8_DESCRIPTOR_X_S;
		payload[1] = VP8_DESCRIPTOR_EXT;
		payload[2] = keyFrame ? VP8_HEADER_KEY : VP8_HEADER_DELTA;
		offset = VP8_PREFIX_LEN;
	}
	payload.writeUInt32BE(PROBE_MAGIC, offset);
	payload.writeUInt32BE(probeSeq >>> 0, offset + 4);
	payload.writeDoubleBE(sentAtMs, offset + 8);
	return payload;
}

/**
 * Builds one stream's probe packets: byte for byte what
 * `buildRtpPacket(header, writeProbe(...))` builds, but in one buffer. That
 * pair allocates twice per packet (a zero-filled payload, which never comes
 * from Node's pool, then the packet and a copy): about 0.55 µs of the sender
 * thread's 3.7 µs per packet (bench/comparisons/sender-cost.ts). Here the constant bytes (header fields
 * that never change, VP8 descriptor, probe magic, zero padding) sit in a
 * template copied into a fresh `allocUnsafe` buffer. Fresh, not reused: a
 * dgram send whose kernel queue is full is queued by libuv with the buffer,
 * so a buffer handed to send() must never be written again.
 */
export class ProbePacketWriter {
	readonly #template: Buffer;
	readonly #payloadType: number;
	readonly #vp8: boolean;
	readonly #probeOffset: number;

	constructor(payloadType: number, ssrc: number, payloadBytes: number, codec: 'vp8' | 'opus') {
		this.#payloadType = payloadType & 0x7f;
		this.#vp8 = codec === 'vp8';
		this.#probeOffset = RTP_FIXED_HEADER_LEN + (this.#vp8 ? VP8_PREFIX_LEN : 0);
		const header = { payloadType, ssrc, sequenceNumber: 0, timestamp: 0, marker: false };
		this.#template = buildRtpPacket(header, writeProbe(0, 0, payloadBytes, codec, false));
	}

	/** The packet's length, header included. */
	get length(): number {
		return this.#template.length;
	}

	/** A new packet; `sentAtMs` should be taken just before it is sent. */
	write(sequenceNumber: number, timestamp: number, marker: boolean, keyFrame: boolean, probeSeq: number, sentAtMs: number): Buffer {
		const packet = Buffer.allocUnsafe(this.#template.length);
		this.#template.copy(packet, 0);
		packet[1] = (marker ? 0x80 : 0) | this.#payloadType;
		packet.writeUInt16BE(sequenceNumber & 0xffff, 2);
		packet.writeUInt32BE(timestamp >>> 0, 4);
		if (this.#vp8) packet[RTP_FIXED_HEADER_LEN + 2] = keyFrame ? VP8_HEADER_KEY : VP8_HEADER_DELTA;
		packet.writeUInt32BE(probeSeq >>> 0, this.#probeOffset + 4);
		packet.writeDoubleBE(sentAtMs, this.#probeOffset + 8);
		return packet;
	}
}

/**
 * Length of a VP8 payload descriptor. mediasoup rewrites descriptors in flight
 * (a one-byte picture ID becomes two bytes), so the reader must not assume the
 * layout writeProbe produced.
 */
function vp8DescriptorLength(payload: Buffer): number | null {
	if (payload.length < 1) return null;
	let offset = 1;
	if ((payload[0] & 0x80) === 0) return offset;
	if (payload.length < offset + 1) return null;
	const ext = payload[offset++];
	if (ext & 0x80) {
		if (payload.length < offset + 1) return null;
		offset += payload[offset] & 0x80 ? 2 : 1;
	}
	if (ext & 0x40) offset += 1;
	if (ext & 0x30) offset += 1;
	return payload.length < offset ? null : offset;
}

export function readProbe(payload: Buffer, codec: 'vp8' | 'opus'): { probeSeq: number; sentAtMs: number } | null {
	let offset = 0;
	if (codec === 'vp8') {
		const descriptorLen = vp8DescriptorLength(payload);
		if (descriptorLen === null) return null;
		// One byte of VP8 payload header, the key frame flag.
		offset = descriptorLen + 1;
	}
	if (payload.length < offset + PROBE_LEN) return null;
	if (payload.readUInt32BE(offset) !== PROBE_MAGIC) return null;
	return {
		probeSeq: payload.readUInt32BE(offset + 4),
		sentAtMs: payload.readDoubleBE(offset + 8),
	};
}

/** Whether mediasoup's VP8 parser would flag this payload as a key frame. */
export function isVp8KeyFrame(payload: Buffer): boolean {
	const descriptorLen = vp8DescriptorLength(payload);
	if (descriptorLen === null || (payload[0] & 0x80) === 0) return false;
	const startOfPartitionZero = (payload[0] & 0x10) !== 0 && (payload[0] & 0x07) === 0;
	return startOfPartitionZero && payload.length > descriptorLen && (payload[descriptorLen] & 0x01) === 0;
}
