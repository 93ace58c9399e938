import { EventEmitter } from 'node:events';
import {
	type CallResult,
	cloneableBytes,
	type CloseReason,
	type HostEvent,
	JSON_CHANGING_METHODS,
	JSON_SNAPSHOT_FIELDS,
	type JsonText,
	type ObjectRef,
	type PauseObserverEvent,
	type RemoteKind,
	REMOTE_EVENTS,
	REMOTE_METHODS,
	SNAPSHOT_FIELDS,
	type Snapshot,
} from '../protocol';
import { readWithoutCopies } from './mediasoup-clone';

/** What every mediasoup object we track has in common. */
export interface MediasoupObject {
	id: string;
	closed: boolean;
	observer: EventEmitter;
	on(event: string, listener: (...args: unknown[]) => void): unknown;
}

export interface TableEntry {
	kind: RemoteKind;
	object: MediasoupObject;
	shardId: string;
	/** Transport that owns a producer/consumer/data object. */
	transportId?: string;
	/** The pause()/resume() calls of this object, one after the other (see ObjectTable.call). */
	pausing?: Promise<unknown>;
	/** Why it closed, from the reason event mediasoup emits before the observer's 'close'. */
	reason?: CloseReason;
}

interface SafeEmitting {
	safeEmit(event: string, ...args: unknown[]): boolean;
}

// Events mediasoup emits on the object only, not on its observer.
const UNOBSERVED_EVENTS: ReadonlySet<string> = new Set([
	'producerpause', 'producerresume', 'dataproducerpause', 'dataproducerresume',
	'message', 'sctpsendbufferfull', 'bufferedamountlow', 'rtcp', 'rtp',
]);

// A consumer's observer reports its producer's pause and resume as its own,
// unless the consumer itself is paused (mediasoup's Consumer and DataConsumer).
const UPSTREAM_PAUSE_EVENTS: Readonly<Record<string, PauseObserverEvent>> = {
	producerpause: 'pause',
	producerresume: 'resume',
	dataproducerpause: 'pause',
	dataproducerresume: 'resume',
};

interface PausableObject {
	paused: boolean;
	/** A consumer's: its producer is paused, so its observer stays silent. */
	producerPaused?: boolean;
	dataProducerPaused?: boolean;
}

function upstreamPaused(object: PausableObject): boolean {
	return Boolean(object.producerPaused ?? object.dataProducerPaused);
}

// The events through which mediasoup says *why* an object closed; 'close' on
// the observer follows them, so the reason is known when the close is posted.
const REASON_EVENTS: readonly CloseReason[] = [
	'routerclose', 'transportclose', 'producerclose', 'dataproducerclose', 'workerclose', 'listenserverclose',
];
const REASON_EVENT_SET: ReadonlySet<string> = new Set(REASON_EVENTS);
const FORWARDED_EVENTS = Object.fromEntries(
	Object.entries(REMOTE_EVENTS).map(([kind, events]) => [kind, new Set(events)]),
) as unknown as Readonly<Record<RemoteKind, ReadonlySet<string>>>;

/**
 * The host's table of live mediasoup objects, keyed by object id. It wires each
 * object's events to the supervisor and removes the object when it closes.
 * Pipe producers share their id with the producer they re-produce, but never on
 * the same worker, so an id is unique within one host.
 */
export class ObjectTable {
	readonly #entries = new Map<string, TableEntry>();

	constructor(
		private readonly post: (event: HostEvent) => void,
		private readonly onRemoved: (entry: TableEntry) => void,
	) {}

	get(id: string): TableEntry | undefined {
		return this.#entries.get(id);
	}

	require(id: string, kinds?: readonly RemoteKind[]): TableEntry {
		const entry = this.#entries.get(id);
		if (!entry || entry.object.closed) throw new Error(`no live object with id "${id}" on this worker`);
		if (kinds && !kinds.includes(entry.kind)) {
			throw new TypeError(`object "${id}" is a ${entry.kind}, expected ${kinds.join(' or ')}`);
		}
		return entry;
	}

	entries(): IterableIterator<TableEntry> {
		return this.#entries.values();
	}

	add(entry: TableEntry): ObjectRef {
		const { object, kind } = entry;
		this.#entries.set(object.id, entry);
		(object as unknown as Record<symbol, TableEntry>)[this.#entryKey] = entry;
		(object.observer as unknown as Record<symbol, TableEntry>)[this.#entryKey] = entry;
		this.#tap(entry);
		// `on`, not `once`: once() wraps each listener in a bound function and a
		// state object (about 100 B per object), and 'close' comes only once.
		object.observer.on('close', this.#observerClosed);
		return { id: object.id, kind, snapshot: snapshotOf(entry) };
	}

	/**
	 * The entry of an object or of its observer. One shared listener and one
	 * shared `safeEmit` for every object find their entry under this key (`this`
	 * is the emitter): closures per object (three, with their contexts) were about
	 * 300 B of each consumer in this thread's heap.
	 */
	readonly #entryKey = Symbol('mafalda table entry');

	readonly #observerClosed = ((table: ObjectTable) =>
		function (this: EventEmitter): void {
			const entry = (this as unknown as Record<symbol, TableEntry | undefined>)[table.#entryKey];
			if (entry) table.#closed(entry);
		})(this);

	#closed(entry: TableEntry): void {
		const { object } = entry;
		// A newer object may reuse the id (a pipe producer after a re-pipe).
		if (this.#entries.get(object.id) === entry) this.#entries.delete(object.id);
		this.post({ type: 'object-closed', objectId: object.id, reason: entry.reason ?? 'close' });
		this.onRemoved(entry);
	}

	#seen(entry: TableEntry, event: string, args: unknown[]): void {
		if (REASON_EVENT_SET.has(event)) entry.reason = event as CloseReason;
		else if (FORWARDED_EVENTS[entry.kind].has(event)) {
			const { object } = entry;
			this.post({
				type: 'object-event',
				objectId: object.id,
				event,
				args: args.map(toCloneable),
				snapshot: snapshotOf(entry, false),
				observerEvent: observerEventOf(event, object as unknown as PausableObject),
			});
		}
	}

	/** mediasoup's own safeEmit, from the object's prototype, called after the table has seen the event. */
	readonly #tappedSafeEmit = ((table: ObjectTable) =>
		function (this: SafeEmitting, event: string, ...args: unknown[]): boolean {
			const entry = (this as unknown as Record<symbol, TableEntry | undefined>)[table.#entryKey];
			if (entry) table.#seen(entry, event, args);
			return (Object.getPrototypeOf(this) as SafeEmitting).safeEmit.call(this, event, ...args);
		})(this);

	/**
	 * Sees every event the object emits. mediasoup emits all of an object's
	 * events through its own `safeEmit`, so one wrapper per object does what a
	 * listener per forwarded event and per close reason did (eleven for a
	 * consumer): that was about 1 KB per object, a third of what mediasoup's
	 * own Consumer weighs. The wrapper is one function shared by all objects
	 * whose `safeEmit` is their prototype's. Without a `safeEmit` (another
	 * emitter), listeners.
	 */
	#tap(entry: TableEntry): void {
		const object = entry.object as MediasoupObject & Partial<SafeEmitting>;
		if (typeof object.safeEmit === 'function' && !Object.prototype.hasOwnProperty.call(object, 'safeEmit')) {
			object.safeEmit = this.#tappedSafeEmit;
			return;
		}
		if (typeof object.safeEmit === 'function') {
			const own = object.safeEmit;
			object.safeEmit = (event: string, ...args: unknown[]): boolean => {
				this.#seen(entry, event, args);
				return own.call(object, event, ...args);
			};
			return;
		}
		for (const event of [...REASON_EVENTS, ...REMOTE_EVENTS[entry.kind]]) object.on(event, (...args: unknown[]) => this.#seen(entry, event, args));
	}

	async call(id: string, method: string, args: unknown[]): Promise<CallResult> {
		const entry = this.require(id);
		if (!REMOTE_METHODS[entry.kind].includes(method)) {
			throw new TypeError(`method "${method}" is not available on a ${entry.kind}`);
		}
		const fn = (entry.object as unknown as Record<string, unknown>)[method];
		if (typeof fn !== 'function') throw new TypeError(`method "${method}" is not available on this mediasoup version`);
		// A Buffer arrives from another thread as a plain Uint8Array.
		const nativeArgs = args.map((a) => (a instanceof Uint8Array && !Buffer.isBuffer(a) ? Buffer.from(a.buffer, a.byteOffset, a.byteLength) : a));
		const apply = (): Promise<unknown> => Promise.resolve((fn as (...a: unknown[]) => unknown).apply(entry.object, nativeArgs));
		if (method === 'pause' || method === 'resume') return this.#pauseOrResume(entry, method, apply);
		const value = await apply();
		return {
			value: toCloneable(value),
			snapshot: entry.object.closed ? undefined : snapshotOf(entry, JSON_CHANGING_METHODS.has(method)),
		};
	}

	/**
	 * mediasoup's observer emits 'pause' only if the object was not paused when
	 * the worker answered (and 'resume' only if it was). With calls one after
	 * the other, the state before a call is the state mediasoup compares with,
	 * so overlapping calls from the app get the events mediasoup would give.
	 * (The worker runs an object's requests in order anyway: queueing them
	 * here changes no outcome.)
	 */
	#pauseOrResume(entry: TableEntry, method: PauseObserverEvent, apply: () => Promise<unknown>): Promise<CallResult> {
		const object = entry.object as unknown as MediasoupObject & PausableObject;
		const run = async (): Promise<CallResult> => {
			const wasPaused = object.paused;
			const value = await apply();
			const changed = wasPaused !== (method === 'pause');
			return {
				value: toCloneable(value),
				snapshot: object.closed ? undefined : snapshotOf(entry, false),
				observerEvent: changed && !upstreamPaused(object) ? method : undefined,
			};
		};
		const result = (entry.pausing ?? Promise.resolve()).then(run, run);
		entry.pausing = result.catch(() => undefined);
		return result;
	}
}

/** What the object's observer emitted along with `event` (see ObjectEvent.observerEvent). */
function observerEventOf(event: string, object: PausableObject): string | undefined {
	const upstream = UPSTREAM_PAUSE_EVENTS[event];
	if (upstream) return object.paused ? undefined : upstream;
	return UNOBSERVED_EVENTS.has(event) ? undefined : event;
}

/**
 * The object's properties, all of them (`withJson`) or without the large ones
 * sent as JSON text: those change only at creation and by the calls of
 * JSON_CHANGING_METHODS, and a proxy merges a snapshot into what it has, so
 * an event's or another call's snapshot need not carry them again (a
 * consumer's rtpParameters are 2 KB, and a score event comes every second).
 */
export function snapshotOf(entry: TableEntry, withJson = true): Snapshot {
	// Both toJsonText and toCloneable copy what they read.
	return readWithoutCopies(() => {
		const snapshot: Snapshot = {};
		const source = entry.object as unknown as Record<string, unknown>;
		for (const field of SNAPSHOT_FIELDS[entry.kind]) {
			const json = JSON_SNAPSHOT_FIELDS.has(field);
			if (json && !withJson) continue;
			const value = source[field];
			if (value === undefined) continue;
			snapshot[field] = json ? toJsonText(value) : toCloneable(value);
		}
		return snapshot;
	});
}

function toJsonText(value: unknown): JsonText {
	if (value === null || typeof value !== 'object' || Array.isArray(value)) return { $json: JSON.stringify(value) };
	const parts: Record<string, string> = {};
	for (const [key, v] of Object.entries(value)) if (v !== undefined) parts[key] = JSON.stringify(v);
	return { $parts: parts };
}

function isMediasoupObject(value: object): value is MediasoupObject {
	return 'observer' in value && 'id' in value && (value as { observer: unknown }).observer instanceof EventEmitter;
}

/**
 * Makes a value safe for structured clone: mediasoup objects become
 * references by id, functions and appData (which stays in the main thread) go.
 */
export function toCloneable(value: unknown): unknown {
	if (value === null || typeof value !== 'object') return typeof value === 'function' ? undefined : value;
	if (ArrayBuffer.isView(value)) return cloneableBytes(value);
	if (isMediasoupObject(value)) return { $ref: value.id };
	if (Array.isArray(value)) return value.map(toCloneable);
	const out: Record<string, unknown> = {};
	for (const [key, v] of Object.entries(value)) {
		if (key === 'appData') continue;
		const cloned = toCloneable(v);
		if (cloned !== undefined) out[key] = cloned;
	}
	return out;
}
