import type { types } from 'mediasoup';
import type { StreamParameters } from './codecs';
import type { PlainTransportLike, StatsSource } from './transport-like';

export type BackendName = 'plain' | 'round-robin' | 'least-loaded' | 'mafalda';

export const BACKEND_LABELS: Readonly<Record<BackendName, string>> = {
	plain: 'plain mediasoup (1 Router, 1 Worker)',
	'round-robin': 'round-robin pool + pipeToRouter',
	'least-loaded': 'least-loaded pool + pipeToRouter',
	mafalda: 'mafalda (default options)',
};

export interface PublisherHandle {
	/** The producer transport's port: where the sender sends RTP. */
	transportPort: number;
	producerIds: string[];
	/** The producers, in producerIds' order: their inbound-rtp packetCount is what the SFU received. */
	producers: StatsSource[];
	workerIndex: number;
}

export interface ConsumerHandle {
	producerId: string;
	/** Its outbound-rtp packetCount is what the SFU sent to the receiver. */
	stats: StatsSource;
}

export interface ReceiverHandle {
	workerIndex: number;
	readonly transport: PlainTransportLike;
	/** Consumers made on it so far. */
	readonly consumers: ConsumerHandle[];
	/**
	 * The peer's RTP capabilities: one object per receiver, passed to each of
	 * its consume() calls, as an app keeps what a peer's device sent at join.
	 */
	peerRtpCapabilities?: types.RtpCapabilities;
}

export interface WorkerRow {
	workerIndex: number;
	pid: number;
	/** Consumers of the app's receivers on this worker. */
	consumers: number;
	/** Consumers feeding pipes to other workers. */
	pipeConsumers: number;
	/** Routers (or mafalda router shards) on this worker. */
	shards: number;
}

/**
 * An SFU as the scenarios drive it: plain mediasoup, a hand-written pool, or
 * mafalda. Each opens PlainTransports for publishers and receivers that the
 * simulator's sockets talk to; the scenarios never see which one it is.
 * A room is what an app opens a Router (or a MafaldaRouter) for; the pools
 * share one Router per worker between rooms, as bbb-webrtc-sfu's pool does.
 */
export interface SfuBackend {
	readonly name: BackendName;
	readonly rtpCapabilities: types.RtpCapabilities;
	/** A publisher's transport in `room`, connected to the sender's socket, with its producers. */
	addPublisher(room: string, senderPort: number, streams: StreamParameters[]): Promise<PublisherHandle>;
	/** A receiver's transport in `room`, placed by the backend, not connected yet. */
	addReceiver(room: string): Promise<ReceiverHandle>;
	/** Points the receiver's transport at the simulator's socket (a measured one or a sink). */
	connectReceiver(receiver: ReceiverHandle, port: number): Promise<void>;
	/** Consumers of `producerIds` on a receiver's transport. */
	consume(receiver: ReceiverHandle, producerIds: string[]): Promise<void>;
	/** Closes a receiver's transport (its consumers with it) and takes its load off the backend's counts. */
	closeReceiver(receiver: ReceiverHandle): void;
	workers(): Promise<WorkerRow[]>;
	/** Cumulative CPU time (user + system) of each mediasoup worker process, ms, by worker index. */
	workerCpuMs(): Promise<Map<number, number>>;
	close(): Promise<void>;
}
