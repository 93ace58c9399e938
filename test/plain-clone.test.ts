// The worker host's mediasoup clones with plainClone instead of Node 20's
// structuredClone (actors/plain-clone.ts, installed by actors/worker-host/mediasoup-clone.ts): it must give mediasoup
// what structuredClone gave, on mediasoup's real values, and leave anything
// that is not plain data to structuredClone.
import * as path from 'node:path';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { plainClone } from '../actors/plain-clone';
import { installPlainClone, mediasoupClone, readWithoutCopies } from '../actors/worker-host/mediasoup-clone';

const VP8 = { kind: 'video' as const, mimeType: 'video/VP8', clockRate: 90000 };
const OPUS = { kind: 'audio' as const, mimeType: 'audio/opus', clockRate: 48000, channels: 2 };

/** A real worker with one router, a PlainTransport and a producer on it, closed after `body`. */
async function withProducer(
	producerOptions: types.ProducerOptions,
	body: (on: { router: types.Router; transport: types.PlainTransport; producer: types.Producer }) => Promise<void>,
): Promise<void> {
	const worker = await mediasoup.createWorker({ logLevel: 'none' });
	try {
		const router = await worker.createRouter({ mediaCodecs: [VP8, OPUS] });
		const transport = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true });
		await body({ router, transport, producer: await transport.produce(producerOptions) });
	} finally {
		worker.close();
	}
}

describe('plainClone', () => {
	test('equals structuredClone on plain data, and shares nothing with its input', () => {
		const value = { a: [1, 'x', { b: null, c: undefined, d: -0 }], e: { f: true, g: NaN, h: 2n }, i: [] as unknown[] };
		const copy = plainClone(value);
		// jest's structuredClone answers with objects of the outer realm, so compare by value, and the undefined key by hand.
		expect(copy).toEqual(structuredClone(value));
		expect(Object.keys(copy.a[2] as object)).toEqual(['b', 'c', 'd']);
		expect(Object.is((copy.a[2] as { d: number }).d, -0)).toBe(true);
		expect(copy).not.toBe(value);
		expect(copy.a).not.toBe(value.a);
		expect(copy.a[2]).not.toBe(value.a[2]);
		expect(plainClone(undefined)).toBeUndefined();
		expect(plainClone(Number.NaN)).toBeNaN();
		expect(plainClone('s')).toBe('s');
	});

	test('what is not plain data goes to structuredClone whole: copied as it copies, rejected as it rejects', () => {
		const bytes = plainClone({ payload: Buffer.from([1, 2, 3]) });
		expect([...bytes.payload]).toEqual([1, 2, 3]);
		expect(bytes.payload).not.toBeInstanceOf(Buffer);
		const when = new Date(5);
		expect(plainClone({ when }).when.getTime()).toBe(5);
		expect([...plainClone({ map: new Map([[1, 2]]) }).map]).toEqual([[1, 2]]);
		const cyclic: Record<string, unknown> = { name: 'loop' };
		cyclic.self = cyclic;
		const loop = plainClone(cyclic);
		expect(loop.self).toBe(loop);
		const withFunction = { f: () => 1 };
		expect(() => structuredClone(withFunction)).toThrow();
		expect(() => plainClone(withFunction)).toThrow(expect.objectContaining({ name: 'DataCloneError' }));
	});

	test("equals structuredClone on mediasoup's own values: capabilities, producer and consumer parameters", async () => {
		const video: types.ProducerOptions = {
			kind: 'video',
			rtpParameters: {
				codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] }],
				encodings: [{ ssrc: 1111 }],
			},
		};
		await withProducer(video, async ({ router, transport, producer }) => {
			const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
			for (const value of [mediasoup.getSupportedRtpCapabilities(), router.rtpCapabilities, producer.rtpParameters, producer.consumableRtpParameters, consumer.rtpParameters, transport.tuple]) {
				expect(plainClone(value)).toStrictEqual(structuredClone(value));
			}
		});
	});
});

describe('installPlainClone', () => {
	test("replaces the clone of the mediasoup module it is given, and mediasoup's consume gives the same parameters with it", async () => {
		const entry = require.resolve('mediasoup');
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const utils = require(path.join(path.dirname(entry), 'utils.js')) as { clone: (v: unknown) => unknown };
		const original = utils.clone;
		const audio: types.ProducerOptions = {
			kind: 'audio',
			rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 3333 }] },
		};
		try {
			await withProducer(audio, async ({ router, producer }) => {
				const consume = async (): Promise<types.RtpParameters> => {
					const on = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true });
					const { rtpParameters } = await on.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
					// Each consumer gets its own SSRC; compare what does not vary.
					return { ...rtpParameters, encodings: rtpParameters.encodings?.map(({ ssrc: _ssrc, ...rest }) => rest) };
				};
				const before = await consume();
				expect(installPlainClone(entry)).toBe(true);
				expect(utils.clone).toBe(mediasoupClone);
				expect(await consume()).toStrictEqual(before);
				// Inside readWithoutCopies a getter gives mediasoup's own object (the same at each read), outside a copy.
				expect(readWithoutCopies(() => producer.rtpParameters)).toBe(readWithoutCopies(() => producer.rtpParameters));
				expect(producer.rtpParameters).not.toBe(producer.rtpParameters);
				expect(producer.rtpParameters).toEqual(readWithoutCopies(() => producer.rtpParameters));
			});
		} finally {
			utils.clone = original;
		}
	});

	test('says false, and changes nothing, where the module is not there', () => {
		expect(installPlainClone('/nonexistent/mediasoup/node/lib/index.js')).toBe(false);
	});
});
