import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { Mafalda } from '../../lib';
import { publishVideo, sendVideo, view, type Publisher, type Viewer } from '../../test/helpers/mafalda-media';
import { type HostNetwork, makeHosts, type NodeProcess, type RedisServer, startNode, startRedis } from '../cluster/hosts';
import { Args, runMain } from '../cli/args';
import { percentile } from '../media/udp-peers';
import { machineInfo, machineLine } from '../report/machine';
import { writeJsonResult } from '../report/results-file';
import { renderTable } from '../report/table';
import { loadMediasoup } from '../sfu/mediasoup-loader';

export interface ClusterBenchOptions {
	/** Viewers per node: node A takes this many (with the publisher), then B, then C. */
	viewersPerNode: number;
	rpcSamples: number;
}

export const CLUSTER_DEFAULTS: ClusterBenchOptions = { viewersPerNode: 10, rpcSamples: 200 };

export interface ClusterBenchResult extends ClusterBenchOptions {
	mode: HostNetwork['mode'];
	rpcP50Ms: number;
	rpcP99Ms: number;
	redisPingP50Ms: number;
	/** One-way latency of viewers on the producer's node (no pipe) and on nodes behind one pipe hop. */
	latencyDirectP50Ms: number;
	latencyPipedP50Ms: number;
	addedPerHopP50Ms: number;
	joinToFirstPacketP50Ms: number;
	joinToFirstPacketP99Ms: number;
	/** Redis commands during the joins, less the heartbeats of an idle window as long, per join. */
	redisCommandsPerJoin: number;
	viewersByNode: Record<string, number>;
}

const NODE_IDS = ['bench-a', 'bench-b', 'bench-c'];

const median = (xs: number[]): number => percentile([...xs].sort((a, b) => a - b), 50);

/**
 * Three mafalda-node processes on this machine (one worker each, network
 * namespaces as root, loopback addresses otherwise), one controller in this
 * process, a broadcast that fills node A, then B, then C.
 */
export async function runClusterBench(o: ClusterBenchOptions, log: (s: string) => void = console.log): Promise<ClusterBenchResult> {
	const network = makeHosts(3, NODE_IDS);
	const secret = randomBytes(16).toString('hex');
	const keyPrefix = `mafalda-bench-${process.pid}:`;
	let redis: RedisServer | undefined;
	const nodes: NodeProcess[] = [];
	let mafalda: Mafalda | undefined;
	const sockets: Array<{ close(): Promise<void> }> = [];
	try {
		redis = await startRedis(network.mode === 'netns' ? network.testAddress : undefined);
		for (const [i, nodeId] of NODE_IDS.entries()) nodes.push(await startNode(network.hosts[i], { redisUrl: redis.url, secret, keyPrefix, nodeId }));
		log(`cluster: 3 nodes (${network.mode}), Redis on port ${redis.port}`);
		mafalda = new Mafalda(loadMediasoup(), { numWorkers: 0, cluster: { redis: redis.url, secret, keyPrefix, pollIntervalMs: 200 } });
		const deadline = Date.now() + 10_000;
		while (mafalda.workers.size < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
		if (mafalda.workers.size < 3) throw new Error(`the controller saw ${mafalda.workers.size} of 3 node workers`);

		const rpc: number[] = [];
		const worker = [...mafalda.workers.values()][0];
		for (let i = 0; i < o.rpcSamples; i++) {
			const t0 = process.hrtime.bigint();
			await worker.getResourceUsage();
			rpc.push(Number(process.hrtime.bigint() - t0) / 1e6);
		}
		const client = new Redis(redis.url);
		const ping: number[] = [];
		for (let i = 0; i < o.rpcSamples; i++) {
			const t0 = process.hrtime.bigint();
			await client.ping();
			ping.push(Number(process.hrtime.bigint() - t0) / 1e6);
		}
		client.disconnect();

		// The publisher's transport is one unit of A's load, so A takes viewersPerNode - 1 viewers... plus one consumer per viewer.
		const router = await mafalda.createMafaldaRouter({ maxConsumersPerWorker: o.viewersPerNode, routerOptions: { mediaCodecs: [{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 }] } });
		const pub: Publisher = await publishVideo(router, 0x5151, network.testAddress);
		sockets.push(pub.sender);
		let sending = true;
		const feed = (async () => {
			while (sending) await sendVideo(pub, 10, 10);
		})();
		const viewers: Viewer[] = [];
		const joins: number[] = [];
		const nodeOf = new Map([...mafalda.workers.values()].map((w) => [(w as unknown as { handle: { index: number } }).handle.index, w.nodeId ?? '?']));
		// Heartbeats and load reports go on during the joins: an idle window as long is measured after, and taken off.
		const callsBefore = redis.commands();
		const joinStart = Date.now();
		const total = 3 * o.viewersPerNode - 1;
		for (let i = 0; i < total; i++) {
			const t0 = process.hrtime.bigint();
			const v = await view(router, pub.producer.id, network.testAddress);
			sockets.push(v.receiver);
			viewers.push(v);
			await v.receiver.waitForPackets(1, 10_000);
			joins.push(Number(process.hrtime.bigint() - t0) / 1e6);
		}
		const joinMs = Date.now() - joinStart;
		const joinCalls = redis.commands() - callsBefore;
		const idleBefore = redis.commands();
		await new Promise((r) => setTimeout(r, joinMs));
		const idleCalls = redis.commands() - idleBefore;
		sending = false;
		await feed;
		await sendVideo(pub, 100, 5);
		await new Promise((r) => setTimeout(r, 300));

		const producerNode = nodeOf.get(pub.producer.workerIndex);
		const direct: number[] = [];
		const piped: number[] = [];
		const viewersByNode: Record<string, number> = {};
		for (const v of viewers) {
			const node = nodeOf.get(v.consumer.workerIndex) ?? '?';
			viewersByNode[node] = (viewersByNode[node] ?? 0) + 1;
			(node === producerNode ? direct : piped).push(...v.receiver.latencies.slice(-100));
		}
		const joinsSorted = [...joins].sort((a, b) => a - b);
		const rpcSorted = [...rpc].sort((a, b) => a - b);
		return {
			...o,
			mode: network.mode,
			rpcP50Ms: percentile(rpcSorted, 50),
			rpcP99Ms: percentile(rpcSorted, 99),
			redisPingP50Ms: median(ping),
			latencyDirectP50Ms: median(direct),
			latencyPipedP50Ms: median(piped),
			addedPerHopP50Ms: median(piped) - median(direct),
			joinToFirstPacketP50Ms: percentile(joinsSorted, 50),
			joinToFirstPacketP99Ms: percentile(joinsSorted, 99),
			redisCommandsPerJoin: Math.max(0, joinCalls - idleCalls) / total,
			viewersByNode,
		};
	} finally {
		await mafalda?.close().catch(() => undefined);
		await Promise.allSettled(sockets.map((s) => s.close()));
		await Promise.allSettled(nodes.map((n) => n.stop('SIGTERM')));
		await redis?.stop();
		network.destroy();
	}
}

export function clusterTable(r: ClusterBenchResult): string {
	return renderTable(['figure', 'value'], [
		['hosts', r.mode === 'netns' ? 'network namespaces' : 'loopback addresses'],
		['viewers by node', Object.entries(r.viewersByNode).map(([n, c]) => `${n} ${c}`).join(', ')],
		['control RPC round trip p50 / p99', `${r.rpcP50Ms.toFixed(2)} / ${r.rpcP99Ms.toFixed(2)} ms`],
		['Redis PING round trip p50', `${r.redisPingP50Ms.toFixed(3)} ms`],
		['one-way latency, producer node / one pipe hop away (p50)', `${r.latencyDirectP50Ms.toFixed(2)} / ${r.latencyPipedP50Ms.toFixed(2)} ms`],
		['added per pipe hop between machines (p50)', `${r.addedPerHopP50Ms.toFixed(2)} ms`],
		['join to first packet p50 / p99', `${r.joinToFirstPacketP50Ms.toFixed(1)} / ${r.joinToFirstPacketP99Ms.toFixed(1)} ms`],
		['Redis commands per consumer join', r.redisCommandsPerJoin.toFixed(2)],
	]);
}

if (require.main === module) {
	runMain(async () => {
		const args = new Args();
		if (args.help) {
			console.log('node dist/bench/comparisons/cluster.js [--viewers-per-node N] [--rpc-samples N]');
			return;
		}
		const o = { viewersPerNode: args.num('viewers-per-node', CLUSTER_DEFAULTS.viewersPerNode), rpcSamples: args.num('rpc-samples', CLUSTER_DEFAULTS.rpcSamples) };
		args.assertAllKnown();
		const machine = machineInfo();
		console.log(`machine: ${machineLine(machine)}`);
		const result = await runClusterBench(o);
		console.log(clusterTable(result));
		console.log(`wrote ${writeJsonResult('cluster', { machine, ...result })}`);
	});
}
