import { EventEmitter } from 'eventemitter3';
import type { WorkerHandle } from '../../actors/supervisor/worker-handle';
import { type CallResult, type CloseReason, isObjectReference, type ObjectRef, type RemoteKind, type Snapshot } from '../../actors/protocol';
import { ObjectClosedError } from '../errors';
import { fieldValue, shareJsonText } from './json-text';
import type { AppData } from '../types';

/** Why a proxy closed: mediasoup's reasons, plus mafalda's own 'workerdied'. */
export type ProxyCloseReason = CloseReason;

/** What a proxy needs from the rest of mafalda. */
export interface ProxyContext {
	readonly worker: WorkerHandle;
	readonly shardId: string;
	/** Turns an object reference from the host into the proxy the app knows. */
	resolve(id: string): unknown;
}

export interface ObserverEvents {
	close: [];
	[event: string]: unknown[];
}

/**
 * The main-thread stand-in for a mediasoup object that lives in a worker host
 * thread. Properties come from the host's snapshots; methods are RPCs; events
 * are re-emitted as mediasoup emits them.
 */
export abstract class RemoteObject<Events extends object = Record<string, unknown[]>> extends EventEmitter<Events> {
	readonly id: string;
	readonly remoteKind: RemoteKind;
	appData: AppData;
	/** Why this object closed, once it has: mediasoup's reason or 'workerdied'. */
	closeReason: ProxyCloseReason | undefined;
	/** Objects mafalda made for itself (pipe ends); never in the app's collections. */
	readonly internal: boolean;
	readonly observer = new EventEmitter<ObserverEvents>();
	protected snapshot: Snapshot;
	#closed = false;
	readonly #closeHandlers: Array<(reason: ProxyCloseReason) => void> = [];

	constructor(
		protected readonly ctx: ProxyContext,
		ref: ObjectRef,
		appData: AppData | undefined,
		internal = false,
	) {
		super();
		this.id = ref.id;
		this.remoteKind = ref.kind;
		this.snapshot = shareJsonText(ref.snapshot);
		this.appData = appData ?? {};
		this.internal = internal;
	}

	get closed(): boolean {
		return this.#closed;
	}

	get workerIndex(): number {
		return this.ctx.worker.index;
	}

	get shardId(): string {
		return this.ctx.shardId;
	}

	/** Runs once when the object closes, whatever closed it (mafalda's own bookkeeping). */
	onClosed(handler: (reason: ProxyCloseReason) => void): void {
		if (this.#closed) handler(this.closeReason ?? 'close');
		else this.#closeHandlers.push(handler);
	}

	/**
	 * Marks the object closed and tells the app the way mediasoup would: the
	 * reason event ('transportclose', 'producerclose', ...) then observer 'close'.
	 * Returns false if it was already closed.
	 */
	markClosed(reason: ProxyCloseReason): boolean {
		if (this.#closed) return false;
		this.#closed = true;
		this.closeReason = reason;
		this.snapshot = { ...this.snapshot, closed: true };
		const event = this.reasonEvent(reason);
		if (event) this.emitUntyped(event);
		this.observer.emit('close');
		for (const handler of this.#closeHandlers.splice(0)) handler(reason);
		return true;
	}

	/** The mediasoup event that tells the app why this kind of object closed. */
	protected reasonEvent(reason: ProxyCloseReason): string | undefined {
		// A dead worker took the transport (and router) with it: mediasoup says that to a child as 'transportclose'.
		if (reason === 'workerdied') return 'transportclose';
		return reason === 'close' ? undefined : reason;
	}

	/** An event from the host. */
	handleEvent(event: string, args: unknown[], snapshot: Snapshot | undefined): void {
		if (snapshot) this.snapshot = { ...this.snapshot, ...shareJsonText(snapshot) };
		if (this.#closed) return;
		this.emitUntyped(event, ...args.map((a) => this.#resolveRefs(a)));
		this.observer.emit(event, ...args.map((a) => this.#resolveRefs(a)));
	}

	protected emitUntyped(event: string, ...args: unknown[]): void {
		(this as unknown as EventEmitter<string>).emit(event, ...args);
	}

	/** Calls a method of the mediasoup object; rejects if the object is closed. */
	protected async call(method: string, ...args: unknown[]): Promise<unknown> {
		if (this.#closed) throw new ObjectClosedError(this.remoteKind, this.id);
		let result: CallResult;
		try {
			result = await this.ctx.worker.call((host) => host.call({ objectId: this.id, method, args }));
		} catch (error) {
			// Closed while the call was on its way (its transport, router or
			// worker went): the host's "no live object" says less than this.
			if (this.#closed) throw new ObjectClosedError(this.remoteKind, this.id);
			throw error;
		}
		if (result.snapshot) this.snapshot = { ...this.snapshot, ...shareJsonText(result.snapshot) };
		return result.value;
	}

	/**
	 * For mediasoup's synchronous fire-and-forget methods (send, sendRtcp):
	 * the closed check is synchronous, the call itself runs in the background.
	 */
	protected notify(method: string, ...args: unknown[]): void {
		if (this.#closed) throw new ObjectClosedError(this.remoteKind, this.id);
		this.call(method, ...args).catch(() => {
			// As in mediasoup, a notification has no answer to wait for.
		});
	}

	/** pause()/resume() as mediasoup does them: the observer hears of it only when the state changes. */
	protected async togglePause(method: 'pause' | 'resume'): Promise<void> {
		const was = this.field<boolean>('paused');
		await this.call(method);
		if (was !== this.field<boolean>('paused')) this.observer.emit(method);
	}

	/** mediasoup's close() is synchronous: mark now, tell the host in the background. */
	close(): void {
		if (!this.markClosed('close')) return;
		this.closeRemote();
	}

	protected closeRemote(): void {
		this.ctx.worker
			.call((host) => host.call({ objectId: this.id, method: 'close', args: [] }))
			.catch(() => {
				// The object can be gone already (its transport or router closed first): nothing to do.
			});
	}

	#resolveRefs(value: unknown): unknown {
		if (isObjectReference(value)) return this.ctx.resolve(value.$ref) ?? value;
		if (Array.isArray(value)) return value.map((v) => this.#resolveRefs(v));
		if (value && typeof value === 'object' && !ArrayBuffer.isView(value)) {
			const out: Record<string, unknown> = {};
			for (const [k, v] of Object.entries(value)) out[k] = this.#resolveRefs(v);
			return out;
		}
		return value;
	}

	/**
	 * A property from the latest snapshot. Large fields arrive as JSON text and
	 * are parsed at each read: the app gets a copy it may keep or change, and
	 * the proxy holds only the text (most are never read at all).
	 */
	protected field<T>(name: string): T {
		return fieldValue(this.snapshot[name]) as T;
	}

	async dump(): Promise<unknown> {
		return this.call('dump');
	}
}
