// Issue 11's bench: a relay node killed under a live stream, repeated. Three
// mafalda-node processes (network namespaces as root, loopback addresses
// otherwise), a stream piped A -> B -> C with paced RTP (50 packets/s), B
// killed with SIGKILL; per repetition: when the controller declared B dead,
// when C was fed again, and the longest time C's receiver went without a
// packet. B's host gets a new node process before the next repetition. Then
// the price of the relay producer that makes this possible (StreamRelay: JS
// touches each packet), measured on one mediasoup worker in this process.
import type { types } from 'mediasoup';
import { randomBytes } from 'node:crypto';
import { StreamRelay } from '../../actors/worker-host/stream-relay';
import { Mafalda, type NodeLeftInfo, type RepipeInfo } from '../../lib';
import { mediaCodecs, VIDEO_PT } from '../../test/helpers/mafalda-media';
import { Args, runMain } from '../cli/args';
import { type HostNetwork, makeHosts, type NodeProcess, type RedisServer, sleep, startNode, startRedis } from '../cluster/hosts';
import { buildRelayTree, longestGap } from '../cluster/relay-tree';
import { buildRtpPacket, nowMs, writeProbe } from '../media/rtp-packet';
import { percentile, RtpReceiver, RtpSender } from '../media/udp-peers';
import { machineInfo, machineLine } from '../report/machine';
import { writeJsonResult } from '../report/results-file';
import { renderTable } from '../report/table';
import { loadMediasoup } from '../sfu/mediasoup-loader';

export interface ClusterFaultsOptions {
	repetitions: number;
	/** Packets through the relay (and as many without it) for its CPU cost. */
	relayPackets: number;
}

export const CLUSTER_FAULTS_DEFAULTS: ClusterFaultsOptions = { repetitions: 5, relayPackets: 20_000 };

export interface RelayKillSample {
	origin: string;
	relay: string;
	leaf: string;
	/** SIGKILL to `nodedied` of the relay, ms. */
	detectMs: number;
	/** SIGKILL to `piperepiped` (C fed again), ms. */
	repipedMs: number;
	/** The longest time C's receiver went without a packet, around the kill, ms. */
	gapMs: number;
	/** Where C's stream came from after the re-pipe. */
	newSource: string;
}

export interface Spread {
	min: number;
	median: number;
	max: number;
}

export interface RelayCost {
	packets: number;
	/** CPU of this process's JS (the worker host's thread in a node) per packet relayed, µs: with the relay less without. */
	jsUsPerPacket: number;
	/** CPU of the mediasoup worker process per packet relayed, µs: with the relay less without. */
	workerUsPerPacket: number;
	/** Per packet without the relay (the baseline both are measured against), µs. */
	baselineJsUsPerPacket: number;
	baselineWorkerUsPerPacket: number;
}

export interface ClusterFaultsResult extends ClusterFaultsOptions {
	mode: HostNetwork['mode'];
	samples: RelayKillSample[];
	detect: Spread;
	repiped: Spread;
	gap: Spread;
	relayCost: RelayCost;
}

function spread(xs: number[]): Spread {
	const sorted = [...xs].sort((a, b) => a - b);
	return { min: sorted[0], median: percentile(sorted, 50), max: sorted[sorted.length - 1] };
}

async function until(predicate: () => boolean, what: string, timeoutMs: number): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!predicate()) {
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await sleep(10);
	}
}

export async function runClusterFaults(o: ClusterFaultsOptions, log: (s: string) => void = console.log): Promise<ClusterFaultsResult> {
	const names = ['fault-a', 'fault-b', 'fault-c'];
	const network = makeHosts(3, names);
	const secret = randomBytes(16).toString('hex');
	const keyPrefix = `mafalda-bench-faults-${process.pid}:`;
	let redis: RedisServer | undefined;
	/** Node id -> its process and host index. */
	const nodes = new Map<string, { process: NodeProcess; host: number }>();
	let mafalda: Mafalda | undefined;
	const samples: RelayKillSample[] = [];
	try {
		redis = await startRedis(network.mode === 'netns' ? network.testAddress : undefined);
		const start = async (nodeId: string, host: number): Promise<void> => {
			nodes.set(nodeId, { process: await startNode(network.hosts[host], { redisUrl: redis!.url, secret, keyPrefix, nodeId }), host });
		};
		await Promise.all(names.map((nodeId, i) => start(nodeId, i)));
		log(`cluster-faults: 3 nodes (${network.mode}), Redis on port ${redis.port}`);
		mafalda = new Mafalda(loadMediasoup(), { numWorkers: 0, loadReportIntervalMs: 200, cluster: { redis: redis.url, secret, keyPrefix, pollIntervalMs: 200 } });
		const m = mafalda;
		const died: Array<NodeLeftInfo & { at: number }> = [];
		const repiped: Array<RepipeInfo & { at: number }> = [];
		m.on('nodedied', (info) => died.push({ ...info, at: Date.now() }));
		m.on('piperepiped', (info) => repiped.push({ ...info, at: Date.now() }));
		await until(() => m.workers.size === 3, 'three nodes', 15_000);
		for (let rep = 1; rep <= o.repetitions; rep++) {
			const tree = await buildRelayTree(m, { routerId: `bench-relay-${process.pid}-${rep}`, ssrc: 0x5000 + rep, address: network.testAddress });
			try {
				const arrivals = tree.leafViewer.receiver.recordArrivals();
				await tree.leafViewer.receiver.waitForPackets(tree.leafViewer.receiver.packets + 25, 5000);
				const before = tree.leafViewer.receiver.packets;
				const killedAt = Date.now();
				nodes.get(tree.relay)!.process.child.kill('SIGKILL');
				await until(() => repiped.some((r) => r.toNode === tree.leaf && r.at >= killedAt), 're-piped to the leaf', 10_000);
				await tree.leafViewer.receiver.waitForPackets(before + 50, 10_000);
				const death = died.find((d) => d.nodeId === tree.relay);
				const info = repiped.find((r) => r.toNode === tree.leaf && r.at >= killedAt)!;
				const sample: RelayKillSample = {
					origin: tree.origin,
					relay: tree.relay,
					leaf: tree.leaf,
					detectMs: death ? death.at - killedAt : Number.NaN,
					repipedMs: info.at - killedAt,
					gapMs: Math.round(longestGap(arrivals, killedAt - 1000)),
					newSource: info.fromNode ?? '?',
				};
				samples.push(sample);
				log(`cluster-faults: repetition ${rep}: ${sample.origin} -> ${sample.relay} -> ${sample.leaf}, killed ${sample.relay}: ` +
					`nodedied +${sample.detectMs} ms, re-piped from ${sample.newSource} +${sample.repipedMs} ms, longest gap ${sample.gapMs} ms`);
			} finally {
				await tree.close();
			}
			// A new node on the dead one's host, under a new id (the old id's registry key lives out its TTL).
			const { host } = nodes.get(tree.relay)!;
			nodes.delete(tree.relay);
			await start(`${names[host]}-${rep}`, host);
			await until(() => m.workers.size === 3, 'the replacement node', 15_000);
		}
		const relayCost = await measureRelayCost(o.relayPackets);
		return {
			...o,
			mode: network.mode,
			samples,
			detect: spread(samples.map((s) => s.detectMs)),
			repiped: spread(samples.map((s) => s.repipedMs)),
			gap: spread(samples.map((s) => s.gapMs)),
			relayCost,
		};
	} finally {
		await mafalda?.close().catch(() => undefined);
		await Promise.allSettled([...nodes.values()].map((n) => n.process.stop('SIGTERM')));
		await redis?.stop();
		network.destroy();
	}
}

/**
 * One mediasoup worker: a PlainTransport producer fed `packets` VP8 packets,
 * consumed on a PlainTransport to a UDP receiver, once directly and once
 * through a StreamRelay (the DirectTransport round trip through JS). The CPU
 * of this process and of the worker per packet, with the relay less without,
 * is what relaying costs a node's worker host thread and its worker.
 */
async function measureRelayCost(packets: number): Promise<RelayCost> {
	const mediasoup = loadMediasoup();
	const worker = await mediasoup.createWorker({ logLevel: 'error' });
	try {
		const router = await worker.createRouter({ mediaCodecs: mediaCodecs as types.RtpCodecCapability[] });
		const run = async (relayed: boolean): Promise<{ jsUs: number; workerUs: number }> => {
			const sender = await RtpSender.bind();
			const receiver = await RtpReceiver.bind();
			const listenInfo = { protocol: 'udp', ip: '127.0.0.1' } as types.TransportListenInfo;
			const ingress = await router.createPlainTransport({ listenInfo, rtcpMux: true, comedia: true });
			const egress = await router.createPlainTransport({ listenInfo, rtcpMux: true, comedia: false });
			await egress.connect({ ip: '127.0.0.1', port: receiver.port });
			const ssrc = relayed ? 0x7001 : 0x7002;
			const producer = await ingress.produce({ kind: 'video', rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: VIDEO_PT, clockRate: 90000 }], encodings: [{ ssrc }] } });
			const relay = relayed ? await StreamRelay.open(router, producer.id, `relay-cost-${ssrc}`) : undefined;
			await egress.consume({ producerId: relay?.producer.id ?? producer.id, rtpCapabilities: router.rtpCapabilities });
			const send = (i: number): void => {
				const packet = buildRtpPacket(
					{ payloadType: VIDEO_PT, ssrc, sequenceNumber: i & 0xffff, timestamp: i * 3000, marker: true },
					writeProbe(i, nowMs(), 1000, 'vp8', i % 10 === 0),
				);
				sender.send(packet, ingress.tuple.localPort);
			};
			// Warm up until packets come out (the consumers wait for a key frame).
			for (let i = 0; receiver.packets < 20 && i < 2000; i++) {
				send(i);
				await sleep(2);
			}
			const usage0 = await worker.getResourceUsage();
			const cpu0 = process.cpuUsage();
			const received0 = receiver.packets;
			// Bursts of 50 then a breath, so that neither socket drops (about 10,000 packets/s).
			for (let i = 0; i < packets; i++) {
				send(1000 + i);
				if (i % 50 === 49) await sleep(5);
			}
			await receiver.waitForPackets(received0 + packets * 0.95, 30_000).catch(() => undefined);
			await sleep(200);
			const cpu = process.cpuUsage(cpu0);
			const usage = await worker.getResourceUsage();
			const delivered = receiver.packets - received0;
			relay?.producer.close();
			ingress.close();
			egress.close();
			await sender.close();
			await receiver.close();
			if (delivered < packets * 0.9) throw new Error(`relay cost: only ${delivered} of ${packets} packets came out (${relayed ? 'relayed' : 'direct'})`);
			// ru_utime and ru_stime are in ms; cpuUsage in µs.
			const workerUs = (usage.ru_utime + usage.ru_stime - usage0.ru_utime - usage0.ru_stime) * 1000;
			return { jsUs: (cpu.user + cpu.system) / packets, workerUs: workerUs / packets };
		};
		const direct = await run(false);
		const relayed = await run(true);
		return {
			packets,
			jsUsPerPacket: relayed.jsUs - direct.jsUs,
			workerUsPerPacket: relayed.workerUs - direct.workerUs,
			baselineJsUsPerPacket: direct.jsUs,
			baselineWorkerUsPerPacket: direct.workerUs,
		};
	} finally {
		worker.close();
	}
}

const fmt = (s: Spread): string => `${Math.round(s.min)} / ${Math.round(s.median)} / ${Math.round(s.max)} ms`;

export function clusterFaultsTable(r: ClusterFaultsResult): string {
	return renderTable(['relay node killed (SIGKILL), A -> B -> C', `min / median / max of ${r.samples.length}`], [
		['hosts', r.mode === 'netns' ? 'network namespaces' : 'loopback addresses'],
		['detected: the kill to nodedied', fmt(r.detect)],
		['recovered: the kill to piperepiped (C fed again)', fmt(r.repiped)],
		["media gap: longest time without a packet at C's receiver (50 packets/s)", fmt(r.gap)],
		[`relay producer, CPU per packet relayed (${r.relayCost.packets} packets)`, `JS ${r.relayCost.jsUsPerPacket.toFixed(1)} µs, mediasoup worker ${r.relayCost.workerUsPerPacket.toFixed(1)} µs`],
		['the same path without the relay, per packet', `JS ${r.relayCost.baselineJsUsPerPacket.toFixed(1)} µs, mediasoup worker ${r.relayCost.baselineWorkerUsPerPacket.toFixed(1)} µs`],
	]);
}

if (require.main === module) {
	runMain(async () => {
		const args = new Args();
		if (args.help) {
			console.log('node dist/bench/comparisons/cluster-faults.js [--repetitions N] [--relay-packets N]');
			return;
		}
		const o = { repetitions: args.num('repetitions', CLUSTER_FAULTS_DEFAULTS.repetitions), relayPackets: args.num('relay-packets', CLUSTER_FAULTS_DEFAULTS.relayPackets) };
		args.assertAllKnown();
		const machine = machineInfo();
		console.log(`machine: ${machineLine(machine)}`);
		const result = await runClusterFaults(o);
		console.log(clusterFaultsTable(result));
		console.log(`wrote ${writeJsonResult('cluster-faults', { machine, ...result })}`);
	});
}
