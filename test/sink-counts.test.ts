// How the bench counts delivery to sink receivers (sockets nobody reads):
// from mediasoup's own counters. The pure counting rules on plain numbers,
// then the whole path with a real worker and real RTP, checked against a
// receiver that does read its packets.
import { consumerSample, countSinkWindow, ingressOf, producerReceived, type ConsumerSample, type StreamWindow } from '../bench/scenarios/sink-counts';
import { SinkSocket } from '../bench/sim/sink-socket';
import { PacedProducer, ReceivingEnd, PLAIN_OPTIONS, LOCALHOST, VP8_CODECS } from './helpers/faults-media';
import { sleep, waitFor } from './helpers/mafalda-media';
import { mafaldaPerTest } from './helpers/mafalda-per-test';
import type { types } from 'mediasoup';
import type { Consumer } from '../lib/remote/Consumer';

const sample = (sent: number, arrived?: number): ConsumerSample => ({ sent, arrived });

describe('sink counting rules', () => {
	test('reads outbound-rtp and inbound-rtp packetCount from a consumer reply, inbound-rtp from a producer reply', () => {
		const reply = [
			{ type: 'outbound-rtp', packetCount: 120, ssrc: 1 },
			{ type: 'inbound-rtp', packetCount: 125, ssrc: 2 },
		];
		expect(consumerSample(reply)).toEqual({ sent: 120, arrived: 125 });
		expect(consumerSample([{ type: 'outbound-rtp', packetCount: 7 }])).toEqual({ sent: 7, arrived: undefined });
		expect(consumerSample([])).toEqual({ sent: 0, arrived: undefined });
		// Simulcast producers have one inbound-rtp per stream.
		expect(producerReceived([{ type: 'inbound-rtp', packetCount: 10 }, { type: 'inbound-rtp', packetCount: 5 }, { type: 'outbound-rtp', packetCount: 99 }])).toBe(15);
	});

	test('a consumer that sent all that arrived for it lost nothing; what it did not send is lost', () => {
		const streams = new Map<string, StreamWindow>([['p', { sent: 100, received: 100 }]]);
		const w = countSinkWindow(
			[
				{ producerId: 'p', before: sample(0, 0), after: sample(100, 100) },
				{ producerId: 'p', before: sample(10, 10), after: sample(100, 110) },
			],
			streams,
		);
		expect(w).toMatchObject({ consumers: 2, delivered: 190, lost: 10, silent: 0 });
		expect(w.lossPct).toBeCloseTo(5);
	});

	test('ingress drops (the sender sent more than the producer received) count as loss for every consumer of the stream', () => {
		const streams = new Map<string, StreamWindow>([['p', { sent: 200, received: 100 }]]);
		const w = countSinkWindow([{ producerId: 'p', before: sample(0, 0), after: sample(100, 100) }], streams);
		expect(w).toMatchObject({ delivered: 100, lost: 100 });
		expect(ingressOf(streams.values())).toEqual({ sent: 200, received: 100, lossPct: 50 });
	});

	test('a consumer that sent nothing while its stream was sent is silent and lost everything sent', () => {
		const streams = new Map<string, StreamWindow>([['p', { sent: 80, received: 80 }], ['q', { sent: 0, received: 0 }]]);
		const w = countSinkWindow(
			[
				{ producerId: 'p', before: sample(5, 5), after: sample(5, 85) },
				// A stream nobody sent on (a paused publisher): silence is no loss.
				{ producerId: 'q', before: sample(0, 0), after: sample(0, 0) },
			],
			streams,
		);
		expect(w).toMatchObject({ consumers: 2, delivered: 0, lost: 80, silent: 1, lossPct: 100 });
	});
});

describe('sink receivers with a real worker and real RTP', () => {
	const { start, closers } = mafaldaPerTest();

	test('what mediasoup says it sent to sink consumers matches what a reading receiver got; the kernel dropped the unread packets', async () => {
		const mafalda = start({ numWorkers: 1 });
		const router = await mafalda.createMafaldaRouter({ routerOptions: { mediaCodecs: VP8_CODECS } });
		const producer = await PacedProducer.create(router);
		closers.push(producer);
		const reader = await ReceivingEnd.create(router);
		closers.push(reader);
		const readConsumer = await reader.consume(router, producer.producer);
		const sink = await SinkSocket.bind();
		closers.push(sink);
		const sinkConsumers: Consumer[] = [];
		for (let i = 0; i < 3; i++) {
			const transport = await router.createPlainTransport(PLAIN_OPTIONS as unknown as types.PlainTransportOptions);
			await transport.connect({ ip: LOCALHOST, port: sink.port });
			sinkConsumers.push(await transport.consume({ producerId: producer.producer.id, rtpCapabilities: router.rtpCapabilities }));
		}
		const paused = sinkConsumers[2];
		await paused.pause();

		const snapshot = async (): Promise<{ consumers: ConsumerSample[]; produced: number; sent: number; read: number; readerSent: number }> => ({
			readerSent: consumerSample(await readConsumer.getStats()).sent,
			consumers: await Promise.all(sinkConsumers.map(async (c) => consumerSample(await c.getStats()))),
			produced: producerReceived(await producer.producer.getStats()),
			sent: producer.sent,
			read: reader.received(readConsumer),
		});
		const drops0 = sink.kernelDrops();
		const before = await snapshot();
		// 300 packets at 5 ms, then time for the last ones to arrive.
		for (let i = 0; i < 300; i++) {
			producer.sendOne();
			if (i % 10 === 9) await sleep(5);
		}
		await waitFor(() => reader.received(readConsumer) - before.read >= 290, 'the reading receiver got the packets', 5000);
		// Until the reader has read all that mediasoup says it sent it (a busy machine may hold a few in its socket).
		const sentToReader = async (): Promise<number> => consumerSample(await readConsumer.getStats()).sent;
		const readerSent0 = before.readerSent;
		for (let i = 0; i < 50 && reader.received(readConsumer) - before.read < (await sentToReader()) - readerSent0; i++) await sleep(100);
		const after = await snapshot();

		const streams = new Map<string, StreamWindow>([[producer.producer.id, { sent: after.sent - before.sent, received: after.produced - before.produced }]]);
		const w = countSinkWindow(sinkConsumers.map((c, k) => ({ producerId: producer.producer.id, before: before.consumers[k], after: after.consumers[k] })), streams);
		const readPackets = after.read - before.read;
		// The two sink consumers that play each got what the reading receiver got, as mediasoup counts it.
		expect(w.delivered).toBe(2 * readPackets);
		// The paused one is silent: it lost the whole stream.
		expect(w.silent).toBe(1);
		expect(w.lost).toBeCloseTo(streams.get(producer.producer.id)?.sent ?? -1, 5);
		// Nothing was dropped on the way into the worker over loopback at this rate.
		expect(ingressOf(streams.values()).lossPct).toBe(0);
		// Nobody read the sink socket: past its small queue, the kernel dropped what the worker sent it.
		const drops1 = sink.kernelDrops();
		if (drops0 !== undefined && drops1 !== undefined) expect(drops1 - drops0).toBeGreaterThan(0);
	});
});
