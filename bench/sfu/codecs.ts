import type { types } from 'mediasoup';
import type { RouterRtpCodecCapability } from '../../lib/mediasoup-compat';
import type { MediaProfile } from '../sim/media-profile';

/** The router codecs of every backend: one audio and one video codec, as the simulator sends. */
export const MEDIA_CODECS: RouterRtpCodecCapability[] = [
	{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
	{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 },
];

export interface StreamParameters {
	kind: types.MediaKind;
	rtpParameters: types.RtpParameters;
}

/** Producer parameters of a publisher's two streams, as a PlainTransport peer (ffmpeg, GStreamer) declares them. */
export function publisherStreams(profile: MediaProfile, ssrcs: { video: number; audio: number }): StreamParameters[] {
	return [
		{
			kind: 'video',
			rtpParameters: {
				codecs: [{ mimeType: 'video/VP8', payloadType: profile.video.payloadType, clockRate: profile.video.clockRate }],
				encodings: [{ ssrc: ssrcs.video }],
			},
		},
		{
			kind: 'audio',
			rtpParameters: {
				codecs: [{ mimeType: 'audio/opus', payloadType: profile.audio.payloadType, clockRate: profile.audio.clockRate, channels: 2 }],
				encodings: [{ ssrc: ssrcs.audio }],
			},
		},
	];
}

/** Payload types a consumer will send with: the router's preferred ones. */
export function consumerPayloadTypes(caps: types.RtpCapabilities): { video: number; audio: number } {
	const find = (mimeType: string): number => {
		const codec = (caps.codecs ?? []).find((c) => c.mimeType.toLowerCase() === mimeType);
		if (codec?.preferredPayloadType === undefined) throw new Error(`the router has no ${mimeType} codec`);
		return codec.preferredPayloadType;
	};
	return { video: find('video/vp8'), audio: find('audio/opus') };
}

/** Every backend's PlainTransports: loopback, RTP and RTCP on one port, explicit connect(). */
export const PLAIN_TRANSPORT_OPTIONS: types.PlainTransportOptions = {
	listenInfo: { protocol: 'udp', ip: '127.0.0.1' },
	rtcpMux: true,
	comedia: false,
};
