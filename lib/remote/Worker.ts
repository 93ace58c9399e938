import { EventEmitter } from 'eventemitter3';
import type { types } from 'mediasoup';
import type { HostHandle } from '../../actors/supervisor/worker-handle';
import { ObjectClosedError, WorkerDiedError } from '../errors';
import type { AppData } from '../types';
import type { Router } from './Router';
import type { WebRtcServer } from './WebRtcServer';

/** mediasoup's WorkerObserverEvents, with mafalda's proxies: a router is one shard of a MafaldaRouter. */
export interface WorkerObserverEvents {
	close: [];
	newrouter: [Router];
	newwebrtcserver: [WebRtcServer];
}

/**
 * A mediasoup Worker as the app sees it, though it is driven from a worker
 * host thread. `died` and `closed` follow mediasoup's meaning.
 */
export class Worker extends EventEmitter<{ died: [Error]; '@close': [] }> {
	readonly observer = new EventEmitter<WorkerObserverEvents>();
	appData: AppData = {};
	died = false;
	closed = false;

	constructor(readonly handle: HostHandle) {
		super();
	}

	/** mafalda's id for a worker is its index. */
	get id(): string {
		return String(this.handle.index);
	}
	get index(): number {
		return this.handle.index;
	}
	get pid(): number {
		return this.handle.pid;
	}
	/** The cluster node this worker runs on; undefined for a worker of this process. */
	get nodeId(): string | undefined {
		return this.handle.nodeId;
	}

	/** Plain data for JSON.stringify (the handle holds the thread and its comlink proxy). */
	toJSON(): { id: string; pid: number; closed: boolean; died: boolean } {
		return { id: this.id, pid: this.pid, closed: this.closed, died: this.died };
	}

	async getResourceUsage(): Promise<types.WorkerResourceUsage> {
		this.#assertOpen();
		return (await this.handle.call((host) => host.getResourceUsage())) as types.WorkerResourceUsage;
	}

	async dump(): Promise<unknown> {
		this.#assertOpen();
		return this.handle.call((host) => host.dump());
	}

	/** A worker that died says so; one closed by mafalda.close() says it is closed, not that it died. */
	#assertOpen(): void {
		if (!this.closed) return;
		throw this.died ? new WorkerDiedError(this.index) : new ObjectClosedError('worker', this.id);
	}

	markClosed(died: string | undefined): void {
		if (this.closed) return;
		this.closed = true;
		if (died !== undefined) {
			this.died = true;
			this.emit('died', new WorkerDiedError(this.index, died));
		}
		this.observer.emit('close');
		this.emit('@close');
	}
}
