import Redis from 'ioredis';
import { LoadTable } from '../../actors/balancer/load-table';
import { NodeMap } from '../../actors/balancer/node-map';
import { PlacementPolicy } from '../../actors/balancer/placement-policy';
import { StreamMap } from '../../actors/balancer/stream-map';
import type { ObjectRef, ProducerIndexEntry, Watermarks } from '../../actors/protocol';
import { ProducerIndex } from '../../lib/cluster/producer-index';
import { RedisKeys } from '../../lib/cluster/redis-keys';
import { startRedis } from '../cluster/hosts';
import { Args, runMain } from '../cli/args';
import { percentile } from '../media/udp-peers';
import { machineInfo, machineLine } from '../report/machine';
import { writeJsonResult } from '../report/results-file';
import { renderTable } from '../report/table';

export interface ClusterSimOptions {
	nodes: number;
	workersPerNode: number;
	viewers: number;
	rooms: number;
	/** Controllers (signalling servers) the joins are spread over, round robin. */
	controllers: number;
	maxConsumersPerWorker: number;
}

export const CLUSTER_SIM_DEFAULTS: ClusterSimOptions = {
	nodes: 1000,
	workersPerNode: 16,
	viewers: 1_000_000,
	rooms: 500,
	controllers: 10,
	maxConsumersPerWorker: 500,
};

export interface ClusterSimResult extends ClusterSimOptions {
	roomSizes: { largest: number; smallest: number };
	decisions: number;
	seconds: number;
	decisionsPerSecond: number;
	placementP50Us: number;
	placementP99Us: number;
	placementMaxUs: number;
	redisCommandsPerJoin: number;
	pipes: number;
	maxTreeDepth: number;
	/** Pipes out of a node (stream x destination worker), over the nodes that send any. */
	fanOutPerNodeMean: number;
	fanOutPerNodeMax: number;
	nodesUsed: number;
	overloadedPlacements: number;
	/** Workers carrying a room's stream (its shards), mean over the rooms and for the largest room. */
	workersPerRoomMean: number;
	largestRoomWorkers: number;
}

/** Mixed sizes summing to `viewers`: a fifth of them in one room, a fifth in four, 45% in 9% of the rooms, the rest spread thin. */
export function roomSizes(viewers: number, rooms: number): number[] {
	const sizes: number[] = [];
	const add = (count: number, share: number): void => {
		const each = Math.floor((viewers * share) / count);
		for (let i = 0; i < count; i++) sizes.push(each);
	};
	const mid = Math.max(1, Math.round(rooms * 0.09));
	add(1, 0.2);
	add(4, 0.2);
	add(mid, 0.45);
	const rest = rooms - sizes.length;
	const left = viewers - sizes.reduce((a, b) => a + b, 0);
	for (let i = 0; i < rest; i++) sizes.push(Math.floor(left / rest) + (i < left % rest ? 1 : 0));
	return sizes;
}

/**
 * The real balancer (LoadTable, StreamMap, NodeMap, PlacementPolicy) over
 * simulated nodes (no media, no processes): every viewer's transport placed,
 * its stream piped to its worker when needed (the real pipe-source choice),
 * and the real producer index in a real Redis, read by the controllers the
 * joins are spread over. Load is what the balancer counts itself (its
 * pending placements and pipes): no load reports.
 */
export async function runClusterSim(o: ClusterSimOptions, log: (s: string) => void = console.log): Promise<ClusterSimResult> {
	const table = new LoadTable();
	const streams = new StreamMap();
	const nodes = new NodeMap();
	const policy = new PlacementPolicy(table, streams, nodes);
	const nodeOf: number[] = [];
	for (let n = 0; n < o.nodes; n++) {
		for (let w = 0; w < o.workersPerNode; w++) {
			const index = n * o.workersPerNode + w;
			table.addWorker(index);
			nodes.set(index, `node-${n}`);
			nodeOf[index] = n;
		}
	}
	const sizes = roomSizes(o.viewers, o.rooms);
	const redis = await startRedis();
	const client = new Redis(redis.url);
	const keys = new RedisKeys(`mafalda-sim-${process.pid}:`);
	const index = new ProducerIndex(client, keys);
	const watermarks: Watermarks = { watermarkWorker: 100, maxConsumersPerWorker: o.maxConsumersPerWorker };
	const times = new Float64Array(o.viewers + o.rooms);
	let decisions = 0;
	let overloaded = 0;
	let pipes = 0;
	let maxDepth = 0;
	const fanOut = new Map<number, number>();
	const known: Array<Set<string>> = Array.from({ length: o.controllers }, () => new Set());
	try {
		const before = redis.commands();
		const started = process.hrtime.bigint();
		const startedMs = Date.now();
		// Each room's producer first (its node writes the index entry), then the viewers, rooms interleaved as joins arrive.
		const ref = (id: string): ObjectRef => ({ id, kind: 'producer', snapshot: {} } as unknown as ObjectRef);
		for (let r = 0; r < sizes.length; r++) {
			const t0 = process.hrtime.bigint();
			const placement = policy.placeTransport({ routerId: `room-${r}`, maxWorkers: 1024, ...watermarks });
			streams.streamAdded(`room-${r}`, `p-${r}`, placement.workerIndex, 0);
			times[decisions++] = Number(process.hrtime.bigint() - t0) / 1000;
			const entry: ProducerIndexEntry = { producerId: `p-${r}`, routerId: `room-${r}`, nodeId: `node-${nodeOf[placement.workerIndex]}`, worker: placement.workerIndex % o.workersPerNode, shardId: `s-${r}`, ref: ref(`p-${r}`) };
			await index.put(entry);
		}
		const remaining = [...sizes];
		let joined = 0;
		let lastLog = Date.now();
		while (joined < o.viewers) {
			for (let r = 0; r < remaining.length && joined < o.viewers; r++) {
				if (remaining[r] === 0) continue;
				// A join of a big room takes several viewers per round, so rooms fill at rates that follow their sizes.
				const batch = Math.max(1, Math.min(remaining[r], Math.round(sizes[r] / 1000)));
				for (let b = 0; b < batch; b++) {
					const controller = joined % o.controllers;
					const producerId = `p-${r}`;
					if (!known[controller].has(producerId)) {
						// A producer another controller made: one GET, once per controller.
						if (!(await index.get(producerId))) throw new Error(`producer ${producerId} missing from the index`);
						known[controller].add(producerId);
					}
					const t0 = process.hrtime.bigint();
					const placement = policy.placeTransport({ routerId: `room-${r}`, maxWorkers: 1024, ...watermarks });
					if (placement.overloaded) overloaded++;
					const carriers = streams.carriers(producerId);
					if (!carriers?.has(placement.workerIndex)) {
						const source = policy.choosePipeSource({ producerId, destWorker: placement.workerIndex, ...watermarks });
						streams.streamAdded(`room-${r}`, producerId, placement.workerIndex, source.depth + 1);
						// The pipe consumer on the source is a unit of its load.
						table.recordPlacement(source.workerIndex);
						pipes++;
						maxDepth = Math.max(maxDepth, source.depth + 1);
						if (nodeOf[source.workerIndex] !== nodeOf[placement.workerIndex]) fanOut.set(nodeOf[source.workerIndex], (fanOut.get(nodeOf[source.workerIndex]) ?? 0) + 1);
					}
					times[decisions++] = Number(process.hrtime.bigint() - t0) / 1000;
					remaining[r]--;
					joined++;
				}
			}
			if (Date.now() - lastLog > 5000) {
				lastLog = Date.now();
				log(`  ${joined.toLocaleString('en-US')} viewers placed, ${pipes.toLocaleString('en-US')} pipes, ${((Date.now() - startedMs) / 1000).toFixed(0)} s`);
			}
		}
		const seconds = Number(process.hrtime.bigint() - started) / 1e9;
		const redisCommands = redis.commands() - before;
		const sorted = Float64Array.from(times.subarray(0, decisions)).sort();
		const fan = [...fanOut.values()];
		const used = new Set<number>();
		for (const w of table.indices()) if (table.load(w) > 0) used.add(nodeOf[w]);
		const roomWorkers = sizes.map((_, r) => streams.shardWorkers(`room-${r}`).size);
		const largest = sizes.indexOf(Math.max(...sizes));
		return {
			...o,
			roomSizes: { largest: Math.max(...sizes), smallest: Math.min(...sizes) },
			decisions,
			seconds,
			decisionsPerSecond: decisions / seconds,
			placementP50Us: percentile(Array.from(sorted), 50),
			placementP99Us: percentile(Array.from(sorted), 99),
			placementMaxUs: sorted[sorted.length - 1],
			redisCommandsPerJoin: redisCommands / o.viewers,
			pipes,
			maxTreeDepth: maxDepth,
			fanOutPerNodeMean: fan.length ? fan.reduce((a, b) => a + b, 0) / fan.length : 0,
			fanOutPerNodeMax: fan.length ? Math.max(...fan) : 0,
			nodesUsed: used.size,
			overloadedPlacements: overloaded,
			workersPerRoomMean: roomWorkers.reduce((a, b) => a + b, 0) / roomWorkers.length,
			largestRoomWorkers: roomWorkers[largest],
		};
	} finally {
		client.disconnect();
		await redis.stop();
	}
}

export function clusterSimTable(r: ClusterSimResult): string {
	return renderTable(['figure', 'value'], [
		['simulated cluster', `${r.nodes} nodes x ${r.workersPerNode} workers, ${r.maxConsumersPerWorker} units per worker`],
		['viewers, rooms (largest / smallest)', `${r.viewers.toLocaleString('en-US')} in ${r.rooms} (${r.roomSizes.largest.toLocaleString('en-US')} / ${r.roomSizes.smallest.toLocaleString('en-US')})`],
		['decisions (placements + pipe sources)', `${r.decisions.toLocaleString('en-US')} in ${r.seconds.toFixed(1)} s: ${Math.round(r.decisionsPerSecond).toLocaleString('en-US')} per second`],
		['placement time p50 / p99 / max', `${r.placementP50Us.toFixed(1)} / ${r.placementP99Us.toFixed(1)} / ${r.placementMaxUs.toFixed(0)} µs`],
		['Redis commands per join', r.redisCommandsPerJoin.toFixed(4)],
		['pipes, deepest tree', `${r.pipes.toLocaleString('en-US')}, depth ${r.maxTreeDepth}`],
		['pipes out of a node to other nodes, mean / max', `${r.fanOutPerNodeMean.toFixed(1)} / ${r.fanOutPerNodeMax}`],
		['workers carrying a room\'s stream, mean / largest room', `${r.workersPerRoomMean.toFixed(1)} / ${r.largestRoomWorkers}`],
		['nodes used, overloaded placements', `${r.nodesUsed}, ${r.overloadedPlacements}`],
	]);
}

if (require.main === module) {
	runMain(async () => {
		const args = new Args();
		if (args.help) {
			console.log('node dist/bench/comparisons/cluster-sim.js [--nodes N] [--workers-per-node N] [--viewers N] [--rooms N] [--controllers N] [--max-per-worker N]');
			return;
		}
		const d = CLUSTER_SIM_DEFAULTS;
		const o: ClusterSimOptions = {
			nodes: args.num('nodes', d.nodes),
			workersPerNode: args.num('workers-per-node', d.workersPerNode),
			viewers: args.num('viewers', d.viewers),
			rooms: args.num('rooms', d.rooms),
			controllers: args.num('controllers', d.controllers),
			maxConsumersPerWorker: args.num('max-per-worker', d.maxConsumersPerWorker),
		};
		args.assertAllKnown();
		console.log(`machine: ${machineLine(machineInfo())}`);
		const result = await runClusterSim(o);
		console.log(clusterSimTable(result));
		console.log(`wrote ${writeJsonResult('cluster-sim', { machine: machineInfo(), ...result })}`);
	});
}
