import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/umd/node-adapter';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { compiledEntry } from '../../actors/actor-entry';
import { Piscina } from 'piscina';
import type { MediaProfile } from './media-profile';
import type { ReceiverApi, ReceiverTask, SenderApi, SenderTask } from './session-api';

export interface Session<Api> {
	api: Comlink.Remote<Api>;
	/** Settles when the pool thread's task has ended. */
	done: Promise<void>;
	/**
	 * The main thread's end of the session's channel. Only the main thread
	 * closes it, after the session's close() has answered: the task's end and
	 * comlink's answer travel on different channels, so closing on the task's
	 * end could drop the answer.
	 */
	port: MessagePort;
}

/**
 * The simulator's threads: a piscina pool in which every session (the
 * senders, each group of receivers) is one long task with a thread of its own,
 * so that sending and receiving media run in parallel with each other and with
 * the main thread that drives mediasoup or mafalda.
 */
export class SimPool {
	readonly #pool: Piscina;
	readonly #sessions: Array<Session<SenderApi> | Session<ReceiverApi>> = [];

	constructor(readonly threads: number) {
		this.#pool = new Piscina({
			filename: compiledEntry(__dirname, 'pool-worker'),
			minThreads: threads,
			maxThreads: threads,
			// One session per thread: a session is a long task that never yields its thread.
			concurrentTasksPerWorker: 1,
			// Piscina's default parks idle threads in a blocking Atomics.wait; these tasks are async.
			atomics: 'disabled',
			idleTimeout: 1000,
		});
	}

	openSender(profile: MediaProfile): Session<SenderApi> {
		const { port1, port2 } = new MessageChannel();
		const task: SenderTask = { port: port2, profile };
		return this.#open<SenderApi>('sender', task, port1, port2);
	}

	openReceivers(videoPayloadType: number, audioPayloadType: number): Session<ReceiverApi> {
		const { port1, port2 } = new MessageChannel();
		const task: ReceiverTask = { port: port2, videoPayloadType, audioPayloadType };
		return this.#open<ReceiverApi>('receiver', task, port1, port2);
	}

	/** Closes every session still open, then the pool. */
	async close(): Promise<void> {
		await Promise.all(
			this.#sessions.map(async (s) => {
				await s.api.close().catch(() => undefined);
				await s.done.catch(() => undefined);
				s.port.close();
			}),
		);
		this.#sessions.length = 0;
		await this.#pool.close({ force: true });
	}

	#open<Api>(name: 'sender' | 'receiver', task: SenderTask | ReceiverTask, local: MessagePort, remote: MessagePort): Session<Api> {
		if (this.#sessions.length >= this.threads) throw new Error(`the simulator pool has ${this.threads} threads, all in use`);
		const done = this.#pool.run(task, { name, transferList: [remote] }) as Promise<void>;
		const session: Session<Api> = { api: Comlink.wrap<Api>(nodeEndpoint(local)), done, port: local };
		this.#sessions.push(session as Session<SenderApi> | Session<ReceiverApi>);
		return session;
	}
}
