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
	| 'ERR_MAFALDA_CLUSTER_UNAVAILABLE';

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

export class NoCpuSlotError extends MafaldaError {
	constructor(slotDir: string) {
		super('ERR_MAFALDA_NO_CPU_SLOT', `every CPU slot of this machine already runs a mediasoup Worker (locks in ${slotDir})`);
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

/** A cluster node, or Redis, cannot be reached or refused us (wrong secret, gone, no answer in time). */
export class ClusterUnavailableError extends MafaldaError {
	constructor(detail: string) {
		super('ERR_MAFALDA_CLUSTER_UNAVAILABLE', `cluster unavailable: ${detail}`);
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
