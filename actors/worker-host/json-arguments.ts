import { isJsonText } from '../protocol';

/**
 * The host's side of lib/remote/json-text.ts `jsonArgument`: the same text
 * gives the same object, as the same object reached mediasoup when the app
 * called it directly (mediasoup validates capabilities in place, the same way
 * each time). Bounded: past the limit it starts again.
 */
const MAX_CACHED = 1024;
const parsed = new Map<string, unknown>();

function parse(text: string): unknown {
	let value = parsed.get(text);
	if (value === undefined) {
		if (parsed.size >= MAX_CACHED) parsed.clear();
		value = JSON.parse(text);
		parsed.set(text, value);
	}
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
