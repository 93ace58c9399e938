// Real WebRTC peers for tests: a werift RTCPeerConnection (pure TypeScript
// ICE + DTLS + SRTP) connected to a mediasoup-style WebRtcTransport.
//
// There is no mediasoup-client here, so the "remote" SDP is written by hand
// from the transport's ICE/DTLS parameters and RTP parameters, and the
// mediasoup produce() rtpParameters are read back from werift's local SDP.
// Only the members of WebRtcTransportLike are used, so the same code works
// with a mediasoup WebRtcTransport and with anything that mirrors one.
import {
	MediaStreamTrack,
	RTCPeerConnection,
	RTCRtpCodecParameters,
	RtpHeader,
	RtpPacket,
	type CandidatePair,
	type RTCPeerConnectionConfig,
} from 'werift';

export const LOOPBACK_IP = '127.0.0.1';

export interface IceCandidateLike {
	foundation: string;
	priority: number;
	address?: string;
	ip?: string;
	protocol: 'udp' | 'tcp';
	port: number;
	type: string;
	tcpType?: string;
}

export interface ConsumerLike {
	id: string;
	kind: string;
	rtpParameters: unknown;
	resume(): Promise<void>;
}

export interface WebRtcTransportLike {
	id: string;
	iceParameters: { usernameFragment: string; password: string; iceLite?: boolean };
	iceCandidates: IceCandidateLike[];
	dtlsParameters: { role?: string; fingerprints: Array<{ algorithm: string; value: string }> };
	connect(o: { dtlsParameters: unknown }): Promise<void>;
	produce?(o: unknown): Promise<{ id: string }>;
	consume?(o: unknown): Promise<ConsumerLike>;
}

export interface RtcpFeedbackLike {
	type: string;
	parameter?: string;
}

export interface RtpCodecCapabilityLike {
	kind: string;
	mimeType: string;
	clockRate: number;
	preferredPayloadType?: number;
	rtcpFeedback?: RtcpFeedbackLike[];
	parameters?: unknown;
}

export interface RtpCapabilitiesLike {
	codecs?: RtpCodecCapabilityLike[];
}

export type PeerConnectionState = RTCPeerConnection['connectionState'];

export interface SendingPeer {
	readonly pc: RTCPeerConnection;
	readonly producerId: string;
	readonly ssrc: number;
	readonly payloadType: number;
	/** The rtpParameters handed to transport.produce(). */
	readonly rtpParameters: ProduceRtpParameters;
	/** Writes one RTP packet holding a (tiny) VP8 key frame. */
	sendFrame(): void;
	/** Sends `count` key frames, `intervalMs` apart. */
	sendFrames(count: number, intervalMs?: number): Promise<void>;
	/** Keeps sending key frames every `intervalMs` until stop()/close(). */
	start(intervalMs?: number): void;
	stop(): void;
	readonly framesSent: number;
	waitConnected(timeoutMs?: number): Promise<void>;
	close(): Promise<void>;
}

export interface ReceivingPeer {
	readonly pc: RTCPeerConnection;
	readonly consumerId: string;
	readonly ssrc: number;
	readonly payloadType: number;
	readonly packetsReceived: number;
	/** Received packets whose payload is the VP8 key frame createSendingPeer sends. */
	readonly vp8KeyFramesReceived: number;
	/** SSRCs of the received RTP packets (should be just the consumer's). */
	readonly receivedSsrcs: ReadonlySet<number>;
	/** Resolves with the packet count once at least `count` RTP packets came in. */
	waitForPackets(count: number, timeoutMs?: number): Promise<number>;
	waitConnected(timeoutMs?: number): Promise<void>;
	close(): Promise<void>;
}

export interface ProduceRtpParameters {
	mid: string;
	codecs: Array<{
		mimeType: string;
		payloadType: number;
		clockRate: number;
		parameters: Record<string, string | number>;
		rtcpFeedback: RtcpFeedbackLike[];
	}>;
	headerExtensions: [];
	encodings: Array<{ ssrc: number }>;
	rtcp: { cname: string; reducedSize: boolean };
}

const VP8_MIME = 'video/VP8';
export const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RTCP_FEEDBACK: RtcpFeedbackLike[] = [
	{ type: 'nack' },
	{ type: 'nack', parameter: 'pli' },
	{ type: 'ccm', parameter: 'fir' },
];

// ---------------------------------------------------------------------------
// werift configuration

/**
 * werift settings for a loopback-only peer: no STUN/TURN, no interface
 * addresses (iceUseIpv4/6 false), 127.0.0.1 as the only host candidate and the
 * UDP socket bound to it; candidate pairs off loopback are dropped.
 */
export function loopbackPeerConfig(videoCodec?: RTCRtpCodecParameters, address = LOOPBACK_IP): RTCPeerConnectionConfig {
	// `address`: another local address of this machine (a cluster test's bridge) instead of 127.0.0.1.
	return {
		iceServers: [],
		iceUseIpv4: false,
		iceUseIpv6: false,
		iceUseTcp: false,
		iceAdditionalHostAddresses: [address],
		iceInterfaceAddresses: { udp4: address },
		iceFilterCandidatePair: (pair: CandidatePair) => pair.localCandidate.host === address,
		codecs: { audio: [], video: videoCodec ? [videoCodec] : [] },
		headerExtensions: { audio: [], video: [] },
	};
}

function vp8Capability(caps: RtpCapabilitiesLike): RtpCodecCapabilityLike {
	const codec = (caps.codecs ?? []).find(
		(c) => c.kind === 'video' && c.mimeType.toLowerCase() === VP8_MIME.toLowerCase(),
	);
	if (!codec) throw new Error('router rtpCapabilities have no VP8 codec');
	return codec;
}

function vp8CodecFor(capability: RtpCodecCapabilityLike): RTCRtpCodecParameters {
	const rtcpFeedback = (capability.rtcpFeedback ?? DEFAULT_RTCP_FEEDBACK).filter(
		(fb) => fb.type === 'nack' || fb.type === 'ccm',
	);
	return new RTCRtpCodecParameters({
		mimeType: VP8_MIME,
		clockRate: 90000,
		payloadType: capability.preferredPayloadType ?? 96,
		rtcpFeedback: rtcpFeedback.map((fb) =>
			fb.parameter ? { type: fb.type, parameter: fb.parameter } : { type: fb.type },
		),
	});
}

// ---------------------------------------------------------------------------
// SDP reading (werift's local description)

interface LocalMediaInfo {
	mid: string;
	payloadType: number;
	rtcpFeedback: RtcpFeedbackLike[];
	fmtp: Record<string, string | number>;
	ssrc?: number;
	cname?: string;
}

interface LocalDtlsInfo {
	role: 'client' | 'server' | 'auto';
	fingerprints: Array<{ algorithm: string; value: string }>;
}

export function sdpLines(sdp: string): string[] {
	return sdp.split(/\r?\n/).filter((l) => l.length > 0);
}

/** Fingerprints and DTLS role (from a=setup) of a local werift SDP. */
export function readLocalDtls(sdp: string): LocalDtlsInfo {
	const fingerprints: Array<{ algorithm: string; value: string }> = [];
	let setup: string | undefined;
	for (const line of sdpLines(sdp)) {
		const fp = /^a=fingerprint:(\S+)\s+(\S+)$/.exec(line);
		if (fp && !fingerprints.some((f) => f.algorithm === fp[1].toLowerCase())) {
			fingerprints.push({ algorithm: fp[1].toLowerCase(), value: fp[2].toUpperCase() });
		}
		const st = /^a=setup:(\S+)$/.exec(line);
		if (st && setup === undefined) setup = st[1];
	}
	if (fingerprints.length === 0) throw new Error('local SDP has no a=fingerprint');
	const role = setup === 'active' ? 'client' : setup === 'passive' ? 'server' : 'auto';
	return { role, fingerprints };
}

/** The first video m-section of a local werift SDP. */
export function readLocalVideo(sdp: string): LocalMediaInfo {
	const lines = sdpLines(sdp);
	const start = lines.findIndex((l) => l.startsWith('m=video '));
	if (start < 0) throw new Error('local SDP has no video m-line');
	let end = lines.findIndex((l, i) => i > start && l.startsWith('m='));
	if (end < 0) end = lines.length;
	const section = lines.slice(start, end);

	let mid: string | undefined;
	let payloadType: number | undefined;
	let ssrc: number | undefined;
	let cname: string | undefined;
	for (const line of section) {
		const m = /^a=mid:(\S+)$/.exec(line);
		if (m) mid = m[1];
		const rtpmap = /^a=rtpmap:(\d+) VP8\/90000$/i.exec(line);
		if (rtpmap && payloadType === undefined) payloadType = Number(rtpmap[1]);
		const s = /^a=ssrc:(\d+) cname:(\S+)$/.exec(line);
		if (s && ssrc === undefined) {
			ssrc = Number(s[1]);
			cname = s[2];
		}
	}
	if (mid === undefined) throw new Error('local video m-section has no a=mid');
	if (payloadType === undefined) throw new Error('local video m-section has no VP8');

	const rtcpFeedback: RtcpFeedbackLike[] = [];
	const fmtp: Record<string, string | number> = {};
	for (const line of section) {
		const fb = new RegExp(`^a=rtcp-fb:${payloadType} (\\S+)(?: (\\S+))?$`).exec(line);
		if (fb) rtcpFeedback.push(fb[2] ? { type: fb[1], parameter: fb[2] } : { type: fb[1] });
		const fm = new RegExp(`^a=fmtp:${payloadType} (.+)$`).exec(line);
		if (fm) Object.assign(fmtp, parseFmtp(fm[1]));
	}
	return { mid, payloadType, rtcpFeedback, fmtp, ssrc, cname };
}

function parseFmtp(text: string): Record<string, string | number> {
	const out: Record<string, string | number> = {};
	for (const part of text.split(';')) {
		const [key, value] = part.split('=').map((s) => s.trim());
		if (!key || value === undefined) continue;
		out[key] = /^\d+$/.test(value) ? Number(value) : value;
	}
	return out;
}

// ---------------------------------------------------------------------------
// SDP writing (the mediasoup side)

function pickFingerprint(transport: WebRtcTransportLike): { algorithm: string; value: string } {
	const fps = transport.dtlsParameters.fingerprints;
	const fp = fps.find((f) => f.algorithm === 'sha-256') ?? fps[0];
	if (!fp) throw new Error(`transport ${transport.id} has no DTLS fingerprint`);
	return fp;
}

function candidateLines(transport: WebRtcTransportLike): string[] {
	const lines: string[] = [];
	for (const c of transport.iceCandidates) {
		const ip = c.address ?? c.ip;
		if (!ip) continue;
		let line = `a=candidate:${c.foundation} 1 ${c.protocol} ${c.priority} ${ip} ${c.port} typ ${c.type}`;
		if (c.protocol === 'tcp') line += ` tcptype ${c.tcpType ?? 'passive'}`;
		lines.push(line);
	}
	if (lines.length === 0) throw new Error(`transport ${transport.id} has no usable ICE candidate`);
	lines.push('a=end-of-candidates');
	return lines;
}

interface RemoteCodec {
	payloadType: number;
	mimeType: string;
	clockRate: number;
	channels?: number;
	parameters: Record<string, unknown>;
	rtcpFeedback: RtcpFeedbackLike[];
}

interface RemoteSectionOptions {
	mid: string;
	direction: 'sendonly' | 'recvonly';
	setup: 'actpass' | 'active' | 'passive';
	codecs: RemoteCodec[];
	/** Only for a sending (offer) section. */
	sources?: { ssrc: number; rtxSsrc?: number; cname: string; streamId: string; trackId: string };
}

/**
 * A one-m-line SDP describing the mediasoup transport's side: session lines,
 * then `mLine` with the transport's ICE and DTLS parameters, then `attributes`.
 */
export function buildRemoteSection(
	transport: WebRtcTransportLike,
	o: { mid: string; mLine: string; setup: RemoteSectionOptions['setup']; attributes: string[] },
): string {
	const fp = pickFingerprint(transport);
	const lines: string[] = [
		'v=0',
		`o=mediasoup ${Date.now()} 1 IN IP4 0.0.0.0`,
		's=-',
		't=0 0',
	];
	if (transport.iceParameters.iceLite !== false) lines.push('a=ice-lite');
	lines.push(
		`a=group:BUNDLE ${o.mid}`,
		'a=msid-semantic: WMS *',
		`a=fingerprint:${fp.algorithm} ${fp.value}`,
		o.mLine,
		`c=IN IP4 ${LOOPBACK_IP}`,
		`a=mid:${o.mid}`,
		`a=ice-ufrag:${transport.iceParameters.usernameFragment}`,
		`a=ice-pwd:${transport.iceParameters.password}`,
		...candidateLines(transport),
		`a=setup:${o.setup}`,
		...o.attributes,
	);
	return `${lines.join('\r\n')}\r\n`;
}

/** A one-m-line video SDP describing the mediasoup transport's side. */
export function buildRemoteSdp(transport: WebRtcTransportLike, o: RemoteSectionOptions): string {
	const pts = o.codecs.map((c) => c.payloadType).join(' ');
	const lines: string[] = [`a=${o.direction}`, 'a=rtcp-mux', 'a=rtcp-rsize'];
	for (const c of o.codecs) {
		const name = c.mimeType.split('/')[1] ?? c.mimeType;
		lines.push(`a=rtpmap:${c.payloadType} ${name}/${c.clockRate}${c.channels ? `/${c.channels}` : ''}`);
		const fmtp = Object.entries(c.parameters)
			.filter(([, v]) => typeof v === 'string' || typeof v === 'number')
			.map(([k, v]) => `${k}=${String(v)}`)
			.join(';');
		if (fmtp) lines.push(`a=fmtp:${c.payloadType} ${fmtp}`);
		for (const fb of c.rtcpFeedback) {
			lines.push(`a=rtcp-fb:${c.payloadType} ${fb.type}${fb.parameter ? ` ${fb.parameter}` : ''}`);
		}
	}
	const s = o.sources;
	if (s) {
		lines.push(`a=msid:${s.streamId} ${s.trackId}`);
		if (s.rtxSsrc !== undefined) lines.push(`a=ssrc-group:FID ${s.ssrc} ${s.rtxSsrc}`);
		for (const ssrc of s.rtxSsrc !== undefined ? [s.ssrc, s.rtxSsrc] : [s.ssrc]) {
			lines.push(`a=ssrc:${ssrc} cname:${s.cname}`, `a=ssrc:${ssrc} msid:${s.streamId} ${s.trackId}`);
		}
	}
	return buildRemoteSection(transport, { mid: o.mid, mLine: `m=video 7 UDP/TLS/RTP/SAVPF ${pts}`, setup: o.setup, attributes: lines });
}

// ---------------------------------------------------------------------------
// Narrowing of the consumer's rtpParameters (typed `unknown` on purpose)

function isRecord(v: unknown): v is Record<string, unknown> {
	return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown, what: string): number {
	if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${what} is not a number`);
	return v;
}

function str(v: unknown, what: string): string {
	if (typeof v !== 'string') throw new Error(`${what} is not a string`);
	return v;
}

interface ConsumerRtp {
	mid?: string;
	codecs: RemoteCodec[];
	ssrc: number;
	rtxSsrc?: number;
	cname: string;
}

export function readConsumerRtpParameters(rtpParameters: unknown): ConsumerRtp {
	if (!isRecord(rtpParameters)) throw new Error('consumer rtpParameters is not an object');
	const { codecs, encodings, rtcp, mid } = rtpParameters;
	if (!Array.isArray(codecs) || codecs.length === 0) throw new Error('consumer has no codecs');
	if (!Array.isArray(encodings) || encodings.length === 0) throw new Error('consumer has no encodings');
	const parsedCodecs = codecs.map((c: unknown, i): RemoteCodec => {
		if (!isRecord(c)) throw new Error(`codecs[${i}] is not an object`);
		const fbs = Array.isArray(c.rtcpFeedback) ? c.rtcpFeedback : [];
		return {
			payloadType: num(c.payloadType, `codecs[${i}].payloadType`),
			mimeType: str(c.mimeType, `codecs[${i}].mimeType`),
			clockRate: num(c.clockRate, `codecs[${i}].clockRate`),
			channels: typeof c.channels === 'number' ? c.channels : undefined,
			parameters: isRecord(c.parameters) ? c.parameters : {},
			rtcpFeedback: fbs.filter(isRecord).map((fb) => ({
				type: str(fb.type, 'rtcpFeedback.type'),
				parameter: typeof fb.parameter === 'string' && fb.parameter !== '' ? fb.parameter : undefined,
			})),
		};
	});
	const enc: unknown = encodings[0];
	if (!isRecord(enc)) throw new Error('encodings[0] is not an object');
	const rtx = isRecord(enc.rtx) ? num(enc.rtx.ssrc, 'encodings[0].rtx.ssrc') : undefined;
	const cname = isRecord(rtcp) && typeof rtcp.cname === 'string' ? rtcp.cname : 'mediasoup';
	return {
		mid: typeof mid === 'string' ? mid : undefined,
		codecs: parsedCodecs,
		ssrc: num(enc.ssrc, 'encodings[0].ssrc'),
		rtxSsrc: rtx,
		cname,
	};
}

// ---------------------------------------------------------------------------
// Peers

export function waitConnectedState(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
	return new Promise<void>((resolve, reject) => {
		if (pc.connectionState === 'connected') return resolve();
		const timer = setTimeout(() => {
			unSubscribe();
			reject(new Error(`werift peer not connected after ${timeoutMs} ms (state ${pc.connectionState})`));
		}, timeoutMs);
		const { unSubscribe } = pc.connectionStateChange.subscribe((state) => {
			if (state === 'connected') {
				clearTimeout(timer);
				unSubscribe();
				resolve();
			} else if (state === 'failed' || state === 'closed') {
				clearTimeout(timer);
				unSubscribe();
				reject(new Error(`werift peer connection ${state}`));
			}
		});
	});
}

/**
 * pc.close() plus a stop for a DTLS handshake still in flight: werift 0.25.2
 * does not cancel a flight's retransmission loop on close (it keeps a timer
 * for up to ~33 s, so jest would not exit after a failed handshake). The loop
 * ends at its next wake-up once the context's flight counter is past it.
 */
export async function closePeerConnection(pc: RTCPeerConnection): Promise<void> {
	for (const transport of pc.dtlsTransports) {
		if (transport.dtls && !transport.dtls.connected) transport.dtls.dtls.flight = Number.MAX_SAFE_INTEGER;
	}
	await pc.close();
}

export function dtlsParametersFor(local: LocalDtlsInfo): { role: 'client' | 'server'; fingerprints: LocalDtlsInfo['fingerprints'] } {
	// 'auto' (actpass) only appears in our own offer; the answer we write for
	// it says a=setup:passive, which makes werift the DTLS client.
	return { role: local.role === 'server' ? 'server' : 'client', fingerprints: local.fingerprints };
}

/**
 * One RTP payload holding a tiny VP8 key frame that mediasoup accepts as one.
 * mediasoup 3.14's VP8 parser rejects a payload descriptor without the X bit
 * ("ignoring invalid payload (1)"), and then never sees a key frame, so pipe
 * and simple consumers wait for one forever: a bare 1-byte descriptor is not
 * enough. Descriptor: X=1 S=1 PID=0, then I=1, then a 15-bit PictureID.
 * VP8 payload header: first byte with P (low bit) = 0 -> key frame, the key
 * frame start code and a 2x2 size.
 */
export function vp8KeyFramePayload(pictureId: number): Buffer {
	const pid = pictureId & 0x7fff;
	return Buffer.from([
		0x90, // X=1, N=0, S=1, PID=0
		0x80, // I=1 (PictureID present), L=0, T=0, K=0
		0x80 | (pid >> 8), // M=1: 15-bit PictureID
		pid & 0xff,
		0x10, // frame tag: P=0 (key frame), version 0, show_frame=1
		0x02,
		0x00,
		0x9d, // key frame start code
		0x01,
		0x2a,
		0x02, // width 2
		0x00,
		0x02, // height 2
		0x00,
	]);
}

function isOurVp8KeyFrame(payload: Buffer): boolean {
	const expected = vp8KeyFramePayload(0);
	return (
		payload.length === expected.length &&
		payload.subarray(0, 2).equals(expected.subarray(0, 2)) &&
		payload.subarray(4).equals(expected.subarray(4))
	);
}

export async function createSendingPeer(
	transport: WebRtcTransportLike,
	routerRtpCapabilities: RtpCapabilitiesLike,
	options: { timeoutMs?: number; address?: string } = {},
): Promise<SendingPeer> {
	if (!transport.produce) throw new Error(`transport ${transport.id} cannot produce`);
	const codec = vp8CodecFor(vp8Capability(routerRtpCapabilities));
	const pc = new RTCPeerConnection(loopbackPeerConfig(codec, options.address));
	try {
		const track = new MediaStreamTrack({ kind: 'video' });
		pc.addTransceiver(track, { direction: 'sendonly' });
		await pc.setLocalDescription(await pc.createOffer());
		const offerSdp = pc.localDescription?.sdp;
		if (!offerSdp) throw new Error('werift produced no local offer');
		const local = readLocalVideo(offerSdp);
		if (local.ssrc === undefined || local.cname === undefined) throw new Error('werift offer has no a=ssrc');
		const dtls = dtlsParametersFor(readLocalDtls(offerSdp));

		const answer = buildRemoteSdp(transport, {
			mid: local.mid,
			direction: 'recvonly',
			setup: dtls.role === 'client' ? 'passive' : 'active',
			codecs: [
				{
					payloadType: local.payloadType,
					mimeType: VP8_MIME,
					clockRate: 90000,
					parameters: local.fmtp,
					rtcpFeedback: local.rtcpFeedback,
				},
			],
		});
		await pc.setRemoteDescription({ type: 'answer', sdp: answer });
		await transport.connect({ dtlsParameters: dtls });

		const rtpParameters: ProduceRtpParameters = {
			mid: local.mid,
			codecs: [
				{
					mimeType: VP8_MIME,
					payloadType: local.payloadType,
					clockRate: 90000,
					parameters: local.fmtp,
					rtcpFeedback: local.rtcpFeedback,
				},
			],
			headerExtensions: [],
			encodings: [{ ssrc: local.ssrc }],
			rtcp: { cname: local.cname, reducedSize: true },
		};
		const producer = await transport.produce({ kind: 'video', rtpParameters });

		const ssrc = local.ssrc;
		let sequenceNumber = Math.floor(Math.random() * 0x8000);
		let timestamp = Math.floor(Math.random() * 0x7fffffff);
		let framesSent = 0;
		let timer: NodeJS.Timeout | undefined;
		let closed = false;

		const sendFrame = (): void => {
			if (closed) return;
			sequenceNumber = (sequenceNumber + 1) & 0xffff;
			timestamp = (timestamp + 3000) >>> 0; // 30 fps at 90 kHz
			const header = new RtpHeader({
				marker: true,
				payloadType: local.payloadType,
				sequenceNumber,
				timestamp,
				ssrc,
			});
			track.writeRtp(new RtpPacket(header, vp8KeyFramePayload(sequenceNumber)));
			framesSent++;
		};
		const stop = (): void => {
			if (timer) clearInterval(timer);
			timer = undefined;
		};

		return {
			pc,
			producerId: producer.id,
			ssrc,
			payloadType: local.payloadType,
			rtpParameters,
			sendFrame,
			async sendFrames(count: number, intervalMs = 20): Promise<void> {
				for (let i = 0; i < count && !closed; i++) {
					sendFrame();
					await new Promise((r) => setTimeout(r, intervalMs));
				}
			},
			start(intervalMs = 33): void {
				stop();
				timer = setInterval(sendFrame, intervalMs);
			},
			stop,
			get framesSent() {
				return framesSent;
			},
			waitConnected: (timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS) => waitConnectedState(pc, timeoutMs),
			async close(): Promise<void> {
				if (closed) return;
				closed = true;
				stop();
				track.stop();
				await closePeerConnection(pc);
			},
		};
	} catch (error) {
		await closePeerConnection(pc);
		throw error;
	}
}

export async function createReceivingPeer(
	transport: WebRtcTransportLike,
	routerRtpCapabilities: RtpCapabilitiesLike,
	producerId: string,
	options: { timeoutMs?: number; address?: string } = {},
): Promise<ReceivingPeer> {
	if (!transport.consume) throw new Error(`transport ${transport.id} cannot consume`);
	const capability = vp8Capability(routerRtpCapabilities);
	const codec = vp8CodecFor(capability);
	const consumer = await transport.consume({
		producerId,
		paused: true,
		rtpCapabilities: {
			codecs: [
				{
					kind: 'video',
					mimeType: VP8_MIME,
					clockRate: 90000,
					preferredPayloadType: codec.payloadType,
					rtcpFeedback: codec.rtcpFeedback,
				},
			],
			headerExtensions: [],
		},
	});
	if (consumer.kind !== 'video') throw new Error(`consumer ${consumer.id} is ${consumer.kind}, not video`);
	const rtp = readConsumerRtpParameters(consumer.rtpParameters);
	const primary = rtp.codecs.find((c) => c.mimeType.toLowerCase() === VP8_MIME.toLowerCase());
	if (!primary) throw new Error(`consumer ${consumer.id} does not use VP8`);

	// Receive with the payload type mediasoup will send.
	codec.payloadType = primary.payloadType;
	const pc = new RTCPeerConnection(loopbackPeerConfig(codec, options.address));
	try {
		let packetsReceived = 0;
		let vp8KeyFramesReceived = 0;
		const receivedSsrcs = new Set<number>();
		const waiters = new Set<() => void>();
		pc.onTrack.subscribe((track) => {
			track.onReceiveRtp.subscribe((packet) => {
				packetsReceived++;
				receivedSsrcs.add(packet.header.ssrc);
				if (isOurVp8KeyFrame(packet.payload)) vp8KeyFramesReceived++;
				for (const w of [...waiters]) w();
			});
		});

		const offer = buildRemoteSdp(transport, {
			mid: rtp.mid ?? '0',
			direction: 'sendonly',
			setup: 'actpass',
			codecs: rtp.codecs,
			sources: {
				ssrc: rtp.ssrc,
				rtxSsrc: rtp.rtxSsrc,
				cname: rtp.cname,
				streamId: `stream-${consumer.id}`,
				trackId: consumer.id,
			},
		});
		await pc.setRemoteDescription({ type: 'offer', sdp: offer });
		await pc.setLocalDescription(await pc.createAnswer());
		const answerSdp = pc.localDescription?.sdp;
		if (!answerSdp) throw new Error('werift produced no local answer');
		await transport.connect({ dtlsParameters: dtlsParametersFor(readLocalDtls(answerSdp)) });
		await consumer.resume();

		let closed = false;
		return {
			pc,
			consumerId: consumer.id,
			ssrc: rtp.ssrc,
			payloadType: primary.payloadType,
			get packetsReceived() {
				return packetsReceived;
			},
			get vp8KeyFramesReceived() {
				return vp8KeyFramesReceived;
			},
			receivedSsrcs,
			waitForPackets(count: number, timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS): Promise<number> {
				return new Promise<number>((resolve, reject) => {
					if (packetsReceived >= count) return resolve(packetsReceived);
					const check = (): void => {
						if (packetsReceived < count) return;
						clearTimeout(timer);
						waiters.delete(check);
						resolve(packetsReceived);
					};
					const timer = setTimeout(() => {
						waiters.delete(check);
						reject(new Error(`received ${packetsReceived}/${count} RTP packets after ${timeoutMs} ms`));
					}, timeoutMs);
					waiters.add(check);
				});
			},
			waitConnected: (timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS) => waitConnectedState(pc, timeoutMs),
			async close(): Promise<void> {
				if (closed) return;
				closed = true;
				await closePeerConnection(pc);
			},
		};
	} catch (error) {
		await closePeerConnection(pc);
		throw error;
	}
}
