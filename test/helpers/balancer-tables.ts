// Plain-data fixtures for the balancer's decision logic: load reports as a
// worker host would post them, and a policy over a fresh load table.
import { LoadTable } from '../../actors/balancer/load-table';
import { PlacementPolicy } from '../../actors/balancer/placement-policy';
import { StreamMap } from '../../actors/balancer/stream-map';
import type { LoadReport } from '../../actors/protocol';

export function report(workerIndex: number, seq: number, fields: Partial<LoadReport> = {}): LoadReport {
	return {
		workerIndex,
		seq,
		at: Date.now(),
		cpuPercent: 0,
		routers: 0,
		transports: 0,
		producers: 0,
		consumers: 0,
		pipeConsumers: 0,
		idleTransports: 0,
		placedTransports: 0,
		bitrateIn: null,
		bitrateOut: null,
		shards: [],
		...fields,
	};
}

export function setup(workers: number): { table: LoadTable; streams: StreamMap; policy: PlacementPolicy } {
	const table = new LoadTable();
	const streams = new StreamMap();
	for (let i = 0; i < workers; i++) table.addWorker(i);
	return { table, streams, policy: new PlacementPolicy(table, streams) };
}
