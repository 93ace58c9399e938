import type { Json } from '../../actors/protocol';

/** Largest frame either side accepts; a dump of a busy worker fits, a flood does not. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** A byte stream that is not a sequence of frames: the connection is dropped, never acted on. */
export class FrameError extends Error {}

/** JSON cannot carry bytes (a data producer's send(), a 'message' event): they travel as { $bytes: base64 }. */
function replacer(this: unknown, _key: string, value: unknown): unknown {
	if (value instanceof Uint8Array) return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
	if (typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
		return { $bytes: Buffer.from((value as { data: number[] }).data).toString('base64') };
	}
	return value;
}

function reviver(_key: string, value: unknown): unknown {
	if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
		const bytes = (value as { $bytes?: unknown }).$bytes;
		if (typeof bytes === 'string' && Object.keys(value).length === 1) return Buffer.from(bytes, 'base64');
	}
	return value;
}

/** One frame: a 4-byte big-endian length, then that many bytes of UTF-8 JSON. */
export function encodeFrame(message: unknown): Buffer {
	// Buffer.prototype.toJSON runs before the replacer sees the value; handled above as { type: 'Buffer' }.
	const body = Buffer.from(JSON.stringify(message, replacer), 'utf8');
	if (body.length > MAX_FRAME_BYTES) throw new FrameError(`frame of ${body.length} bytes is over ${MAX_FRAME_BYTES}`);
	const header = Buffer.allocUnsafe(4);
	header.writeUInt32BE(body.length, 0);
	return Buffer.concat([header, body]);
}

/** Reassembles frames from TCP chunks. Throws FrameError on an oversized frame or bad JSON. */
export class FrameDecoder {
	#buffer: Buffer = Buffer.alloc(0);

	push(chunk: Buffer): Json[] {
		this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
		const frames: Json[] = [];
		while (this.#buffer.length >= 4) {
			const length = this.#buffer.readUInt32BE(0);
			if (length > MAX_FRAME_BYTES) throw new FrameError(`frame of ${length} bytes is over ${MAX_FRAME_BYTES}`);
			if (this.#buffer.length < 4 + length) break;
			const body = this.#buffer.subarray(4, 4 + length);
			this.#buffer = this.#buffer.subarray(4 + length);
			try {
				frames.push(JSON.parse(body.toString('utf8'), reviver) as Json);
			} catch (error) {
				throw new FrameError(`frame is not JSON: ${(error as Error).message}`);
			}
		}
		return frames;
	}
}
