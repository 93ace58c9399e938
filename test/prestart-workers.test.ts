// prestartWorkers: the workers are up before the first room, so the first
// join does not wait for a thread and a mediasoup Worker to start. Checked by
// worker count and state (timings on a shared machine say nothing).
import * as mediasoup from 'mediasoup';
import { Mafalda, type Worker } from '../lib';
import { isAlive, mediasoupWorkerPids, waitFor } from './helpers/faults-process';
import { LOCALHOST } from './helpers/mafalda-media';

let mafalda: Mafalda | undefined;

afterEach(async () => {
	await mafalda?.close();
	mafalda = undefined;
});

test('prestartWorkers: 2 has both workers running before any router, with the instance workerSettings; the first rooms start none', async () => {
	const rtcMinPort = 41_000;
	const rtcMaxPort = 41_999;
	mafalda = new Mafalda(mediasoup, { numWorkers: 2, prestartWorkers: 2, workerSettings: { rtcMinPort, rtcMaxPort, appData: { ignored: true } } });
	const started: number[] = [];
	mafalda.on('workerstarted', (info) => started.push(info.workerIndex));
	const seen: Worker[] = [];
	mafalda.observer.on('newworker', (w) => seen.push(w));
	await mafalda.ready();
	expect(started.sort()).toEqual([0, 1]);
	// Up and running, with no router made: both workers, their mediasoup processes alive.
	expect(mafalda.mafaldaRouters.size).toBe(0);
	expect([...mafalda.workers.values()].map((w) => [w.index, w.closed])).toEqual([
		[0, false],
		[1, false],
	]);
	expect(seen).toEqual([...mafalda.workers.values()]);
	const pids = [...mafalda.workers.values()].map((w) => w.pid);
	expect(pids.every(isAlive)).toBe(true);
	expect(mediasoupWorkerPids().filter((pid) => pids.includes(pid)).sort()).toEqual([...pids].sort());
	expect((await mafalda.getResourceUsages()).size).toBe(2);
	// ready() again is the same start, not another one.
	await mafalda.ready();
	expect(mafalda.workers.size).toBe(2);

	// Two rooms, each spread over both workers: no worker starts for them.
	for (let room = 0; room < 2; room++) {
		const router = await mafalda.createMafaldaRouter({ maxConsumersPerWorker: 1 });
		const a = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: LOCALHOST } });
		const b = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: LOCALHOST } });
		expect(new Set([a.workerIndex, b.workerIndex])).toEqual(new Set([0, 1]));
		// The prestarted workers run with the instance's workerSettings.
		for (const t of [a, b]) expect(t.tuple.localPort).toBeGreaterThanOrEqual(rtcMinPort);
		for (const t of [a, b]) expect(t.tuple.localPort).toBeLessThanOrEqual(rtcMaxPort);
	}
	expect(started).toEqual([0, 1]);
	expect([...mafalda.workers.values()].map((w) => w.pid)).toEqual(pids);
}, 60_000);

test('without prestartWorkers nothing starts until ready() or the first room; ready() then starts one', async () => {
	mafalda = new Mafalda(mediasoup, { numWorkers: 2 });
	await new Promise((resolve) => setTimeout(resolve, 200));
	expect(mafalda.workers.size).toBe(0);
	expect(mediasoupWorkerPids([process.pid])).toEqual([]);
	await mafalda.ready();
	expect(mafalda.workers.size).toBe(1);
	const [worker] = mafalda.workers.values();
	expect(isAlive(worker.pid)).toBe(true);
	const router = await mafalda.createMafaldaRouter();
	expect([...router.routers.values()].map((r) => r.workerIndex)).toEqual([0]);
	expect(mafalda.workers.size).toBe(1);
});

test('closing an instance while it prestarts leaves no worker behind, and ready() says it closed', async () => {
	mafalda = new Mafalda(mediasoup, { numWorkers: 2, prestartWorkers: 2 });
	const ready = mafalda.ready();
	await mafalda.close();
	await expect(ready).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_MAFALDA_(CLOSED|WORKER_DIED)$/) });
	await waitFor(() => mediasoupWorkerPids([process.pid]).length === 0, 'no mediasoup worker left', 10_000);
	expect(mafalda.workers.size).toBe(0);
});
