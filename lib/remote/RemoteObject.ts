import { EventEmitter } from 'eventemitter3';
import type { HostHandle } from '../../actors/supervisor/worker-handle';
import { type CallResult, type CloseReason, cloneableBytes, isObjectReference, isWorkerLoss, type ObjectRef, type RemoteKind, type Snapshot } from '../../actors/protocol';
import { MafaldaClosedError, ObjectClosedError } from '../errors';
import { fieldValue, shareSnapshotText } from './json-text';
import type { AppData } from '../types';

/** Why a proxy closed: mediasoup's reasons, plus mafalda's own 'workerdied'. */
export type ProxyCloseReason = CloseReason;

/** What a proxy needs from the rest of mafalda. */
export interface ProxyContext {
	readonly worker: HostHandle;
	readonly shardId: string;
	/** Turns an object reference from the host into the proxy the app knows. */
	resolve(id: string): unknown;
	/** Whether the Mafalda that owns the object closed: its objects then fail as a closed mediasoup Worker's do. */
	mafaldaClosed(): boolean;
}

type CloseHandler = (reason: ProxyCloseReason) => void;
type Directory = Map<string, object>;

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
	protected snapshot: Snapshot;
	#closed = false;
	// What a proxy holds is most of mafalda's memory per consumer in the app's
	// thread: the observer is made when first asked for (most consumers' never
	// are), one close handler needs no array, and the maps that list the
	// object (its worker's directory, its transport's children) are fields
	// instead of a closure each.
	#observer: EventEmitter<ObserverEvents> | undefined;
	#closeHandlers: CloseHandler | CloseHandler[] | undefined;
	#listedIn: Directory | undefined;
	#listedInToo: Directory | undefined;

	constructor(
		protected readonly ctx: ProxyContext,
		ref: ObjectRef,
		appData: AppData | undefined,
		internal = false,
	) {
		super();
		this.id = ref.id;
		this.remoteKind = ref.kind;
		this.snapshot = shareSnapshotText(ref.snapshot);
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

	get observer(): EventEmitter<ObserverEvents> {
		return (this.#observer ??= new EventEmitter<ObserverEvents>());
	}

	/** Runs once when the object closes, whatever closed it (mafalda's own bookkeeping). */
	onClosed(handler: CloseHandler): void {
		if (this.#closed) handler(this.closeReason ?? 'close');
		else if (!this.#closeHandlers) this.#closeHandlers = handler;
		else if (typeof this.#closeHandlers === 'function') this.#closeHandlers = [this.#closeHandlers, handler];
		else this.#closeHandlers.push(handler);
	}

	/** @internal Lists the object in `map` under its id until it closes (as onClosed with a delete, without a closure). */
	listIn(map: Directory): void {
		map.set(this.id, this);
		if (this.#closed) this.#unlist(map);
		else if (!this.#listedIn) this.#listedIn = map;
		else if (!this.#listedInToo) this.#listedInToo = map;
		else this.onClosed(() => this.#unlist(map));
	}

	#unlist(map: Directory | undefined): void {
		if (map?.get(this.id) === this) map.delete(this.id);
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
		this.snapshot = { ...this.snapshot, ...this.closedFields(), closed: true };
		const event = this.reasonEvent(reason);
		if (event) this.emitUntyped(event);
		this.#observer?.emit('close');
		const handlers = this.#closeHandlers;
		this.#closeHandlers = undefined;
		if (typeof handlers === 'function') handlers(reason);
		else if (handlers) for (const handler of handlers) handler(reason);
		this.#unlist(this.#listedIn);
		this.#unlist(this.#listedInToo);
		this.#listedIn = this.#listedInToo = undefined;
		return true;
	}

	/** What mediasoup sets on this kind of object when it closes (a transport's states become 'closed'). */
	protected closedFields(): Snapshot {
		return {};
	}

	/** The mediasoup event that tells the app why this kind of object closed. */
	protected reasonEvent(reason: ProxyCloseReason): string | undefined {
		// A dead worker took the transport (and router) with it: mediasoup says that to a child as 'transportclose'.
		if (isWorkerLoss(reason)) return 'transportclose';
		return reason === 'close' ? undefined : reason;
	}

	/**
	 * An event from the host, and what the mediasoup object's observer emitted
	 * with it: the same event, or 'pause'/'resume' for a consumer whose
	 * producer paused or resumed.
	 */
	handleEvent(event: string, args: unknown[], snapshot: Snapshot | undefined, observerEvent?: string): void {
		// Nothing changes on a closed object (its closed fields stay as they are).
		if (this.#closed) return;
		if (snapshot) this.snapshot = { ...this.snapshot, ...shareSnapshotText(snapshot) };
		const values = args.map((a) => this.#resolveRefs(a));
		this.emitUntyped(event, ...values);
		if (observerEvent === event) this.#observer?.emit(event, ...values);
		else if (observerEvent) this.#observer?.emit(observerEvent);
	}

	protected emitUntyped(event: string, ...args: unknown[]): void {
		(this as unknown as EventEmitter<string>).emit(event, ...args);
	}

	/**
	 * Why a call on this closed object fails: the Mafalda closed (as after a
	 * mediasoup Worker's close(), whatever the object: MafaldaClosedError, a
	 * WorkerClosedError since mediasoup 3.21), or the object did.
	 */
	protected closedError(): Error {
		return this.ctx.mafaldaClosed() ? new MafaldaClosedError() : new ObjectClosedError(this.remoteKind, this.id);
	}

	/** Calls a method of the mediasoup object; rejects if the object is closed. */
	protected async call(method: string, ...args: unknown[]): Promise<unknown> {
		if (this.#closed) throw this.closedError();
		let result: CallResult;
		try {
			const cloneable = args.map((a) => (ArrayBuffer.isView(a) ? cloneableBytes(a) : a));
			result = await this.ctx.worker.call((host) => host.call({ objectId: this.id, method, args: cloneable }));
		} catch (error) {
			// Closed while the call was on its way (its transport, router or
			// worker went): the host's "no live object" says less than this.
			if (this.#closed) throw this.closedError();
			throw error;
		}
		if (this.#closed) return result.value;
		if (result.snapshot) this.snapshot = { ...this.snapshot, ...shareSnapshotText(result.snapshot) };
		// Before the caller's await ends, as mediasoup's pause() and resume() emit it.
		if (result.observerEvent) this.#observer?.emit(result.observerEvent);
		return result.value;
	}

	/**
	 * For mediasoup's synchronous fire-and-forget methods (send, sendRtcp):
	 * the closed check is synchronous, the call itself runs in the background.
	 */
	protected notify(method: string, ...args: unknown[]): void {
		if (this.#closed) throw this.closedError();
		this.call(method, ...args).catch(() => {
			// As in mediasoup, a notification has no answer to wait for.
		});
	}

	/**
	 * pause()/resume(): the host says whether mediasoup's observer emitted
	 * 'pause'/'resume' for this very call (call() re-emits it). Deciding here
	 * from snapshots would get overlapping calls wrong: the state read before
	 * the call is not the one mediasoup compares with when the worker answers.
	 */
	protected async togglePause(method: 'pause' | 'resume'): Promise<void> {
		await this.call(method);
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
		// A Buffer crosses the thread as a plain Uint8Array: give the app its Buffer back (same bytes, no copy).
		if (value instanceof Uint8Array) return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
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

	/**
	 * Plain data for JSON.stringify: without it, JSON.stringify would walk into
	 * the worker handle and call `toJSON` on its comlink proxy, an RPC to the
	 * worker host that fails as an uncaught exception.
	 */
	toJSON(): Record<string, unknown> {
		const fields = Object.fromEntries(Object.keys(this.snapshot).map((name) => [name, this.field(name)]));
		return { id: this.id, ...fields, remoteKind: this.remoteKind, workerIndex: this.workerIndex, shardId: this.shardId };
	}
}
