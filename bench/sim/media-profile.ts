/**
 * What a simulated publisher sends: VP8-like video and opus-like audio at
 * rates close to a real webcam call, so that the packet rate (what costs an
 * SFU CPU) is realistic and not just the bitrate.
 */
export interface VideoProfile {
	/** Payload type the publisher's producer declares. */
	payloadType: number;
	clockRate: number;
	fps: number;
	/** Packets of a delta frame. */
	packetsPerFrame: number;
	/** Packets of a key frame (larger, as in a real encoder). */
	keyFramePackets: number;
	/** Frames per group: one key frame, then delta frames. */
	framesPerGroup: number;
	/** RTP payload bytes per packet (VP8 descriptor and probe included). */
	payloadBytes: number;
	/**
	 * Packets leave at this multiple of the average video bitrate, as a WebRTC
	 * sender's pacer spreads them (libwebrtc's default factor is 2.5), instead
	 * of a whole key frame in one burst that the SFU's fan-out would multiply.
	 */
	pacingFactor: number;
}

export interface AudioProfile {
	payloadType: number;
	clockRate: number;
	/** Milliseconds of audio per packet (opus' usual 20 ms: 50 packets/s). */
	ptimeMs: number;
	payloadBytes: number;
}

export interface MediaProfile {
	video: VideoProfile;
	audio: AudioProfile;
}

/**
 * 30 fps, a key frame every 30 frames (1 s, so a new consumer, which waits for
 * a key frame, starts within a second), 4 packets per delta frame, 12 per key
 * frame, 1000-byte payloads: 128 packets/s and about 1.05 Mbit/s of video,
 * paced at 2.5x (a packet every ~3 ms while a frame is going out).
 * Opus at 20 ms and 160 bytes: 50 packets/s, 64 kbit/s.
 */
export const DEFAULT_PROFILE: MediaProfile = {
	video: { payloadType: 96, clockRate: 90000, fps: 30, packetsPerFrame: 4, keyFramePackets: 12, framesPerGroup: 30, payloadBytes: 1000, pacingFactor: 2.5 },
	audio: { payloadType: 111, clockRate: 48000, ptimeMs: 20, payloadBytes: 160 },
};

const RTP_HEADER_BYTES = 12;

export interface ProfileRates {
	/** Gap between two video packets of a frame, ms (from the pacing factor). */
	videoPacketIntervalMs: number;
	videoPacketsPerSecond: number;
	audioPacketsPerSecond: number;
	videoBitsPerSecond: number;
	audioBitsPerSecond: number;
}

export function profileRates(profile: MediaProfile): ProfileRates {
	const { video, audio } = profile;
	const packetsPerGroup = video.keyFramePackets + (video.framesPerGroup - 1) * video.packetsPerFrame;
	const videoPacketsPerSecond = (packetsPerGroup * video.fps) / video.framesPerGroup;
	const audioPacketsPerSecond = 1000 / audio.ptimeMs;
	const videoBitsPerSecond = videoPacketsPerSecond * (video.payloadBytes + RTP_HEADER_BYTES) * 8;
	return {
		videoPacketIntervalMs: (1000 * (video.payloadBytes + RTP_HEADER_BYTES) * 8) / (videoBitsPerSecond * video.pacingFactor),
		videoPacketsPerSecond,
		audioPacketsPerSecond,
		videoBitsPerSecond,
		audioBitsPerSecond: audioPacketsPerSecond * (audio.payloadBytes + RTP_HEADER_BYTES) * 8,
	};
}

/** Both SSRCs of publisher `index`, distinct across publishers. */
export function publisherSsrcs(index: number): { video: number; audio: number } {
	return { video: 0x1000_0000 + index * 2, audio: 0x1000_0001 + index * 2 };
}
