import {
	buildRtpPacket,
	isVp8KeyFrame,
	nowMs,
	parseRtpPacket,
	ProbePacketWriter,
	probeMinSize,
	readProbe,
	writeProbe,
} from '../bench/media/rtp-packet';
import { percentile, RtpReceiver, RtpSender } from '../bench/media/udp-peers';

const header = { payloadType: 101, ssrc: 0xdeadbeef, sequenceNumber: 65535, timestamp: 0xfffffff0, marker: true };

function packetWithSeq(seq: number, ssrc = 1111): Buffer {
	return buildRtpPacket({ ...header, ssrc, sequenceNumber: seq }, writeProbe(seq, nowMs(), 50, 'opus', false));
}

describe('RTP packets', () => {
	test('build/parse round trip', () => {
		const payload = Buffer.from('hello rtp');
		const packet = buildRtpPacket(header, payload);
		expect(packet.length).toBe(12 + payload.length);
		expect(packet[0]).toBe(0x80);
		const parsed = parseRtpPacket(packet);
		expect(parsed).not.toBeNull();
		expect(parsed).toMatchObject(header);
		expect(parsed?.payload.equals(payload)).toBe(true);
	});

	test('parse skips CSRCs, header extension and padding', () => {
		const payload = Buffer.from([1, 2, 3, 4, 5]);
		const csrcs = Buffer.alloc(8, 0xaa);
		// One-byte-header extension (0xBEDE) of one 32-bit word.
		const extension = Buffer.from([0xbe, 0xde, 0x00, 0x01, 0x10, 0x07, 0x00, 0x00]);
		const padding = Buffer.from([0, 0, 3]);
		const fixed = buildRtpPacket({ ...header, marker: false }, Buffer.alloc(0));
		fixed[0] = 0x80 | 0x20 | 0x10 | 2;
		const parsed = parseRtpPacket(Buffer.concat([fixed, csrcs, extension, payload, padding]));
		expect(parsed).toMatchObject({ ...header, marker: false });
		expect(parsed?.payload.equals(payload)).toBe(true);
	});

	test('RTCP and short packets are not RTP', () => {
		// A receiver report header: V=2, RC=0, PT=201.
		const rtcp = Buffer.from([0x80, 201, 0x00, 0x01, 0, 0, 0, 1]);
		expect(parseRtpPacket(Buffer.concat([rtcp, Buffer.alloc(8)]))).toBeNull();
		expect(parseRtpPacket(Buffer.alloc(11, 0x80))).toBeNull();
	});
});

describe('probes', () => {
	test.each(['vp8', 'opus'] as const)('%s round trip, padded to size', (codec) => {
		const sentAtMs = nowMs();
		const payload = writeProbe(123456, sentAtMs, 900, codec, true);
		expect(payload.length).toBe(900);
		expect(readProbe(payload, codec)).toEqual({ probeSeq: 123456, sentAtMs });
	});

	test('a size below the minimum still fits the probe', () => {
		expect(writeProbe(1, 2, 0, 'vp8', false).length).toBe(probeMinSize('vp8'));
		expect(readProbe(writeProbe(1, 2, 0, 'vp8', false), 'vp8')).toEqual({ probeSeq: 1, sentAtMs: 2 });
	});

	test('foreign payloads are not probes', () => {
		expect(readProbe(Buffer.alloc(40), 'opus')).toBeNull();
		expect(readProbe(Buffer.alloc(2), 'vp8')).toBeNull();
	});

	test('VP8 key frame bit is what mediasoup parses', () => {
		const key = writeProbe(1, 0, 100, 'vp8', true);
		const delta = writeProbe(2, 0, 100, 'vp8', false);
		// X and S set, partition 0: required by mediasoup's VP8::Parse().
		expect(key[0]).toBe(0x90);
		expect(key[2] & 0x01).toBe(0);
		expect(delta[2] & 0x01).toBe(1);
		expect(isVp8KeyFrame(key)).toBe(true);
		expect(isVp8KeyFrame(delta)).toBe(false);
	});

	test('VP8 probe survives the two-byte picture ID mediasoup may write', () => {
		const probe = writeProbe(7, 42, 0, 'vp8', true);
		// X,S | I | M-bit picture ID (2 bytes), then the VP8 header and probe.
		const rewritten = Buffer.concat([Buffer.from([0x90, 0x80, 0x81, 0x23]), probe.subarray(2)]);
		expect(readProbe(rewritten, 'vp8')).toEqual({ probeSeq: 7, sentAtMs: 42 });
		expect(isVp8KeyFrame(rewritten)).toBe(true);
	});
});

describe('ProbePacketWriter', () => {
	test.each([
		['vp8', 1000, true, true],
		['vp8', 1000, false, false],
		['vp8', 0, false, true],
		['opus', 160, false, false],
	] as const)('%s of %d bytes (key %s, marker %s) is what buildRtpPacket(writeProbe()) builds', (codec, size, keyFrame, marker) => {
		const writer = new ProbePacketWriter(96, 0x9abcdef0, size, codec);
		// Counters past their field's width, as the sender's running counters get.
		const cases = [
			{ seq: 1, ts: 2, probeSeq: 3, sentAtMs: nowMs() },
			{ seq: 0x1_0005, ts: 0x1_0000_0007, probeSeq: 0x1_0000_0009, sentAtMs: 1.5 },
		];
		for (const c of cases) {
			const header = { payloadType: 96, ssrc: 0x9abcdef0, sequenceNumber: c.seq, timestamp: c.ts, marker };
			const expected = buildRtpPacket(header, writeProbe(c.probeSeq, c.sentAtMs, size, codec, keyFrame));
			const packet = writer.write(c.seq, c.ts, marker, keyFrame, c.probeSeq, c.sentAtMs);
			expect(packet.equals(expected)).toBe(true);
			expect(writer.length).toBe(expected.length);
		}
	});

	test('every packet is a buffer of its own', () => {
		const writer = new ProbePacketWriter(111, 1, 160, 'opus');
		const first = writer.write(1, 1, false, false, 1, 1);
		const copy = Buffer.from(first);
		writer.write(2, 2, true, false, 2, 2);
		expect(first.equals(copy)).toBe(true);
	});
});

describe('RtpReceiver counters', () => {
	let receiver: RtpReceiver;

	beforeEach(async () => {
		receiver = (await RtpReceiver.bind()).codecFor(101, 'opus');
	});

	afterEach(async () => {
		await receiver.close();
	});

	test('loss counting across the 16-bit wrap', () => {
		for (const seq of [65533, 65534, 1, 2, 5]) receiver.onMessage(packetWithSeq(seq));
		// Missing: 65535, 0, 3, 4.
		expect(receiver.packets).toBe(5);
		expect(receiver.lost.get(1111)).toBe(4);
		expect(receiver.totalLost).toBe(4);
	});

	test('late packets are credited back, duplicates ignored, SSRCs kept apart', () => {
		for (const seq of [10, 12, 11, 12]) receiver.onMessage(packetWithSeq(seq));
		receiver.onMessage(packetWithSeq(500, 2222));
		receiver.onMessage(packetWithSeq(502, 2222));
		expect(receiver.lost.get(1111)).toBe(0);
		expect(receiver.lost.get(2222)).toBe(1);
		expect(receiver.receivedBySsrc().get(1111)).toBe(4);
	});

	test('RTCP and mediasoup probation are counted apart; latencies come from probes', () => {
		const sentAtMs = nowMs() - 5;
		receiver.onMessage(buildRtpPacket(header, writeProbe(1, sentAtMs, 60, 'opus', false)), sentAtMs + 5);
		receiver.onMessage(Buffer.concat([Buffer.from([0x80, 200, 0, 6]), Buffer.alloc(24)]));
		expect(receiver.packets).toBe(1);
		expect(receiver.rtcpPackets).toBe(1);
		receiver.onMessage(buildRtpPacket({ ...header, ssrc: 1234, payloadType: 127 }, Buffer.alloc(0)));
		expect(receiver.packets).toBe(1);
		expect(receiver.probationPackets).toBe(1);
		expect(receiver.latencies).toHaveLength(1);
		expect(receiver.latencies[0]).toBeCloseTo(5, 6);
	});

	test('over a real socket, and a clear timeout message', async () => {
		const sender = await RtpSender.bind();
		try {
			for (let seq = 0; seq < 5; seq++) sender.send(packetWithSeq(seq), receiver.port);
			await receiver.waitForPackets(5, 2000);
			expect(receiver.latencies).toHaveLength(5);
			expect(receiver.latencies.every((ms) => ms >= 0 && ms < 1000)).toBe(true);
			await expect(receiver.waitForPackets(6, 50)).rejects.toThrow(/got 5 of 6 RTP packets/);
		} finally {
			await sender.close();
		}
	});
});

test('percentile (nearest rank)', () => {
	const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
	expect(percentile(sorted, 50)).toBe(5);
	expect(percentile(sorted, 95)).toBe(10);
	expect(percentile(sorted, 0)).toBe(1);
	expect(percentile(sorted, 100)).toBe(10);
	expect(percentile([], 50)).toBeNaN();
});
