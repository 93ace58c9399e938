/**
 * mafalda's errors. Each has a stable `code`; TypeErrors about arguments also
 * name the offending `field`, so an app can tell the caller what to fix.
 */
export type MafaldaErrorCode =
	| 'ERR_MAFALDA_INVALID_ARGUMENT'
	| 'ERR_MAFALDA_UNKNOWN_PRODUCER'
	| 'ERR_MAFALDA_UNKNOWN_DATA_PRODUCER'
	| 'ERR_MAFALDA_ROUTER_CLOSED'
	| 'ERR_MAFALDA_TRANSPORT_CLOSED'
	| 'ERR_MAFALDA_OBJECT_CLOSED'
	| 'ERR_MAFALDA_WORKER_DIED'
	| 'ERR_MAFALDA_NO_CPU_SLOT'
	| 'ERR_MAFALDA_CLOSED'
	| 'ERR_MAFALDA_REMOTE'
	| 'ERR_MAFALDA_WEBRTC_SERVER_LISTEN';

export class MafaldaError extends Error {
	constructor(
		readonly code: MafaldaErrorCode,
		message: string,
	) {
		super(message);
		this.name = new.target.name;
	}
}

/** A bad argument: wrong type, missing field, out-of-range value. */
export class InvalidArgumentError extends TypeError {
	readonly code = 'ERR_MAFALDA_INVALID_ARGUMENT' as const;

	constructor(
		readonly field: string,
		problem: string,
	) {
		super(`${field} ${problem}`);
		this.name = 'InvalidArgumentError';
	}
}

export class UnknownProducerError extends MafaldaError {
	constructor(readonly producerId: string, where: string) {
		super('ERR_MAFALDA_UNKNOWN_PRODUCER', `no producer with id "${producerId}" in ${where}`);
	}
}

export class UnknownDataProducerError extends MafaldaError {
	constructor(readonly dataProducerId: string, where: string) {
		super('ERR_MAFALDA_UNKNOWN_DATA_PRODUCER', `no data producer with id "${dataProducerId}" in ${where}`);
	}
}

export class RouterClosedError extends MafaldaError {
	constructor(readonly routerId: string) {
		super('ERR_MAFALDA_ROUTER_CLOSED', `MafaldaRouter "${routerId}" is closed`);
	}
}

export class TransportClosedError extends MafaldaError {
	constructor(readonly transportId: string) {
		super('ERR_MAFALDA_TRANSPORT_CLOSED', `transport "${transportId}" is closed`);
	}
}

/** A producer, consumer, observer, ... that was closed. */
export class ObjectClosedError extends MafaldaError {
	constructor(readonly objectKind: string, readonly objectId: string) {
		super('ERR_MAFALDA_OBJECT_CLOSED', `${objectKind} "${objectId}" is closed`);
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

/** The Mafalda instance was closed. */
export class MafaldaClosedError extends MafaldaError {
	constructor() {
		super('ERR_MAFALDA_CLOSED', 'this Mafalda instance is closed');
	}
}

/** An error raised by mediasoup inside a worker host, carried to the caller. */
export class RemoteError extends MafaldaError {
	constructor(readonly remoteName: string, message: string) {
		super('ERR_MAFALDA_REMOTE', `${remoteName}: ${message}`);
	}
}

/**
 * Errors cross threads as plain {name, message}: a mediasoup TypeError stays a
 * TypeError for the caller, anything else becomes a RemoteError that keeps the
 * original name.
 */
export function fromRemote(error: unknown): Error {
	if (error instanceof MafaldaError || error instanceof InvalidArgumentError) return error;
	const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
	const text = typeof message === 'string' ? message : String(error);
	if (name === 'TypeError') return new TypeError(text);
	return new RemoteError(typeof name === 'string' ? name : 'Error', text);
}
