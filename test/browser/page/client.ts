// The page's script, bundled by esbuild with mediasoup-client for chromium.
// It does what an app's client does: loads a Device with the MafaldaRouter's
// capabilities, publishes the fake camera (3 simulcast layers) and the fake
// microphone, or consumes what another page publishes. The test drives it
// through window.testPage and reads WebRTC's own getStats().
import { Device, type types } from 'mediasoup-client';
import type { InboundStats, PublishedIds, TestPageApi } from '../page-api';

const peer = new URLSearchParams(location.search).get('peer') ?? '';
const device = new Device();
const consumers: types.Consumer[] = [];

async function rpc<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
	const res = await fetch('/rpc', { method: 'POST', body: JSON.stringify({ peer, method, params }) });
	const body = (await res.json()) as { result?: T; error?: string };
	if (!res.ok) throw new Error(`${method}: ${body.error ?? res.status}`);
	return body.result as T;
}

interface TransportInfo {
	id: string;
	iceParameters: types.IceParameters;
	iceCandidates: types.IceCandidate[];
	dtlsParameters: types.DtlsParameters;
}

function connectOnDemand(transport: types.Transport): void {
	transport.on('connect', ({ dtlsParameters }, callback, errback) => {
		rpc('connectTransport', { transportId: transport.id, dtlsParameters }).then(() => callback(), errback);
	});
}

/** The presence stream: the server closes this peer's transports when it ends. */
function present(): Promise<void> {
	return new Promise((resolve, reject) => {
		const source = new EventSource(`/presence?peer=${encodeURIComponent(peer)}`);
		source.onopen = () => resolve();
		source.onerror = () => reject(new Error('presence stream failed'));
	});
}

let ready: Promise<void> | undefined;
function load(): Promise<void> {
	ready ??= (async () => {
		await present();
		await device.load({ routerRtpCapabilities: await rpc<types.RtpCapabilities>('rtpCapabilities') });
	})();
	return ready;
}

async function publish(): Promise<PublishedIds> {
	await load();
	const transport = device.createSendTransport(await rpc<TransportInfo>('createTransport'));
	connectOnDemand(transport);
	transport.on('produce', ({ kind, rtpParameters }, callback, errback) => {
		rpc<{ id: string }>('produce', { transportId: transport.id, kind, rtpParameters }).then(callback, errback);
	});
	const stream = await navigator.mediaDevices.getUserMedia({
		audio: true,
		video: { width: { exact: 1280 }, height: { exact: 720 }, frameRate: 15 },
	});
	const [videoTrack] = stream.getVideoTracks();
	const [audioTrack] = stream.getAudioTracks();
	// 'detail' asks the encoder to keep the resolution when CPU is short (a
	// loaded test machine), so the three layers keep their widths.
	videoTrack.contentHint = 'detail';
	const video = await transport.produce({
		track: videoTrack,
		encodings: [
			{ rid: 'r0', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
			{ rid: 'r1', scaleResolutionDownBy: 2, maxBitrate: 400_000 },
			{ rid: 'r2', scaleResolutionDownBy: 1, maxBitrate: 1_000_000 },
		],
		codecOptions: { videoGoogleStartBitrate: 1000 },
	});
	const audio = await transport.produce({ track: audioTrack });
	return { video: video.id, audio: audio.id };
}

async function consume(producerIds: string[]): Promise<void> {
	await load();
	const transport = device.createRecvTransport(await rpc<TransportInfo>('createTransport'));
	connectOnDemand(transport);
	for (const producerId of producerIds) {
		const params = await rpc<{ id: string; producerId: string; kind: types.MediaKind; rtpParameters: types.RtpParameters }>('consume', {
			transportId: transport.id,
			producerId,
			rtpCapabilities: device.rtpCapabilities,
		});
		const consumer = await transport.consume(params);
		consumers.push(consumer);
		// A sink, as an app's <video> is, so chromium renders what it decodes.
		const element = document.createElement(consumer.kind === 'video' ? 'video' : 'audio');
		element.muted = true;
		element.autoplay = true;
		element.srcObject = new MediaStream([consumer.track]);
		document.body.append(element);
		await rpc('resumeConsumer', { consumerId: consumer.id });
	}
}

/** Each consumer's inbound-rtp stats, from the browser's RTCPeerConnection. */
async function stats(): Promise<InboundStats[]> {
	const out: InboundStats[] = [];
	for (const consumer of consumers) {
		for (const s of (await consumer.getStats()).values()) {
			const r = s as Record<string, unknown>;
			if (r.type !== 'inbound-rtp') continue;
			out.push({
				kind: String(r.kind),
				packetsReceived: Number(r.packetsReceived ?? 0),
				bytesReceived: Number(r.bytesReceived ?? 0),
				...(r.kind === 'video'
					? { framesDecoded: Number(r.framesDecoded ?? 0), frameWidth: Number(r.frameWidth ?? 0), frameHeight: Number(r.frameHeight ?? 0) }
					: {}),
			});
		}
	}
	return out;
}

declare global {
	interface Window {
		testPage: TestPageApi;
	}
}
window.testPage = { publish, consume, stats };
