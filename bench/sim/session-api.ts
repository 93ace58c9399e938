import type { MessagePort } from 'node:worker_threads';
import type { MediaProfile } from './media-profile';

/**
 * What the main thread and the simulator's pool threads say to each other.
 * Each session (a sender or a group of receivers) is one long piscina task;
 * the main thread drives it with comlink over a MessagePort it transferred
 * with the task, and the task ends when the session is closed.
 */

export interface PublisherSpec {
	/** Index of the publisher in the scenario (for its SSRCs and for counters). */
	index: number;
	videoSsrc: number;
	audioSsrc: number;
}

export interface SentCounters {
	index: number;
	videoPackets: number;
	audioPackets: number;
	/** Frames sent later than their slot by more than a frame interval: the sender thread was starved. */
	lateFrames: number;
	/** Largest delay of a frame behind its slot, ms. */
	maxLagMs: number;
}

export interface SenderApi {
	/** Binds the publisher's socket; returns its port (the producer transport connects to it). */
	addPublisher(spec: PublisherSpec): Promise<number>;
	/** Starts sending the publisher's media to a mediasoup transport's port. */
	start(index: number, targetPort: number): Promise<void>;
	counters(): Promise<SentCounters[]>;
	/** CPU time of this session's thread so far, ms (bench/sim/thread-cpu.ts); undefined off Linux. */
	cpuMs(): Promise<number | undefined>;
	close(): Promise<SentCounters[]>;
}

export interface GroupWindow {
	receivers: number;
	packets: number;
	/** Packets missing from sequence gaps. */
	lost: number;
	/** Receivers that got nothing in the window (their loss is computed by the caller from what was sent). */
	silent: number;
	/** Latency histogram (latency-histogram.ts buckets). */
	latency: Uint32Array;
}

export interface ReceiverTotals {
	receivers: number;
	packets: number;
	lost: number;
	rtcpPackets: number;
	probationPackets: number;
	socketErrors: number;
}

export interface ReceiverApi {
	/** Binds `count` more receivers; returns their ports, in order. */
	add(count: number): Promise<number[]>;
	/** Files receivers (by port) under a group, e.g. the worker that serves them. */
	setGroups(assignments: Array<[port: number, group: string]>): Promise<void>;
	/** Starts a measurement window: what arrived before does not count in it. */
	mark(): Promise<void>;
	/** What arrived since mark(), by group. */
	read(): Promise<Record<string, GroupWindow>>;
	totals(): Promise<ReceiverTotals>;
	/** CPU time of this session's thread so far, ms; undefined off Linux. */
	cpuMs(): Promise<number | undefined>;
	close(): Promise<ReceiverTotals>;
}

export interface SenderTask {
	port: MessagePort;
	profile: MediaProfile;
}

export interface ReceiverTask {
	port: MessagePort;
	/** Consumer-side payload types (the router's), to find probes in. */
	videoPayloadType: number;
	audioPayloadType: number;
}
