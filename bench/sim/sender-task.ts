import * as Comlink from 'comlink';
import { threadCpuMs } from './thread-cpu';
import nodeEndpoint from 'comlink/dist/umd/node-adapter';
import { nowMs, ProbePacketWriter } from '../media/rtp-packet';
import { RtpSender } from '../media/udp-peers';
import { type MediaProfile, profileRates } from './media-profile';
import type { PublisherSpec, SenderApi, SenderTask, SentCounters } from './session-api';

// A publisher that fell further behind than this skips ahead instead of
// bursting the backlog out, as a real encoder would drop frames.
const MAX_CATCH_UP_MS = 100;

interface QueuedPacket {
	dueAt: number;
	keyFrame: boolean;
	marker: boolean;
	timestamp: number;
}

/**
 * One publisher: a socket, a video stream and an audio stream. Frames are
 * "encoded" on the frame clock and their packets leave through a pacer;
 * audio leaves every ptime. The send time is stamped into each packet when
 * it actually leaves, so pacing never hides in the measured latency.
 */
class Publisher {
	targetPort = 0;
	videoPackets = 0;
	audioPackets = 0;
	lateFrames = 0;
	maxLagMs = 0;
	nextFrameAt = 0;
	nextAudioAt = 0;
	readonly #queue: QueuedPacket[] = [];
	#lastPacketDue = 0;
	#frame = 0;
	#videoSeq = Math.floor(Math.random() * 0xffff);
	#audioSeq = Math.floor(Math.random() * 0xffff);
	readonly #videoTs0 = Math.floor(Math.random() * 0xffffffff);
	readonly #audioTs0 = Math.floor(Math.random() * 0xffffffff);
	#audioPacket = 0;
	readonly #packetIntervalMs: number;
	readonly #video: ProbePacketWriter;
	readonly #audio: ProbePacketWriter;

	constructor(
		readonly spec: PublisherSpec,
		readonly socket: RtpSender,
		private readonly profile: MediaProfile,
	) {
		this.#packetIntervalMs = profileRates(profile).videoPacketIntervalMs;
		this.#video = new ProbePacketWriter(profile.video.payloadType, spec.videoSsrc, profile.video.payloadBytes, 'vp8');
		this.#audio = new ProbePacketWriter(profile.audio.payloadType, spec.audioSsrc, profile.audio.payloadBytes, 'opus');
	}

	get frameIntervalMs(): number {
		return 1000 / this.profile.video.fps;
	}

	/** When this publisher next has something to do. */
	get nextDueAt(): number {
		return Math.min(this.nextFrameAt, this.nextAudioAt, this.#queue[0]?.dueAt ?? Number.POSITIVE_INFINITY);
	}

	/** Does everything due by `now`: frames into the pacer, due packets out, audio out. */
	run(now: number): void {
		const lag = now - this.nextFrameAt;
		if (lag > this.frameIntervalMs) this.lateFrames++;
		if (lag > this.maxLagMs) this.maxLagMs = lag;
		if (lag > MAX_CATCH_UP_MS) {
			this.nextFrameAt = now;
			this.nextAudioAt = now;
		}
		while (this.nextFrameAt <= now) {
			this.#encodeFrame(this.nextFrameAt);
			this.nextFrameAt += this.frameIntervalMs;
		}
		while (this.#queue.length > 0 && this.#queue[0].dueAt <= now) this.#sendVideo(this.#queue.shift() as QueuedPacket);
		while (this.nextAudioAt <= now) {
			this.#sendAudio();
			this.nextAudioAt += this.profile.audio.ptimeMs;
		}
	}

	#encodeFrame(at: number): void {
		const v = this.profile.video;
		const keyFrame = this.#frame % v.framesPerGroup === 0;
		const packets = keyFrame ? v.keyFramePackets : v.packetsPerFrame;
		const timestamp = this.#videoTs0 + Math.round((this.#frame * v.clockRate) / v.fps);
		for (let i = 0; i < packets; i++) {
			// A frame starts when it is encoded or when the pacer is done with the previous one.
			const dueAt = Math.max(at, this.#lastPacketDue + this.#packetIntervalMs);
			this.#lastPacketDue = dueAt;
			this.#queue.push({ dueAt, keyFrame, marker: i === packets - 1, timestamp });
		}
		this.#frame++;
	}

	#sendVideo(p: QueuedPacket): void {
		this.socket.sendConnected(this.#video.write(this.#videoSeq++, p.timestamp, p.marker, p.keyFrame, this.videoPackets, nowMs()));
		this.videoPackets++;
	}

	#sendAudio(): void {
		const a = this.profile.audio;
		const timestamp = this.#audioTs0 + Math.round((this.#audioPacket * a.clockRate * a.ptimeMs) / 1000);
		this.socket.sendConnected(this.#audio.write(this.#audioSeq++, timestamp, false, false, this.audioPackets, nowMs()));
		this.audioPackets++;
		this.#audioPacket++;
	}

	counters(): SentCounters {
		return {
			index: this.spec.index,
			videoPackets: this.videoPackets,
			audioPackets: this.audioPackets,
			lateFrames: this.lateFrames,
			maxLagMs: this.maxLagMs,
		};
	}
}

/** The sender session of a pool thread: every publisher it holds, on one timer. */
class SenderSession implements SenderApi {
	readonly #publishers = new Map<number, Publisher>();
	#timer: NodeJS.Timeout | undefined;
	#closed = false;

	constructor(
		private readonly profile: MediaProfile,
		private readonly onClosed: () => void,
	) {}

	async addPublisher(spec: PublisherSpec): Promise<number> {
		const socket = await RtpSender.bind();
		this.#publishers.set(spec.index, new Publisher(spec, socket, this.profile));
		return socket.port;
	}

	async start(index: number, targetPort: number): Promise<void> {
		const publisher = this.#publishers.get(index);
		if (!publisher) throw new Error(`no publisher ${index} in this sender`);
		await publisher.socket.connect(targetPort);
		publisher.targetPort = targetPort;
		// A random phase, so that many publishers do not send their frames in lockstep.
		const now = nowMs();
		publisher.nextFrameAt = now + Math.random() * publisher.frameIntervalMs;
		publisher.nextAudioAt = now + Math.random() * this.profile.audio.ptimeMs;
		this.#reschedule();
	}

	async counters(): Promise<SentCounters[]> {
		return [...this.#publishers.values()].map((p) => p.counters());
	}

	async cpuMs(): Promise<number | undefined> {
		return threadCpuMs();
	}

	async close(): Promise<SentCounters[]> {
		const counters = await this.counters();
		if (this.#closed) return counters;
		this.#closed = true;
		if (this.#timer) clearTimeout(this.#timer);
		await Promise.all([...this.#publishers.values()].map((p) => p.socket.close()));
		this.onClosed();
		return counters;
	}

	#tick(): void {
		this.#timer = undefined;
		if (this.#closed) return;
		const now = nowMs();
		for (const p of this.#publishers.values()) if (p.targetPort !== 0) p.run(now);
		this.#reschedule();
	}

	#reschedule(): void {
		if (this.#closed) return;
		if (this.#timer) clearTimeout(this.#timer);
		let next = Number.POSITIVE_INFINITY;
		for (const p of this.#publishers.values()) if (p.targetPort !== 0) next = Math.min(next, p.nextDueAt);
		this.#timer = next === Number.POSITIVE_INFINITY ? undefined : setTimeout(() => this.#tick(), Math.max(0, next - nowMs()));
	}
}

/** Piscina task: runs a sender session until the main thread closes it. */
export async function runSenderTask(task: SenderTask): Promise<void> {
	await new Promise<void>((resolve) => {
		Comlink.expose(new SenderSession(task.profile, resolve), nodeEndpoint(task.port));
	});
}
