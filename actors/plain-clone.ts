/**
 * Deeper than this, plainClone hands the value to structuredClone: mediasoup's
 * parameters nest five levels, and a cycle (which structuredClone keeps) would
 * otherwise recurse until the stack overflows.
 */
const MAX_DEPTH = 32;

/** Thrown inside plainClone when a value is not plain data; the caller starts again with structuredClone. */
const NOT_PLAIN = Symbol('not plain data');

function isPlainObject(value: object): boolean {
	const proto = Object.getPrototypeOf(value) as unknown;
	return proto === Object.prototype || proto === null;
}

function copy(value: unknown, depth: number): unknown {
	if (value === null || typeof value !== 'object') {
		if (typeof value === 'function' || typeof value === 'symbol') throw NOT_PLAIN;
		return value;
	}
	if (depth > MAX_DEPTH) throw NOT_PLAIN;
	if (Array.isArray(value)) {
		if (Object.getPrototypeOf(value) !== Array.prototype) throw NOT_PLAIN;
		const out = new Array<unknown>(value.length);
		for (let i = 0; i < value.length; i++) out[i] = copy(value[i], depth + 1);
		return out;
	}
	if (!isPlainObject(value)) throw NOT_PLAIN;
	const out: Record<string, unknown> = {};
	for (const key of Object.keys(value)) out[key] = copy((value as Record<string, unknown>)[key], depth + 1);
	return out;
}

/**
 * structuredClone's result for plain data (objects, arrays, primitives), made
 * in JS. Node 20's structuredClone serializes through V8's message serializer:
 * about 30 µs for one consumer's rtpParameters on this 2-core VM against 4 µs
 * here, and mediasoup clones four such values per `consume()` (the producer's
 * consumable parameters twice, the capabilities, the consumer's parameters
 * when read). Anything else (a Buffer, a Map, a class instance, a function,
 * a cycle) goes to structuredClone whole, which copies or rejects it as
 * mediasoup expects. Both threads use it: the worker hosts' mediasoup
 * (worker-host/mediasoup-clone.ts) and the main thread's copies of values an
 * app may change (MafaldaRouter.rtpCapabilities).
 */
export function plainClone<T>(value: T): T {
	if (value === undefined) return value;
	try {
		return copy(value, 0) as T;
	} catch (error) {
		if (error !== NOT_PLAIN) throw error;
		return structuredClone(value);
	}
}
