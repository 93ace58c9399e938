// Errors keep mediasoup's names and classes, so an app written for mediasoup
// tells them apart as before (error.name === 'TypeError' for the caller's
// mistakes, instanceof UnsupportedError, ...), with mafalda's code and
// details added; and they keep them across the hop from a worker host thread.
// Which of mediasoup's classes that is depends on its version (3.21 dropped
// InvalidStateError for NotFoundError and WorkerClosedError):
// lib/mediasoup-compat.ts says which, for the mediasoup under test.
import * as mediasoup from 'mediasoup';
import { closedObjectErrorClass, closedWorkerErrorClass, type ErrorClass, mediasoupErrorClasses, unknownIdErrorClass } from '../lib/mediasoup-compat';
import {
	fromRemote,
	InvalidArgumentError,
	InvalidStateError,
	Mafalda,
	MafaldaClosedError,
	MafaldaError,
	ObjectClosedError,
	RemoteError,
	UnsupportedError,
	UnknownProducerError,
	type MafaldaRouter,
} from '../lib';
import { mediaCodecs } from './helpers/mafalda-media';

const mediasoupErrors = mediasoupErrorClasses();
/** A class every version has in some form: a missing one is a failure of the compat layer, not a skip. */
function mediasoupClass(found: ErrorClass | undefined, what: string): ErrorClass {
	if (!found) throw new Error(`mediasoup ${mediasoup.version} has no ${what} class`);
	return found;
}
const MediasoupUnsupportedError = mediasoupClass(mediasoupErrors.UnsupportedError, 'UnsupportedError');
const MediasoupClosedObjectError = mediasoupClass(closedObjectErrorClass(), 'closed-object error');
const MediasoupClosedWorkerError = mediasoupClass(closedWorkerErrorClass(), 'closed-Worker error');
let mafalda: Mafalda;
let router: MafaldaRouter;

beforeAll(async () => {
	mafalda = new Mafalda(mediasoup, { numWorkers: 1 });
	router = await mafalda.createMafaldaRouter({ routerOptions: { mediaCodecs } });
});

afterAll(async () => {
	await mafalda.close();
});

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; field?: string }> {
	try {
		await promise;
	} catch (error) {
		return error as Error & { code?: string; field?: string };
	}
	throw new Error('expected a rejection');
}

test("a bad argument is named 'TypeError', with mafalda's code and the field", async () => {
	const error = await rejection(router.createWebRtcTransport({ listenInfos: 'x' } as never));
	expect(error.name).toBe('TypeError');
	expect(error).toBeInstanceOf(TypeError);
	expect(error).toBeInstanceOf(InvalidArgumentError);
	expect(error).toBeInstanceOf(MafaldaError);
	expect(error.code).toBe('ERR_MAFALDA_INVALID_ARGUMENT');
	expect(error.field).toBe('options.listenInfos');
	expect(String(error)).toBe('TypeError: options.listenInfos must be an array, got "x"');
});

test("mediasoup's UnsupportedError raised in a worker thread arrives as one", async () => {
	const direct = await router.createDirectTransport();
	const error = await rejection(direct.setMaxIncomingBitrate(1000));
	expect(error.name).toBe('UnsupportedError');
	expect(error).toBeInstanceOf(MediasoupUnsupportedError);
	expect(error).toBeInstanceOf(UnsupportedError);
	expect(error).not.toBeInstanceOf(RemoteError);
	expect(error.code).toBe('ERR_MAFALDA_UNSUPPORTED');
	expect(error.message).toMatch(/not implemented in DirectTransport/);
	// mediasoup's ortc, in the worker thread, refusing a codec the router lacks.
	const plain = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' } });
	const codec = await rejection(
		plain.produce({ kind: 'video', rtpParameters: { codecs: [{ mimeType: 'video/H264', payloadType: 102, clockRate: 90000 }], encodings: [{ ssrc: 5 }] } }),
	);
	expect(codec).toBeInstanceOf(MediasoupUnsupportedError);
	expect(codec.message).toMatch(/unsupported codec/);
});

test("mediasoup's TypeError raised in a worker thread arrives as a TypeError", async () => {
	const plain = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' } });
	// mafalda passes the object on; mediasoup finds the missing encodings.
	const error = await rejection(plain.produce({ kind: 'audio', rtpParameters: { codecs: 'x' } as never }));
	expect(error.name).toBe('TypeError');
	expect(error).toBeInstanceOf(TypeError);
	expect(error).not.toBeInstanceOf(RemoteError);
});

test("an unknown producer id is mediasoup's error for it (TypeError, or NotFoundError since 3.21), with mafalda's code", async () => {
	const plain = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' } });
	const error = await rejection(plain.consume({ producerId: 'no-such-producer', rtpCapabilities: router.rtpCapabilities }));
	const MediasoupUnknownIdError = unknownIdErrorClass();
	expect(error.name).toBe(MediasoupUnknownIdError.name);
	expect(error).toBeInstanceOf(MediasoupUnknownIdError);
	expect(error).toBeInstanceOf(UnknownProducerError);
	expect(error).toBeInstanceOf(MafaldaError);
	expect(error.code).toBe('ERR_MAFALDA_UNKNOWN_PRODUCER');
});

test("a closed object's error is mediasoup's for that call (InvalidStateError, or NotFoundError since 3.21), with mafalda's code", async () => {
	const plain = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' } });
	plain.close();
	const error = await rejection(plain.getStats());
	expect(error.name).toBe(MediasoupClosedObjectError.name);
	expect(error).toBeInstanceOf(MediasoupClosedObjectError);
	expect(error).toBeInstanceOf(ObjectClosedError);
	expect(error).toBeInstanceOf(InvalidStateError);
	expect(error).toBeInstanceOf(MafaldaError);
	expect(error.code).toBe('ERR_MAFALDA_OBJECT_CLOSED');
});

test("a closed Mafalda's error is mediasoup's for a closed Worker (InvalidStateError, or WorkerClosedError since 3.21)", async () => {
	const closed = new Mafalda(mediasoup, { numWorkers: 1 });
	await closed.close();
	const error = await rejection(closed.createMafaldaRouter());
	expect(error.name).toBe(MediasoupClosedWorkerError.name);
	expect(error).toBeInstanceOf(MediasoupClosedWorkerError);
	expect(error).toBeInstanceOf(MafaldaClosedError);
	expect(error).toBeInstanceOf(InvalidStateError);
	expect(error.code).toBe('ERR_MAFALDA_CLOSED');
});

test('fromRemote maps each name of an error that crossed a thread to its class', () => {
	// Every error class the mediasoup under test has comes back as one, with its name.
	const classes = Object.entries(mediasoupErrors).filter((entry): entry is [string, ErrorClass] => entry[1] !== undefined);
	expect(classes.map(([name]) => name)).toContain('UnsupportedError');
	for (const [name, mediasoupErrorClass] of classes) {
		const error = fromRemote({ name, message: 'Channel closed' });
		expect(error).toBeInstanceOf(mediasoupErrorClass);
		expect(error).toBeInstanceOf(MafaldaError);
		expect(error).not.toBeInstanceOf(RemoteError);
		expect(error.name).toBe(name);
		expect(error.message).toBe('Channel closed');
	}
	// mafalda's own InvalidStateError, in every version.
	const invalid = fromRemote({ name: 'InvalidStateError', message: 'Channel closed' });
	expect(invalid).toBeInstanceOf(InvalidStateError);
	expect(invalid.name).toBe('InvalidStateError');
	expect(fromRemote({ name: 'TypeError', message: 'm' })).toBeInstanceOf(TypeError);
	const other = fromRemote({ name: 'RangeError', message: 'm' });
	expect(other).toBeInstanceOf(RemoteError);
	expect((other as RemoteError).remoteName).toBe('RangeError');
	expect((other as RemoteError).code).toBe('ERR_MAFALDA_REMOTE');
	// A mafalda error that crossed already keeps its class.
	const own = new InvalidArgumentError('x', 'is bad');
	expect(fromRemote(own)).toBe(own);
});
