import { isJsonText } from '../protocol';

/**
 * The host's side of lib/remote/json-text.ts `jsonArgument`: the same text
 * gives the same object, as the same object reached mediasoup when the app
 * called it directly (mediasoup validates capabilities in place, the same way
 * each time). Bounded: past the limit it starts again.
 */
const MAX_CACHED = 1024;
const parsed = new Map<string, unknown>();
/**
 * The last text and its value: a burst of consumes mostly carries the same
 * capabilities, and comparing 3 KB of text with the last one is cheaper than
 * hashing it for the map (each message brings a fresh copy of the string).
 */
let last: { text: string; value: unknown } | undefined;

function parse(text: string): unknown {
	if (last?.text === text) return last.value;
	let value = parsed.get(text);
	if (value === undefined) {
		if (parsed.size >= MAX_CACHED) parsed.clear();
		value = JSON.parse(text);
		parsed.set(text, value);
	}
	last = { text, value };
	return value;
}

/** Options with their JSON text arguments turned back into objects. */
export function withJsonArguments<T extends Record<string, unknown>>(options: T): T {
	let out: Record<string, unknown> | undefined;
	for (const [key, value] of Object.entries(options)) {
		if (!isJsonText(value) || !('$json' in value)) continue;
		out ??= { ...options };
		out[key] = parse(value.$json);
	}
	return (out ?? options) as T;
}
