import { InvalidArgumentError } from './errors';
import { jsonArgument } from './remote/json-text';

// Checks that throw InvalidArgumentError naming the field, so every public
// method reports bad input the same way.

export function isPlainObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function requireObject(value: unknown, field: string): Record<string, unknown> {
	if (!isPlainObject(value)) throw new InvalidArgumentError(field, `must be an object, got ${describe(value)}`);
	return value;
}

export function optionalObject(value: unknown, field: string): Record<string, unknown> | undefined {
	return value === undefined ? undefined : requireObject(value, field);
}

export function requireString(value: unknown, field: string): string {
	if (typeof value !== 'string' || value.length === 0) throw new InvalidArgumentError(field, `must be a non-empty string, got ${describe(value)}`);
	return value;
}

export function optionalString(value: unknown, field: string): string | undefined {
	return value === undefined ? undefined : requireString(value, field);
}

export function optionalBoolean(value: unknown, field: string): boolean | undefined {
	if (value !== undefined && typeof value !== 'boolean') throw new InvalidArgumentError(field, `must be a boolean, got ${describe(value)}`);
	return value;
}

export function optionalNumber(value: unknown, field: string, min: number, max: number, integer = false): number | undefined {
	if (value === undefined) return undefined;
	if (typeof value !== 'number' || Number.isNaN(value) || (integer && !Number.isInteger(value))) {
		throw new InvalidArgumentError(field, `must be ${integer ? 'an integer' : 'a number'}, got ${describe(value)}`);
	}
	if (value < min || value > max) throw new InvalidArgumentError(field, `must be between ${min} and ${max}, got ${value}`);
	return value;
}

/** A number in [min, max] that must be given. */
export function requireNumber(value: unknown, field: string, min: number, max: number, integer = false): number {
	if (value === undefined) throw new InvalidArgumentError(field, `must be ${integer ? 'an integer' : 'a number'}, got undefined`);
	return optionalNumber(value, field, min, max, integer) as number;
}

/** A Buffer (a Uint8Array is what a Buffer becomes across threads, and is accepted too). */
export function requireBuffer(value: unknown, field: string): Buffer | Uint8Array {
	if (!(value instanceof Uint8Array)) throw new InvalidArgumentError(field, `must be a Buffer, got ${describe(value)}`);
	return value;
}

/**
 * A mediasoup TransportListenInfo. mediasoup packs the port into 16 bits
 * without checking it, so 70000 would silently listen on 4464.
 */
export function checkListenInfo(value: unknown, field: string): void {
	const info = requireObject(value, field);
	if (info.protocol !== 'udp' && info.protocol !== 'tcp') throw new InvalidArgumentError(`${field}.protocol`, `must be "udp" or "tcp", got ${describe(info.protocol)}`);
	requireString(info.ip, `${field}.ip`);
	optionalNumber(info.port, `${field}.port`, 0, 65535, true);
}

export function optionalArray(value: unknown, field: string): unknown[] | undefined {
	if (value !== undefined && !Array.isArray(value)) throw new InvalidArgumentError(field, `must be an array, got ${describe(value)}`);
	return value;
}

function describe(value: unknown): string {
	if (value === null) return 'null';
	if (Array.isArray(value)) return 'an array';
	if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}...` : value}"`;
	if (typeof value === 'object') return 'an object';
	return `${typeof value} ${String(value)}`;
}

/** Drops appData (it stays in the main thread) and anything a thread cannot receive. */
export function forHost(options: Record<string, unknown>): Record<string, unknown> {
	const out: Record<string, unknown> = {};
	for (const [key, value] of Object.entries(options)) {
		if (key === 'appData' || value === undefined) continue;
		if (typeof value === 'function') throw new InvalidArgumentError(key, 'cannot be a function');
		out[key] = key === 'rtpCapabilities' && typeof value === 'object' && value !== null ? jsonArgument(value) : value;
	}
	return out;
}
