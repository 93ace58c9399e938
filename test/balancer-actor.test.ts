import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/umd/node-adapter';
import * as path from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { BalancerApi, LoadReport, WorkerLoadView } from '../actors/protocol';

// ts-jest cannot run a TS thread entry: the thread runs the build in dist/.
const ENTRY = path.resolve(__dirname, '../dist/actors/balancer/balancer-actor.js');

function report(workerIndex: number, seq: number, fields: Partial<LoadReport> = {}): LoadReport {
	return {
		workerIndex, seq, at: Date.now(), cpuPercent: 0, routers: 0, transports: 0, producers: 0, consumers: 0,
		pipeConsumers: 0, idleTransports: 0, placedTransports: 0, bitrateIn: null, bitrateOut: null, shards: [],
		...fields,
	};
}

async function until(
	balancer: Comlink.Remote<BalancerApi>,
	done: (table: WorkerLoadView[]) => boolean,
): Promise<WorkerLoadView[]> {
	const deadline = Date.now() + 5000;
	for (;;) {
		const table = await balancer.loadTable();
		if (done(table)) return table;
		if (Date.now() > deadline) throw new Error(`load table never matched: ${JSON.stringify(table)}`);
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}

test('the balancer thread places transports from the reports posted on its worker ports', async () => {
	const thread = new Worker(ENTRY);
	const balancer = Comlink.wrap<BalancerApi>(nodeEndpoint(thread));
	const channels = [new MessageChannel(), new MessageChannel()];
	try {
		for (const [index, { port2 }] of channels.entries()) {
			await balancer.addWorker(index, Comlink.transfer(port2, [port2]));
		}
		const watermarks = { watermarkWorker: 80, maxConsumersPerWorker: 10 };

		channels[0].port1.postMessage(report(0, 1, { consumers: 3 }));
		channels[1].port1.postMessage(report(1, 1, { consumers: 6 }));
		await until(balancer, (t) => t[0]?.lastReportSeq === 1 && t[1]?.lastReportSeq === 1);
		expect(await balancer.placeTransport({ routerId: 'room', maxWorkers: 2, ...watermarks })).toEqual({
			workerIndex: 1, openShard: true, overloaded: false, rule: 'most-loaded-under-watermark',
		});

		// A stale report, then a newer one saying worker 1 is over by CPU; the port keeps their order.
		channels[1].port1.postMessage(report(1, 1, { consumers: 0 }));
		channels[1].port1.postMessage(report(1, 2, { consumers: 6, cpuPercent: 95 }));
		const table = await until(balancer, (t) => t[1]?.lastReportSeq === 2);
		expect(table[1]).toMatchObject({ consumers: 6, cpuPercent: 95, pending: 1, load: 7 });
		expect(await balancer.placeTransport({ routerId: 'room', maxWorkers: 2, ...watermarks })).toMatchObject({
			workerIndex: 0, overloaded: false,
		});

		const closed = new Promise<void>((resolve) => channels[1].port1.once('close', () => resolve()));
		await balancer.removeWorker(1);
		await closed;
		expect((await balancer.loadTable()).map((v) => v.workerIndex)).toEqual([0]);
	} finally {
		for (const { port1 } of channels) port1.close();
		await thread.terminate();
	}
});
