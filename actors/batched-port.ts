import type { TransferListItem } from 'node:worker_threads';
import { isMessageBatch, type MessageBatch } from './protocol';

/** What BatchedPort needs of a Node MessagePort, Worker or parentPort. */
export interface PortLike {
	postMessage(value: unknown, transferList?: readonly TransferListItem[]): void;
	on(event: 'message', listener: (value: unknown) => void): unknown;
	off(event: 'message', listener: (value: unknown) => void): unknown;
	start?(): void;
}

type Listener = (value: unknown) => void;

/**
 * A port that sends what is posted within one event-loop turn as one
 * message. A thread hop costs mostly per message, not per byte (the wake-up
 * of the other thread and its dispatch, about 50 µs each on a busy 2-core
 * machine), and replies come in bursts: one read of mediasoup's channel
 * answers many calls, a burst of app calls sends many requests. Both ends of
 * a channel must be BatchedPorts (or read MessageBatch themselves).
 * Order is kept.
 */
export class BatchedPort {
	#queue: unknown[] = [];
	#transfer: TransferListItem[] = [];
	#flushing: NodeJS.Immediate | undefined;
	readonly #wrapped = new Map<Listener, Listener>();

	constructor(private readonly port: PortLike) {}

	postMessage(value: unknown, transferList?: readonly TransferListItem[]): void {
		this.#queue.push(value);
		if (transferList?.length) this.#transfer.push(...transferList);
		this.#flushing ??= setImmediate(() => this.flush());
	}

	/** Sends what is queued now (before closing the port, say). */
	flush(): void {
		if (this.#flushing) clearImmediate(this.#flushing);
		this.#flushing = undefined;
		const queue = this.#queue;
		if (queue.length === 0) return;
		const transfer = this.#transfer;
		this.#queue = [];
		this.#transfer = [];
		const message: unknown = queue.length === 1 && !isMessageBatch(queue[0]) ? queue[0] : ({ $batch: queue } satisfies MessageBatch);
		this.port.postMessage(message, transfer);
	}

	/** Only 'message' is batched, and only 'message' is what the RPC ends (thread-rpc.ts, comlink's endpoint) and the supervisor listen to here. */
	on(event: 'message', listener: Listener): this {
		const wrapped: Listener = (value) => {
			if (!isMessageBatch(value)) return listener(value);
			for (const one of value.$batch) listener(one);
		};
		this.#wrapped.set(listener, wrapped);
		this.port.on(event, wrapped);
		return this;
	}

	off(event: 'message', listener: Listener): this {
		const wrapped = this.#wrapped.get(listener);
		if (!wrapped) return this;
		this.#wrapped.delete(listener);
		this.port.off(event, wrapped);
		return this;
	}

	start(): void {
		this.port.start?.();
	}
}
