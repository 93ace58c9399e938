import { isJsonText, type JsonText, type Snapshot } from '../../actors/protocol';

/**
 * Equal parts of JSON text (a producer's codecs, as every consumer of it
 * carries them) are kept once. Each message from a thread brings its own copy
 * of every string; this swaps the copy for the one already held, so a
 * thousand consumers of one producer hold one codec list, not a thousand.
 * Bounded: past the limit it starts again, which costs only sharing.
 */
const MAX_INTERNED = 4096;
const interned = new Map<string, string>();

function intern(text: string): string {
	const known = interned.get(text);
	if (known !== undefined) return known;
	if (interned.size >= MAX_INTERNED) interned.clear();
	interned.set(text, text);
	return text;
}

/** The last interned text of each part of each JSON field (field and part names are few: a kind's SNAPSHOT_FIELDS). */
const lastParts = new Map<string, Map<string, string>>();

/** Strings no longer than this at a snapshot's top level are shared too: a consumer's producerId, kind and type. */
const SHORT_STRING = 64;

/**
 * The snapshot with the parts of its JSON text fields, and its short strings,
 * shared (in place: the snapshot is fresh from a message).
 */
export function shareSnapshotText(snapshot: Snapshot): Snapshot {
	// for...in, not Object.entries: no array of pairs per field at each message (a snapshot is a plain object from structured clone).
	for (const field in snapshot) {
		const value = snapshot[field];
		if (typeof value === 'string' && value.length <= SHORT_STRING) snapshot[field] = intern(value);
		if (!isJsonText(value) || !('$parts' in value)) continue;
		const parts = value.$parts;
		let lasts = lastParts.get(field);
		if (!lasts) lastParts.set(field, (lasts = new Map()));
		for (const key in parts) {
			// The same part as the last snapshot's (a producer's codecs, as each of its consumers carries them): compared, not hashed.
			const text = parts[key];
			const previous = lasts.get(key);
			if (previous === text) parts[key] = previous;
			else lasts.set(key, (parts[key] = intern(text)));
		}
	}
	return snapshot;
}

/** The value of a snapshot field: JSON text parsed (a fresh copy at each read), anything else as it is. */
export function fieldValue(value: unknown): unknown {
	if (!isJsonText(value)) return value;
	if ('$json' in value) return JSON.parse(value.$json);
	const out: Record<string, unknown> = {};
	for (const [key, text] of Object.entries((value as Extract<JsonText, { $parts: unknown }>).$parts)) out[key] = JSON.parse(text);
	return out;
}

/**
 * An argument sent as JSON text, made once per object: an app passes the same
 * capabilities object (its peer's) to every consume(), and structured-cloning
 * 3 KB of capabilities cost about 90 µs of CPU per call across the two
 * threads, more than the rest of the hop. As with any value mafalda sends to
 * a thread, the object is read when first used: changing it in place later is
 * not seen (pass a new object).
 */
const argumentTexts = new WeakMap<object, JsonText>();

export function jsonArgument(value: object): JsonText {
	let text = argumentTexts.get(value);
	if (!text) {
		text = { $json: JSON.stringify(value) };
		argumentTexts.set(value, text);
	}
	return text;
}
