import type { types } from 'mediasoup';
import type { StreamParameters } from './codecs';

export type BackendName = 'plain' | 'round-robin' | 'mafalda';

export const BACKEND_LABELS: Readonly<Record<BackendName, string>> = {
	plain: 'plain mediasoup (1 Router, 1 Worker)',
	'round-robin': 'round-robin pool + pipeToRouter',
	mafalda: 'mafalda (default options)',
};

export interface PublisherHandle {
	/** The producer transport's port: where the sender sends RTP. */
	transportPort: number;
	producerIds: string[];
	workerIndex: number;
}

export interface ReceiverHandle {
	workerIndex: number;
	/** Opaque to scenarios: the backend's transport. */
	readonly transport: unknown;
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
 */
export interface SfuBackend {
	readonly name: BackendName;
	readonly rtpCapabilities: types.RtpCapabilities;
	/** A publisher's transport, connected to the sender's socket, with its producers. */
	addPublisher(senderPort: number, streams: StreamParameters[]): Promise<PublisherHandle>;
	/** A receiver's transport, connected to the receiver's socket. */
	addReceiver(receiverPort: number): Promise<ReceiverHandle>;
	/** Consumers of `producerIds` on a receiver's transport. */
	consume(receiver: ReceiverHandle, producerIds: string[]): Promise<void>;
	workers(): Promise<WorkerRow[]>;
	/** Cumulative CPU time (user + system) of each mediasoup worker process, ms, by worker index. */
	workerCpuMs(): Promise<Map<number, number>>;
	close(): Promise<void>;
}
