import { MIN_LOAD_FOR_CPU_ESTIMATE } from '../actors/balancer/load-table';
import { report, setup } from './helpers/balancer-tables';
import type { Watermarks } from '../actors/protocol';

// The rule "hold a worker's headroom between CPU samples", on plain data: the
// decision logic alone. test/balancer-headroom-media.test.ts checks it with
// real workers and real RTP.

const WATERMARKS: Watermarks = { watermarkWorker: 60, maxConsumersPerWorker: 100_000 };

describe('CPU projected between samples', () => {
	test('consumers created after a sample add their measured cost to the CPU the watermark compares', () => {
		const { table } = setup(1);
		table.ingest(report(0, 1, { cpuPercent: 40, consumers: 100, cpuSampleSeq: 1, cpuLoad: 100 }));
		expect(table.projectedCpuPercent(0)).toBeCloseTo(40);
		expect(table.isOver(0, WATERMARKS)).toBe(false);
		// A report between samples: fresh counts, the same CPU figure.
		table.ingest(report(0, 2, { cpuPercent: 40, consumers: 150, cpuSampleSeq: 1, cpuLoad: 100 }));
		expect(table.cpuPercent(0)).toBe(40);
		expect(table.projectedCpuPercent(0)).toBeCloseTo(60);
		expect(table.isOver(0, WATERMARKS)).toBe(true);
		// The next sample measured them: the projection starts from it again.
		table.ingest(report(0, 3, { cpuPercent: 55, consumers: 150, cpuSampleSeq: 2, cpuLoad: 150 }));
		expect(table.projectedCpuPercent(0)).toBeCloseTo(55);
		expect(table.view()[0]).toMatchObject({ cpuSampleSeq: 2, projectedCpuPercent: 55 });
		expect(table.view()[0].cpuPerLoad).toBeCloseTo(55 / 150);
	});

	test('a burst of placements stops at the watermark before any new sample arrives', () => {
		const { table, streams, policy } = setup(2);
		streams.streamAdded('room', 'p1', 0, 0);
		table.ingest(report(0, 1, { cpuPercent: 40, consumers: 100, cpuSampleSeq: 1, cpuLoad: 100 }));
		table.ingest(report(1, 1, { cpuPercent: 1, consumers: 0, cpuSampleSeq: 1, cpuLoad: 0 }));
		const request = { routerId: 'room', maxWorkers: 2, ...WATERMARKS };
		const placed: number[] = [];
		for (let i = 0; i < 80; i++) placed.push(policy.placeTransport(request).workerIndex);
		// 0.4% per unit of load: 50 more units take worker 0 from 40% to 60%.
		expect(placed.slice(0, 50).every((w) => w === 0)).toBe(true);
		expect(placed.slice(50).every((w) => w === 1)).toBe(true);
	});

	test('without the projection the same burst would have stayed on the worker (the old rule read only the sample)', () => {
		const { table } = setup(1);
		table.ingest(report(0, 1, { cpuPercent: 40, consumers: 100, cpuSampleSeq: 1, cpuLoad: 100 }));
		for (let i = 0; i < 80; i++) table.recordPlacement(0);
		expect(table.cpuPercent(0)).toBeLessThan(WATERMARKS.watermarkWorker);
		expect(table.projectedCpuPercent(0)).toBeCloseTo(72);
	});

	test('a sample over too little load gives no estimate; a new worker borrows the others\' mean', () => {
		const { table } = setup(3);
		table.ingest(report(0, 1, { cpuPercent: 3, consumers: 2, cpuSampleSeq: 1, cpuLoad: MIN_LOAD_FOR_CPU_ESTIMATE - 1 }));
		expect(table.cpuPerLoad(0)).toBeUndefined();
		table.recordPlacement(0);
		expect(table.projectedCpuPercent(0)).toBe(3);
		table.ingest(report(1, 1, { cpuPercent: 30, consumers: 100, cpuSampleSeq: 1, cpuLoad: 100 }));
		table.ingest(report(2, 1, { cpuPercent: 50, consumers: 100, cpuSampleSeq: 1, cpuLoad: 100 }));
		expect(table.cpuPerLoad(0)).toBeCloseTo(0.4);
		// One pending placement since worker 0's sample: 3% + 1 x 0.4%.
		expect(table.projectedCpuPercent(0)).toBeCloseTo(3.4);
	});

	test('consumers closed since the sample lower the projection, never below zero', () => {
		const { table } = setup(1);
		table.ingest(report(0, 1, { cpuPercent: 20, consumers: 100, cpuSampleSeq: 1, cpuLoad: 100 }));
		table.ingest(report(0, 2, { cpuPercent: 20, consumers: 50, cpuSampleSeq: 1, cpuLoad: 100 }));
		expect(table.projectedCpuPercent(0)).toBeCloseTo(10);
		table.ingest(report(0, 3, { cpuPercent: 20, consumers: 0, idleTransports: 0, cpuSampleSeq: 1, cpuLoad: 100 }));
		expect(table.projectedCpuPercent(0)).toBe(0);
	});

	test('a report without sample fields (an older host) keeps the sampled figure as it was', () => {
		const { table } = setup(1);
		table.ingest(report(0, 1, { cpuPercent: 70, consumers: 10 }));
		table.recordPlacement(0);
		expect(table.projectedCpuPercent(0)).toBe(70);
		expect(table.isOver(0, WATERMARKS)).toBe(true);
	});
});
