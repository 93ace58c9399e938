import { useCachedWorkerBinary } from './worker-binary';

/**
 * mafalda's errors. Each has a stable `code`; TypeErrors about arguments also
 * name the offending `field`, so an app can tell the caller what to fix.
 *
 * Errors that stand for one of mediasoup's keep mediasoup's `name` and class
 * relationships, so that an app written for mediasoup tells them apart as
 * before (`error.name === 'TypeError'` for the caller's mistakes, `instanceof
 * types.UnsupportedError`, ...):
 * - bad arguments are `TypeError`s (name 'TypeError'), and so are unknown
 *   producer ids up to mediasoup 3.20; since 3.21 those are mediasoup's
 *   `errors.NotFoundError`, as mediasoup throws them there;
 * - `UnsupportedError` extends mediasoup's UnsupportedError;
 * - the errors about closed objects extend the class the installed mediasoup
 *   rejects such a call with (lib/mediasoup-compat.ts): up to 3.20
 *   `types.InvalidStateError`; since 3.21, which has no InvalidStateError,
 *   `errors.NotFoundError` for a closed object and `errors.WorkerClosedError`
 *   for a closed Mafalda (its Workers), with those names. Every one of them is
 *   `instanceof` mafalda's InvalidStateError whatever it extends.
 * mafalda's own conditions (a worker died, no CPU slot, ...) are MafaldaErrors
 * named after their class. `instanceof MafaldaError` holds for every error
 * with a mafalda `code`, whichever of these classes it belongs to.
 */
import { closedObjectErrorClass, closedWorkerErrorClass, type ErrorClass, mediasoupErrorClasses, unknownIdErrorClass } from './mediasoup-compat';

export type MafaldaErrorCode =
	| 'ERR_MAFALDA_INVALID_ARGUMENT'
	| 'ERR_MAFALDA_UNSUPPORTED'
	| 'ERR_MAFALDA_INVALID_STATE'
	| 'ERR_MAFALDA_UNKNOWN_PRODUCER'
	| 'ERR_MAFALDA_UNKNOWN_DATA_PRODUCER'
	| 'ERR_MAFALDA_ROUTER_CLOSED'
	| 'ERR_MAFALDA_TRANSPORT_CLOSED'
	| 'ERR_MAFALDA_OBJECT_CLOSED'
	| 'ERR_MAFALDA_WORKER_DIED'
	| 'ERR_MAFALDA_NO_CPU_SLOT'
	| 'ERR_MAFALDA_CLOSED'
	| 'ERR_MAFALDA_WORKER_CLOSED'
	| 'ERR_MAFALDA_NOT_FOUND'
	| 'ERR_MAFALDA_REMOTE'
	| 'ERR_MAFALDA_WEBRTC_SERVER_LISTEN'
	| 'ERR_MAFALDA_CLUSTER_UNAVAILABLE'
	| 'ERR_MAFALDA_PIPE_UNREACHABLE';

// mediasoup reads MEDIASOUP_WORKER_BIN once, when it loads: loading it here,
// at import time, must not fix its worker path before the cached build is set.
try {
	useCachedWorkerBinary();
} catch {
	// No mediasoup package next to mafalda: nothing to point at.
}
// mediasoup's classes where the installed version has them, else plain
// classes with the same names.
const found = mediasoupErrorClasses();
const base = {
	UnsupportedError: found.UnsupportedError ?? class UnsupportedError extends Error {},
	InvalidStateError: found.InvalidStateError ?? class InvalidStateError extends Error {},
	NotFoundError: found.NotFoundError ?? class NotFoundError extends Error {},
};

// The codes of mafalda's InvalidStateErrors, whichever mediasoup class each extends.
const INVALID_STATE_CODES: ReadonlySet<string> = new Set<MafaldaErrorCode>([
	'ERR_MAFALDA_INVALID_STATE',
	'ERR_MAFALDA_ROUTER_CLOSED',
	'ERR_MAFALDA_TRANSPORT_CLOSED',
	'ERR_MAFALDA_OBJECT_CLOSED',
	'ERR_MAFALDA_CLOSED',
	'ERR_MAFALDA_WORKER_CLOSED',
]);

function isMafaldaCoded(value: unknown): boolean {
	const code = (value as { code?: unknown } | null)?.code;
	return value instanceof Error && typeof code === 'string' && code.startsWith('ERR_MAFALDA_');
}

export class MafaldaError extends Error {
	constructor(
		readonly code: MafaldaErrorCode,
		message: string,
	) {
		super(message);
		this.name = new.target.name;
	}

	/** Every mafalda error is a MafaldaError, including those that extend TypeError or mediasoup's classes. */
	static override [Symbol.hasInstance](value: unknown): boolean {
		if (this !== MafaldaError) return Function.prototype[Symbol.hasInstance].call(this, value);
		return isMafaldaCoded(value);
	}
}

/** A bad argument: wrong type, missing field, out-of-range value. Named 'TypeError', as mediasoup's. */
export class InvalidArgumentError extends TypeError {
	readonly code = 'ERR_MAFALDA_INVALID_ARGUMENT' as const;

	constructor(
		readonly field: string,
		problem: string,
	) {
		super(`${field} ${problem}`);
		this.name = 'TypeError';
	}
}

/** Something mediasoup does not support (e.g. consuming with capabilities that match no codec). */
export class UnsupportedError extends base.UnsupportedError {
	readonly code: MafaldaErrorCode = 'ERR_MAFALDA_UNSUPPORTED';

	constructor(message: string) {
		super(message);
		this.name = 'UnsupportedError';
	}
}

/** A method called in a state that does not allow it (mediasoup's InvalidStateError, up to 3.20). */
export class InvalidStateError extends base.InvalidStateError {
	readonly code: MafaldaErrorCode;

	constructor(message: string, code: MafaldaErrorCode = 'ERR_MAFALDA_INVALID_STATE') {
		super(message);
		this.name = 'InvalidStateError';
		this.code = code;
	}

	/** Also the closed-object errors that extend another mediasoup class (3.21 and later, see stateErrorBase). */
	static override [Symbol.hasInstance](value: unknown): boolean {
		if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
		return this === InvalidStateError && isMafaldaCoded(value) && INVALID_STATE_CODES.has((value as { code: string }).code);
	}
}

/**
 * The base of a family of closed-object errors: mafalda's InvalidStateError
 * where the installed mediasoup uses InvalidStateError for that call (up to
 * 3.20); otherwise a class that extends the mediasoup class the call rejects
 * with there (NotFoundError, WorkerClosedError) and takes its name, so that
 * `instanceof errors.NotFoundError` holds as it does with mediasoup.
 */
function stateErrorBase(mediasoupClass: ErrorClass | undefined): typeof InvalidStateError {
	if (!mediasoupClass || mediasoupClass === found.InvalidStateError) return InvalidStateError;
	const name = mediasoupClass.name;
	class MediasoupStateError extends mediasoupClass {
		readonly code: MafaldaErrorCode;

		constructor(message: string, code: MafaldaErrorCode = 'ERR_MAFALDA_INVALID_STATE') {
			super(message);
			this.name = name;
			this.code = code;
		}
	}
	return MediasoupStateError as unknown as typeof InvalidStateError;
}

const ClosedObjectBase = stateErrorBase(closedObjectErrorClass(found));
const ClosedWorkerBase = stateErrorBase(closedWorkerErrorClass(found));

/** mediasoup's NotFoundError (3.21 and later) raised in a worker thread: an id the mediasoup worker does not know. */
export class NotFoundError extends base.NotFoundError {
	readonly code: MafaldaErrorCode = 'ERR_MAFALDA_NOT_FOUND';

	constructor(message: string) {
		super(message);
		this.name = 'NotFoundError';
	}
}

/** mediasoup's WorkerClosedError (InvalidStateError up to 3.20) raised in a worker thread: its mediasoup Worker closed under the call. */
export class WorkerClosedError extends ClosedWorkerBase {
	constructor(message: string) {
		super(message, 'ERR_MAFALDA_WORKER_CLOSED');
	}
}

// An unknown producer id: mediasoup's class for it in the installed version (TypeError up to 3.20, NotFoundError since).
const UnknownIdBase = unknownIdErrorClass(found);

/** An id that names no producer: the installed mediasoup's error for it (a TypeError, or a NotFoundError since 3.21). */
export class UnknownProducerError extends UnknownIdBase {
	readonly code = 'ERR_MAFALDA_UNKNOWN_PRODUCER' as const;

	constructor(readonly producerId: string, where: string) {
		super(`no producer with id "${producerId}" in ${where}`);
		this.name = UnknownIdBase.name;
	}
}

export class UnknownDataProducerError extends UnknownIdBase {
	readonly code = 'ERR_MAFALDA_UNKNOWN_DATA_PRODUCER' as const;

	constructor(readonly dataProducerId: string, where: string) {
		super(`no data producer with id "${dataProducerId}" in ${where}`);
		this.name = UnknownIdBase.name;
	}
}

export class RouterClosedError extends ClosedObjectBase {
	constructor(readonly routerId: string) {
		super(`MafaldaRouter "${routerId}" is closed`, 'ERR_MAFALDA_ROUTER_CLOSED');
	}
}

export class TransportClosedError extends ClosedObjectBase {
	constructor(readonly transportId: string) {
		super(`transport "${transportId}" is closed`, 'ERR_MAFALDA_TRANSPORT_CLOSED');
	}
}

/** A producer, consumer, observer, ... that was closed. */
export class ObjectClosedError extends ClosedObjectBase {
	constructor(readonly objectKind: string, readonly objectId: string) {
		super(`${objectKind} "${objectId}" is closed`, 'ERR_MAFALDA_OBJECT_CLOSED');
	}
}

/** The Mafalda instance was closed. */
export class MafaldaClosedError extends ClosedWorkerBase {
	constructor() {
		super('this Mafalda instance is closed', 'ERR_MAFALDA_CLOSED');
	}
}

export class WorkerDiedError extends MafaldaError {
	constructor(readonly workerIndex: number, detail?: string) {
		super('ERR_MAFALDA_WORKER_DIED', `worker ${workerIndex} died${detail ? `: ${detail}` : ''}`);
	}
}

/** A process holding a CPU slot, as its lock file and /proc tell. */
export interface CpuSlotHolder {
	slot: number;
	pid: number | undefined;
	/** The holder's command line, when /proc shows it. */
	command?: string;
	/** The mediasoup-worker the slot is held for, once started. */
	workerPid?: number;
}

export class NoCpuSlotError extends MafaldaError {
	constructor(
		readonly slotDir: string,
		/** Who holds the slots (this process included). */
		readonly holders: CpuSlotHolder[] = [],
		/** Set when this process's own share (maxCpuSlots) is what is used up. */
		readonly maxCpuSlots?: number,
	) {
		const who = holders
			.map((h) => `cpu-${h.slot}: pid ${h.pid ?? '?'}${h.pid === process.pid ? ' (this process)' : ''}${h.command ? ` "${h.command}"` : ''}${h.workerPid ? `, mediasoup-worker ${h.workerPid}` : ''}`)
			.join('; ');
		const why =
			maxCpuSlots !== undefined
				? `this process already holds its maxCpuSlots (${maxCpuSlots}) CPU slots`
				: 'every CPU slot of this machine already runs a mediasoup Worker';
		super('ERR_MAFALDA_NO_CPU_SLOT', `${why} (locks in ${slotDir}${who ? `; held by ${who}` : ''})`);
	}
}

/** A WebRtcServer could not listen on a worker (port in use, address not local, ...). */
export class WebRtcServerListenError extends MafaldaError {
	constructor(
		readonly workerIndex: number,
		/** What that worker's server was asked to listen on. */
		readonly listenInfos: ReadonlyArray<{ protocol: string; ip: string; port?: number }>,
		readonly reason: string,
	) {
		const on = listenInfos.map((l) => `${l.protocol} ${l.ip}:${l.port ?? 'any'}`).join(', ');
		super('ERR_MAFALDA_WEBRTC_SERVER_LISTEN', `WebRtcServer cannot listen on worker ${workerIndex} (${on}): ${reason}`);
	}
}

/** An error raised by mediasoup inside a worker host that is none of mediasoup's own classes, carried to the caller. */
export class RemoteError extends MafaldaError {
	constructor(readonly remoteName: string, message: string) {
		super('ERR_MAFALDA_REMOTE', `${remoteName}: ${message}`);
	}
}

/** A cluster node, or Redis, cannot be reached or refused us (wrong secret, gone, no answer in time). */
export class ClusterUnavailableError extends MafaldaError {
	constructor(detail: string) {
		super('ERR_MAFALDA_CLUSTER_UNAVAILABLE', `cluster unavailable: ${detail}`);
	}
}

/**
 * A stream could not be piped to a shard again: a partition cut it off from
 * every carrier of the stream, and no node reaches both sides (the message says
 * which places were found cut off). Carried by 'repipefailed' (`code`).
 */
export class PipeUnreachableError extends MafaldaError {
	constructor(detail: string) {
		super('ERR_MAFALDA_PIPE_UNREACHABLE', detail);
	}
}

/**
 * Errors cross threads as plain {name, message}. mediasoup's classes come back
 * as the classes above with the same name (TypeError, UnsupportedError,
 * InvalidStateError, NotFoundError, WorkerClosedError); anything else becomes a RemoteError that keeps the
 * original name.
 */
export function fromRemote(error: unknown): Error {
	if (isMafaldaCoded(error)) return error as Error;
	const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
	const text = typeof message === 'string' ? message : String(error);
	switch (name) {
		case 'TypeError':
			return new TypeError(text);
		case 'UnsupportedError':
			return new UnsupportedError(text);
		case 'InvalidStateError':
			return new InvalidStateError(text);
		case 'NotFoundError':
			return new NotFoundError(text);
		case 'WorkerClosedError':
			return new WorkerClosedError(text);
		default:
			return new RemoteError(typeof name === 'string' ? name : 'Error', text);
	}
}
