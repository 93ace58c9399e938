import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/umd/node-adapter';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { BatchedPort } from '../actors/batched-port';
import type { BalancerApi, LoadReport } from '../actors/protocol';
import { BalancerClient } from '../actors/supervisor/balancer-client';

// ts-jest cannot run a TS thread entry: the thread runs the build in dist/.
const ENTRY = path.resolve(__dirname, '../dist/actors/balancer/balancer-actor.js');

function report(workerIndex: number, seq: number, fields: Partial<LoadReport> = {}): LoadReport {
	return {
		workerIndex, seq, at: Date.now(), cpuPercent: 0, routers: 0, transports: 0, producers: 0, consumers: 0,
		pipeConsumers: 0, idleTransports: 0, placedTransports: 0, bitrateIn: null, bitrateOut: null, shards: [],
		...fields,
	};
}

test('the balancer thread places transports from the reports that ride with the calls reading its table', async () => {
	const thread = new Worker(ENTRY);
	const balancer = new BalancerClient(Comlink.wrap<BalancerApi>(nodeEndpoint(new BatchedPort(thread))));
	try {
		// A report of a worker the balancer does not have yet waits until it has it.
		balancer.report(report(1, 1, { consumers: 6 }));
		for (const index of [0, 1]) await balancer.addWorker(index);
		const watermarks = { watermarkWorker: 80, maxConsumersPerWorker: 10 };

		balancer.report(report(0, 1, { consumers: 3 }));
		let table = await balancer.loadTable();
		expect(table.map((v) => [v.workerIndex, v.lastReportSeq, v.consumers])).toEqual([[0, 1, 3], [1, 1, 6]]);
		expect(await balancer.placeTransport({ routerId: 'room', maxWorkers: 2, ...watermarks })).toEqual({
			workerIndex: 1, openShard: true, overloaded: false, rule: 'most-loaded-under-watermark',
		});

		// Only the latest report of a worker goes; a stale one sent directly is ignored there.
		balancer.report(report(1, 2, { consumers: 1 }));
		balancer.report(report(1, 3, { consumers: 6, cpuPercent: 95 }));
		await balancer.ingestReports([report(1, 1, { consumers: 0 })]);
		table = await balancer.loadTable();
		expect(table[1]).toMatchObject({ consumers: 6, cpuPercent: 95, pending: 1, load: 7, lastReportSeq: 3 });
		expect(await balancer.placeTransport({ routerId: 'room', maxWorkers: 2, ...watermarks })).toMatchObject({
			workerIndex: 0, overloaded: false,
		});

		// Input that is not a report (it may come from the network) moves nothing.
		await balancer.ingestReports([{ workerIndex: 0, seq: 'x' }, null, report(7, 1)]);
		expect((await balancer.loadTable())[0]).toMatchObject({ lastReportSeq: 1, consumers: 3 });

		// A removed worker's held report is dropped with it.
		balancer.report(report(1, 4, { consumers: 2 }));
		await balancer.removeWorker(1);
		await balancer.addWorker(1);
		expect((await balancer.loadTable()).map((v) => [v.workerIndex, v.lastReportSeq])).toEqual([[0, 1], [1, 0]]);
	} finally {
		balancer.release();
		await thread.terminate();
	}
});

test('a CPU sample reaches the balancer even when a later report of the same sample replaced it', async () => {
	const thread = new Worker(ENTRY);
	const balancer = new BalancerClient(Comlink.wrap<BalancerApi>(nodeEndpoint(new BatchedPort(thread))));
	try {
		await balancer.addWorker(0);
		balancer.report(report(0, 1, { consumers: 100, cpuPercent: 0, cpuSampleSeq: 0 }));
		await balancer.loadTable();
		// The sample: 40% CPU over a load of 100; then 50 more consumers, in the same sample period.
		balancer.report(report(0, 2, { consumers: 100, cpuPercent: 40, cpuSampleSeq: 1, cpuLoad: 100 }));
		balancer.report(report(0, 3, { consumers: 150, cpuPercent: 40, cpuSampleSeq: 1, cpuLoad: 100 }));
		const [view] = await balancer.loadTable();
		expect(view).toMatchObject({ lastReportSeq: 3, consumers: 150, cpuSampleSeq: 1 });
		// Projected from the load the sample was measured on (100), not the latest (150).
		expect(view.projectedCpuPercent).toBeCloseTo(60, 5);
	} finally {
		balancer.release();
		await thread.terminate();
	}
});
