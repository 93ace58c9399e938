// Placement holds a worker's headroom between CPU samples, with real workers
// and real RTP: the host measures CPU over the consumers it carries, the
// balancer derives a cost per consumer from it, and a burst of placements
// within one sampling interval spreads once the projected CPU reaches the
// watermark, while the sampled figure alone would still say "room".
import type { types } from 'mediasoup';
import { SinkSocket } from '../bench/sim/sink-socket';
import type { LoadReport } from '../lib/types';
import { LOCALHOST, PacedProducer, PLAIN_OPTIONS, VP8_CODECS } from './helpers/faults-media';
import { mafaldaPerTest } from './helpers/mafalda-per-test';

const CONSUMERS = 30;
/** How many more units of load the watermark leaves room for, in the worker's measured cost per unit. */
const ROOM_IN_UNITS = 10.5;

const { start, closers } = mafaldaPerTest();

test('a burst of placements between two CPU samples stops at the watermark projected from the worker\'s cost per consumer', async () => {
	// Samples 4 s apart: the burst below fits between two of them even on a busy machine.
	const mafalda = start({ numWorkers: 2, loadReportIntervalMs: 4000 });
	const reports: LoadReport[] = [];
	mafalda.on('loadreport', (r) => reports.push(r));
	const room = await mafalda.createMafaldaRouter({ routerOptions: { mediaCodecs: VP8_CODECS } });

	// Worker 0 carries a stream to 30 consumers (to a socket nobody reads: reading would cost this thread more than the worker).
	const producer = await PacedProducer.create(room);
	closers.push(producer);
	const sink = await SinkSocket.bind();
	closers.push(sink);
	for (let i = 0; i < CONSUMERS; i++) {
		const t = await room.createPlainTransport(PLAIN_OPTIONS as unknown as types.PlainTransportOptions);
		expect(t.workerIndex).toBe(0);
		await t.connect({ ip: LOCALHOST, port: sink.port });
		await t.consume({ producerId: producer.producer.id, rtpCapabilities: room.rtpCapabilities });
	}
	producer.start(2);

	// Wait for a CPU sample taken wholly over the 30 consumers with media flowing.
	const sampled = (): LoadReport | undefined =>
		reports.find((r) => r.workerIndex === 0 && (r.cpuSampleSeq ?? 0) >= 2 && (r.cpuLoad ?? 0) >= CONSUMERS - 0.5 && r.cpuPercent > 0);
	const deadline = Date.now() + 20_000;
	while (!sampled() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
	const sample = sampled();
	expect(sample).toBeDefined();
	const view0 = (await mafalda.supervisor().balancer.loadTable()).find((w) => w.workerIndex === 0);
	if (!view0 || view0.cpuPerLoad === null) throw new Error('no CPU estimate for worker 0');
	expect(view0.cpuPerLoad).toBeGreaterThan(0);

	// Another room whose watermark leaves worker 0 room for 10.5 more units at its measured cost.
	const watermarkWorker = view0.projectedCpuPercent + ROOM_IN_UNITS * view0.cpuPerLoad;
	const other = await mafalda.createMafaldaRouter({ watermarkWorker, routerOptions: { mediaCodecs: VP8_CODECS } });
	const seqBefore = Math.max(...reports.filter((r) => r.workerIndex === 0).map((r) => r.cpuSampleSeq ?? 0));
	const placed: number[] = [];
	for (let i = 0; i < 20; i++) placed.push((await other.createPlainTransport(PLAIN_OPTIONS as unknown as types.PlainTransportOptions)).workerIndex);
	const seqAfter = Math.max(...reports.filter((r) => r.workerIndex === 0).map((r) => r.cpuSampleSeq ?? 0));
	const viewAfter = (await mafalda.supervisor().balancer.loadTable()).find((w) => w.workerIndex === 0);

	// The burst ran between two samples of worker 0.
	expect(seqAfter).toBe(seqBefore);
	// 11 fit under the watermark (10 x cost < 10.5 x cost), the rest went to a second worker.
	const onFirst = placed.filter((w) => w === 0).length;
	expect(placed).toEqual([...Array(onFirst).fill(0), ...Array(20 - onFirst).fill(1)]);
	expect(onFirst).toBe(Math.ceil(ROOM_IN_UNITS));
	// The sampled CPU alone was still under the watermark: the old rule would have kept placing on worker 0.
	expect(viewAfter?.cpuPercent).toBeLessThan(watermarkWorker);
	expect(viewAfter?.projectedCpuPercent).toBeGreaterThanOrEqual(watermarkWorker);
	producer.stop();
});

test('a burst of concurrent placements that fills a worker waits for the worker being started instead of overfilling the full one', async () => {
	const mafalda = start({ numWorkers: 2 });
	const room = await mafalda.createMafaldaRouter({ maxConsumersPerWorker: 4, routerOptions: { mediaCodecs: VP8_CODECS } });
	// 20 at once: the 5th finds worker 0 full and starts worker 1; the 15 after it arrive while that start is under way.
	const transports = await Promise.all(
		Array.from({ length: 20 }, () => room.createPlainTransport(PLAIN_OPTIONS as unknown as types.PlainTransportOptions)),
	);
	const perWorker = [0, 0];
	for (const t of transports) perWorker[t.workerIndex]++;
	expect(perWorker).toEqual([4, 16]);
	expect(mafalda.supervisor().workers()).toHaveLength(2);
});
