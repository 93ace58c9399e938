import * as Comlink from 'comlink';
import type { MessagePort, Worker } from 'node:worker_threads';
import { fromRemote, WorkerDiedError } from '../../lib/errors';
import type { WorkerHostApi } from '../protocol';

/**
 * The supervisor's handle on one worker host thread and its mediasoup Worker.
 * Every RPC goes through `call`, which fails fast with WorkerDiedError when
 * the host dies, instead of waiting forever for an answer that cannot come.
 */
export class WorkerHandle {
	pid = 0;
	#alive = true;
	#rejectDeath!: (error: Error) => void;
	readonly #death: Promise<never>;

	constructor(
		readonly index: number,
		readonly slot: number,
		readonly thread: Worker,
		readonly api: Comlink.Remote<WorkerHostApi>,
		readonly eventPort: MessagePort,
		/** The WorkerSettings this worker was started with, reused on restart. */
		readonly workerSettings: Record<string, unknown>,
	) {
		this.#death = new Promise<never>((_, reject) => {
			this.#rejectDeath = reject;
		});
		// Nobody may be waiting when the host dies; that must not be an unhandled rejection.
		this.#death.catch(() => undefined);
	}

	get alive(): boolean {
		return this.#alive;
	}

	markDead(detail: string): void {
		if (!this.#alive) return;
		this.#alive = false;
		this.#rejectDeath(new WorkerDiedError(this.index, detail));
	}

	async call<T>(fn: (api: Comlink.Remote<WorkerHostApi>) => Promise<T>): Promise<T> {
		if (!this.#alive) throw new WorkerDiedError(this.index);
		try {
			return await Promise.race([fn(this.api), this.#death]);
		} catch (error) {
			throw fromRemote(error);
		}
	}
}
