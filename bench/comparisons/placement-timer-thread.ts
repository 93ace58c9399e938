// Worker thread entry: times mafalda's placement policy on a copy of a load
// table, in a thread of its own as mafalda's balancer runs in, so the timing
// is not slowed by the bench thread's heap (which holds every consumer proxy).
import { parentPort, workerData } from 'node:worker_threads';
import { LoadTable } from '../../actors/balancer/load-table';
import { PlacementPolicy } from '../../actors/balancer/placement-policy';
import { StreamMap } from '../../actors/balancer/stream-map';
import type { LoadReport, PlaceTransportRequest, WorkerLoadView } from '../../actors/protocol';

export interface PlacementTimerInput {
	view: WorkerLoadView[];
	shardWorkers: number[];
	origin: { producerIds: string[]; workerIndex: number };
	request: PlaceTransportRequest;
	decisions: number;
}

function timeDecisions(input: PlacementTimerInput): number {
	const table = new LoadTable();
	const streams = new StreamMap();
	const policy = new PlacementPolicy(table, streams);
	for (const w of input.view) {
		table.addWorker(w.workerIndex);
		const report: LoadReport = {
			workerIndex: w.workerIndex, seq: 1, at: Date.now(), cpuPercent: w.cpuPercent, routers: 1, transports: w.transports,
			producers: w.producers, consumers: w.consumers, pipeConsumers: w.pipeConsumers, idleTransports: w.idleTransports,
			placedTransports: 0, bitrateIn: null, bitrateOut: null, shards: [],
		};
		table.ingest(report);
	}
	for (const workerIndex of input.shardWorkers) streams.shardOpened(input.request.routerId, workerIndex);
	for (const id of input.origin.producerIds) streams.streamAdded(input.request.routerId, id, input.origin.workerIndex, 0);
	const run = (): void => {
		// Each placement is undone at once, so every decision sees the same table.
		for (let i = 0; i < input.decisions; i++) table.releasePlacement(policy.placeTransport(input.request).workerIndex);
	};
	// Once untimed, so the timing is of optimised code and not the JIT's first pass.
	run();
	const t0 = performance.now();
	run();
	return ((performance.now() - t0) * 1000) / input.decisions;
}

if (parentPort) parentPort.postMessage(timeDecisions(workerData as PlacementTimerInput));
