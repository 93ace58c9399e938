import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/umd/node-adapter';
import { Worker } from 'node:worker_threads';
import { NoCpuSlotError } from '../../lib/errors';
import { timedRemote } from '../../lib/metrics/timed-remote';
import { actorEntry } from '../actor-entry';
import { BatchedPort } from '../batched-port';
import { type BalancerApi, type HostEvent, isHostEventMessage, type WorkerHostApi } from '../protocol';
import { rpcClient } from '../thread-rpc';
import { BalancerClient } from './balancer-client';
import { CpuSlots } from './cpu-slots';
import { WorkerHandle } from './worker-handle';

export interface RestartPolicy {
	/** Restarts allowed per worker within `windowMs`; past that the worker stays down. */
	maxRestarts: number;
	windowMs: number;
	/** First restart delay; doubles with each death inside the window, up to maxDelayMs. */
	baseDelayMs: number;
	maxDelayMs: number;
}

export interface SupervisorOptions {
	/** Most workers this supervisor may run (CPU slots permitting). */
	numWorkers: number;
	mediasoupEntry: string;
	workerBin: string | undefined;
	loadReportIntervalMs: number;
	restart: RestartPolicy;
	cpuSlots: CpuSlots;
	/** Told the round-trip time of every RPC to a worker host (for metrics). */
	observeRpc?: (workerIndex: number, method: string, seconds: number) => void;
}

/** How the supervisor tells its owner (the Mafalda instance) what happens. */
export interface SupervisorHooks {
	hostEvent(workerIndex: number, event: HostEvent): void;
	/**
	 * A worker's mediasoup Worker runs but takes no placement yet: what every
	 * worker must have before transports come (its WebRtcServers) is made now.
	 * Must not reject: what fails here is the owner's to report.
	 */
	prepareWorker(handle: WorkerHandle): Promise<void>;
	workerStarted(handle: WorkerHandle, restarted: boolean): void;
	workerDied(workerIndex: number, error: string, willRestart: boolean): void;
}

/**
 * The supervisor actor: owns one worker host thread per mediasoup Worker,
 * starts them on demand (one per CPU slot at most) and restarts what dies,
 * with back-off. It also owns the balancer thread (BalancerClient carries the
 * hosts' load reports to it).
 */
export class Supervisor {
	readonly balancer: BalancerClient;
	readonly #balancerThread: Worker;
	readonly #handles = new Map<number, WorkerHandle>();
	readonly #deaths = new Map<number, number[]>();
	readonly #restartTimers = new Set<NodeJS.Timeout>();
	/** Workers being started (restarts included), until they run or fail. */
	readonly #spawning = new Map<number, Promise<WorkerHandle>>();
	#closed = false;

	constructor(
		private readonly options: SupervisorOptions,
		private readonly hooks: SupervisorHooks,
	) {
		this.#balancerThread = new Worker(actorEntry('balancer/balancer-actor'));
		this.#balancerThread.on('error', (error) => {
			// The balancer holds only derived state; losing it is a bug, not an outage to hide.
			console.error('mafalda: balancer thread failed', error);
		});
		this.balancer = new BalancerClient(Comlink.wrap<BalancerApi>(nodeEndpoint(new BatchedPort(this.#balancerThread))));
	}

	get closed(): boolean {
		return this.#closed;
	}

	/** Live workers that finished starting, by index. */
	workers(): WorkerHandle[] {
		// A handle is registered before its host has started its mediasoup
		// Worker; a call on it then fails ("worker -1 is not running").
		return [...this.#handles.values()].filter((h) => h.alive && h.started);
	}

	/** Live workers whose mediasoup Worker runs, placeable or still being prepared. */
	preparedWorkers(): WorkerHandle[] {
		return [...this.#handles.values()].filter((h) => h.alive && h.prepared);
	}

	handle(index: number): WorkerHandle | undefined {
		return this.#handles.get(index);
	}

	/**
	 * Whether another worker may be started now: under numWorkers and this
	 * process's share of the machine (maxCpuSlots). A free slot is known only
	 * by trying to take it.
	 */
	canGrow(): boolean {
		return !this.#closed && this.#handles.size < this.options.numWorkers && !this.options.cpuSlots.shareUsedUp();
	}

	/** Starts a new worker at the lowest free index. */
	async startWorker(workerSettings: Record<string, unknown>): Promise<WorkerHandle> {
		let index = 0;
		while (this.#handles.has(index)) index++;
		const slots = this.options.cpuSlots;
		const slot = slots.acquire();
		if (slot === undefined) throw new NoCpuSlotError(slots.dir, slots.holders(), slots.shareUsedUp() ? slots.maxHeld : undefined);
		return this.#spawn(index, slot, workerSettings, false);
	}

	/** Workers still starting (a restart included): a caller may wait for one instead of starting another. */
	starting(): Promise<WorkerHandle>[] {
		return [...this.#spawning.values()];
	}

	#spawn(index: number, slot: number, workerSettings: Record<string, unknown>, restarted: boolean): Promise<WorkerHandle> {
		const spawning = this.#startHost(index, slot, workerSettings, restarted);
		this.#spawning.set(index, spawning);
		const done = (): void => {
			if (this.#spawning.get(index) === spawning) this.#spawning.delete(index);
		};
		spawning.then(done, done);
		return spawning;
	}

	async #startHost(index: number, slot: number, workerSettings: Record<string, unknown>, restarted: boolean): Promise<WorkerHandle> {
		const env: NodeJS.ProcessEnv = { ...process.env };
		if (this.options.workerBin && !env.MEDIASOUP_WORKER_BIN) env.MEDIASOUP_WORKER_BIN = this.options.workerBin;
		const thread = new Worker(actorEntry('worker-host/worker-host-actor'), { env });
		const port = new BatchedPort(thread);
		const remote = rpcClient<WorkerHostApi>(port);
		const { observeRpc } = this.options;
		const api = observeRpc ? timedRemote(remote, (method, seconds) => observeRpc(index, method, seconds)) : remote;
		const handle = new WorkerHandle(index, slot, thread, api, workerSettings);
		this.#handles.set(index, handle);
		port.on('message', (message) => {
			if (!isHostEventMessage(message)) return;
			const event = message.$event;
			// mediasoup reports a death once its process has exited and been reaped.
			if (event.type === 'worker-died') this.#onDeath(handle, `mediasoup worker died: ${event.error}`, true, true);
			// A dead host's last reports must not reach its successor's entry.
			else if (event.type !== 'load-report' || this.#handles.get(index) === handle) this.hooks.hostEvent(index, event);
		});
		thread.on('error', (error) => this.#onDeath(handle, `worker host thread crashed: ${error.message}`));
		thread.on('exit', (code) => this.#onDeath(handle, `worker host thread exited with code ${code}`));
		try {
			const info = await handle.call((host) =>
				host.start({
					workerIndex: index,
					mediasoupEntry: this.options.mediasoupEntry,
					workerSettings,
					loadReportIntervalMs: this.options.loadReportIntervalMs,
				}),
			);
			handle.pid = info.pid;
			this.options.cpuSlots.setWorkerPid(slot, info.pid);
			handle.prepared = true;
			await this.hooks.prepareWorker(handle);
			if (!handle.alive) throw new Error(handle.deathDetail ?? 'worker died while being prepared');
			// Only a started worker goes into the balancer's table: placed there
			// earlier, a transport would reach a host with no mediasoup Worker yet.
			// The host's first load reports wait in the balancer client meanwhile.
			await this.balancer.addWorker(index);
			handle.started = true;
		} catch (error) {
			this.#onDeath(handle, `worker failed to start: ${(error as Error).message}`, false);
			throw error;
		}
		this.hooks.workerStarted(handle, restarted);
		return handle;
	}

	/** Test and fault-injection helper: the pid of a worker's mediasoup process. */
	pidOf(index: number): number | undefined {
		return this.#handles.get(index)?.pid;
	}

	#onDeath(handle: WorkerHandle, detail: string, mayRestart = true, processGone = false): void {
		if (!handle.alive || this.#handles.get(handle.index) !== handle) return;
		handle.markDead(detail);
		this.#handles.delete(handle.index);
		// A reaped process's pid may already belong to another process: only
		// kill a worker whose process may still run (its host thread failed).
		if (!processGone) killQuietly(handle.pid);
		void handle.thread.terminate();
		void this.balancer.removeWorker(handle.index).catch(() => undefined);
		if (this.#closed) {
			this.options.cpuSlots.release(handle.slot);
			return;
		}
		const delay = mayRestart ? this.#restartDelay(handle.index) : undefined;
		if (delay === undefined) this.options.cpuSlots.release(handle.slot);
		this.hooks.workerDied(handle.index, detail, delay !== undefined);
		if (delay === undefined) return;
		const timer = setTimeout(() => {
			this.#restartTimers.delete(timer);
			if (this.#closed || this.#handles.has(handle.index)) {
				this.options.cpuSlots.release(handle.slot);
				return;
			}
			this.#spawn(handle.index, handle.slot, handle.workerSettings, true).catch(() => {
				// #spawn already reported the failure as a death of its own.
			});
		}, delay);
		this.#restartTimers.add(timer);
	}

	/** Milliseconds to wait before restarting, or undefined when the worker died too often. */
	#restartDelay(index: number): number | undefined {
		const { maxRestarts, windowMs, baseDelayMs, maxDelayMs } = this.options.restart;
		const now = Date.now();
		const recent = (this.#deaths.get(index) ?? []).filter((t) => now - t < windowMs);
		recent.push(now);
		this.#deaths.set(index, recent);
		if (recent.length > maxRestarts) return undefined;
		return Math.min(maxDelayMs, baseDelayMs * 2 ** (recent.length - 1));
	}

	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		for (const timer of this.#restartTimers) clearTimeout(timer);
		this.#restartTimers.clear();
		const handles = [...this.#handles.values()];
		await Promise.all(
			handles.map(async (handle) => {
				handle.beginClose();
				const closedCleanly = await handle.call((host) => host.close()).then(() => true, () => false);
				handle.markDead('closed');
				await handle.thread.terminate();
				// Only a worker that did not close itself is still there to kill.
				if (!closedCleanly) killQuietly(handle.pid);
				this.options.cpuSlots.release(handle.slot);
			}),
		);
		this.#handles.clear();
		this.options.cpuSlots.releaseAll();
		this.balancer.release();
		await this.#balancerThread.terminate();
	}
}

function killQuietly(pid: number): void {
	if (pid <= 0) return;
	try {
		process.kill(pid, 'SIGKILL');
	} catch {
		// Already gone, which is what we want.
	}
}
