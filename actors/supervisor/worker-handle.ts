import type { Worker } from 'node:worker_threads';
import { fromRemote, MafaldaClosedError, WorkerDiedError } from '../../lib/errors';
import type { WorkerHostApi } from '../protocol';
import type { Remote } from '../thread-rpc';

/** The RPC surface of a worker host, however it is reached (a thread, or a node over the network). */
export type HostApi = Remote<WorkerHostApi>;

/**
 * A handle on one worker host, local or remote. Every RPC goes through
 * `call`, which fails fast with WorkerDiedError when the host dies, instead of
 * waiting forever for an answer that cannot come.
 */
export class HostHandle {
	pid = 0;
	/** Its mediasoup Worker runs and the balancer knows it: placements and calls may use it. */
	started = false;
	/** Its mediasoup Worker runs; the supervisor is preparing it (WebRtcServers) or has. */
	prepared = false;
	/** Why it died, once it has. */
	deathDetail: string | undefined;
	#alive = true;
	#closing = false;
	/**
	 * How to fail each call still waiting for its host. One short-lived
	 * promise per call, not a race against one promise that lives as long as
	 * the worker: each such race would leave a reaction on that promise, and
	 * with it the call's result, until the worker died (a leak of KBs per call).
	 */
	readonly #waiting = new Set<(error: Error) => void>();

	constructor(
		readonly index: number,
		readonly api: HostApi,
		/** The cluster node running this worker; undefined for this process's own workers. */
		readonly nodeId?: string,
	) {}

	get alive(): boolean {
		return this.#alive;
	}

	/** Plain data for JSON.stringify, which would otherwise walk into the RPC stub. */
	toJSON(): { index: number; pid: number; alive: boolean } {
		return { index: this.index, pid: this.pid, alive: this.#alive };
	}

	/**
	 * mafalda.close() is closing this worker. Calls still waiting then fail
	 * with MafaldaClosedError: what they see (the channel closing, the handle
	 * marked dead) is the close, not a crash, and the app should hear that.
	 */
	beginClose(): void {
		this.#closing = true;
	}

	markDead(detail: string): void {
		if (!this.#alive) return;
		this.#alive = false;
		this.deathDetail = detail;
		const error = new WorkerDiedError(this.index, detail);
		for (const reject of this.#waiting) reject(error);
		this.#waiting.clear();
	}

	async call<T>(fn: (api: HostApi) => Promise<T>): Promise<T> {
		if (!this.#alive) throw this.#closing ? new MafaldaClosedError() : new WorkerDiedError(this.index);
		// One promise settled by whichever comes first, the answer or the death
		// (not a race of two promises: half the allocations of every call).
		return new Promise<T>((resolve, reject) => {
			const fail = (error: unknown): void => {
				this.#waiting.delete(fail);
				reject(this.#closing ? new MafaldaClosedError() : fromRemote(error));
			};
			this.#waiting.add(fail);
			let answer: Promise<T>;
			try {
				answer = fn(this.api);
			} catch (error) {
				fail(error);
				return;
			}
			answer.then((value) => {
				this.#waiting.delete(fail);
				resolve(value);
			}, fail);
		});
	}
}

/** The supervisor's handle on one worker host thread of this process and its mediasoup Worker. */
export class WorkerHandle extends HostHandle {
	constructor(
		index: number,
		readonly slot: number,
		readonly thread: Worker,
		api: HostApi,
		/** The WorkerSettings this worker was started with, reused on restart. */
		readonly workerSettings: Record<string, unknown>,
	) {
		super(index, api);
	}
}
