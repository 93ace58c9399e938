// Faults of a cluster, broken on purpose (issue 11): Redis restarted empty,
// controllers killed or frozen, a node killed, a node's link cut, a node
// drained. Four mafalda nodes, each its own process on its own host (a
// network namespace as root, else a loopback address), one real
// redis-server, paced real RTP from a producer on node A to viewers on the
// other nodes all along. Detection and recovery times are printed as
// "FAULT ..." lines (docs/FAILURES.md quotes them); no test asserts a duration.
import * as mediasoup from 'mediasoup';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { buildRtpPacket, nowMs, writeProbe } from '../bench/media/rtp-packet';
import { ControlClient } from '../lib/cluster/control-client';
import { Mafalda, type MafaldaRouter, type NodeLeftInfo, type NodeSummary } from '../lib';
import { type HostNetwork, makeHosts, type NodeProcess, type RedisServer, startNode, startRedis, timeLimit } from '../bench/cluster/hosts';
import { localAddress, mediaCodecs, publishVideo, sleep, VIDEO_PT, view, waitFor, type Publisher, type Viewer } from './helpers/mafalda-media';

jest.setTimeout(90_000);

const SECRET = randomBytes(16).toString('hex');
const PREFIX = `mafalda-faults-${process.pid}:`;
const NODE_IDS = ['node-a', 'node-b', 'node-c', 'node-d'];

let network: HostNetwork;
let redis: RedisServer;
const nodes = new Map<string, NodeProcess>();
let mafalda: Mafalda;
let router: MafaldaRouter;
let pub: Publisher;
/** Viewers by the node their consumer is on. */
const viewers = new Map<string, Viewer>();
const left: NodeLeftInfo[] = [];
const died: NodeLeftInfo[] = [];
const joined: NodeSummary[] = [];
let pacer: NodeJS.Timeout | undefined;
const children: Array<ReturnType<typeof fork>> = [];

function nodeOfWorker(workerIndex: number): string | undefined {
	for (const worker of mafalda.workers.values()) if ((worker as { handle?: { index: number } }).handle?.index === workerIndex) return worker.nodeId;
	return undefined;
}

/** 50 VP8 packets a second into the producer, key frame every 10, until the end. */
function startPacing(): void {
	pacer = setInterval(() => {
		const i = pub.seq++;
		const packet = buildRtpPacket(
			{ payloadType: VIDEO_PT, ssrc: pub.ssrc, sequenceNumber: i & 0xffff, timestamp: i * 3000, marker: true },
			writeProbe(i, nowMs(), 200, 'vp8', i % 10 === 0),
		);
		pub.sender.send(packet, pub.transport.tuple.localPort, localAddress(pub.transport));
	}, 20);
}

/**
 * Watches receivers while `during` runs: the longest time any of them went
 * without a packet, and how many each got.
 */
async function watchMedia<T>(watched: Viewer[], during: () => Promise<T>): Promise<{ result: T; maxGapMs: number; received: number[] }> {
	const start = watched.map((v) => v.receiver.packets);
	const last = watched.map((v) => ({ packets: v.receiver.packets, at: Date.now() }));
	let maxGapMs = 0;
	const sampler = setInterval(() => {
		const now = Date.now();
		watched.forEach((v, i) => {
			if (v.receiver.packets !== last[i].packets) last[i] = { packets: v.receiver.packets, at: now };
			else maxGapMs = Math.max(maxGapMs, now - last[i].at);
		});
	}, 10);
	try {
		const result = await during();
		return { result, maxGapMs, received: watched.map((v, i) => v.receiver.packets - start[i]) };
	} finally {
		clearInterval(sampler);
	}
}

/** A controller connection of the test itself, to look at a node's objects. */
async function inspect(nodeId: string): Promise<ControlClient> {
	const node = JSON.parse(redis.cli('get', `${PREFIX}node:${nodeId}`)) as NodeSummary;
	return ControlClient.connect(node.controlHost, node.controlPort, { secret: SECRET, controllerId: `inspector-${nodeId}` });
}

async function exists(client: ControlClient, worker: number, objectId: string): Promise<boolean> {
	return client.request(worker, 'call', [{ objectId, method: 'dump', args: [] }]).then(() => true, () => false);
}

async function shardTransports(client: ControlClient, shardId: string): Promise<number> {
	const dump = (await client.request(0, 'call', [{ objectId: shardId, method: 'dump', args: [] }])) as { value: { transportIds: string[] } };
	return dump.value.transportIds.length;
}

/**
 * Runs a Redis fault while watching the viewers: after `settleMs` a new viewer
 * of the known producer joins (no Redis needed), and a consume of a producer
 * this controller does not know (a producer-index GET) must reject with
 * ClusterUnavailableError. Resolves once `fault` is over.
 */
async function whileRedisAway(fault: () => Promise<void>, settleMs: number): Promise<{ lateViewer: Viewer; rejectedAfterMs: number; maxGapMs: number; received: number[] }> {
	let lateViewer: Viewer | undefined;
	let rejectedAfterMs = 0;
	const watched = await watchMedia([...viewers.values()], async () => {
		const over = fault();
		try {
			await sleep(settleMs);
			lateViewer = await view(router, pub.producer.id, network.testAddress);
			const probe = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' } });
			const t0 = Date.now();
			await expect(probe.consume({ producerId: 'a-producer-of-someone-else', rtpCapabilities: router.rtpCapabilities }))
				.rejects.toMatchObject({ name: 'ClusterUnavailableError', code: 'ERR_MAFALDA_CLUSTER_UNAVAILABLE' });
			rejectedAfterMs = Date.now() - t0;
			probe.close();
		} finally {
			await over;
		}
	});
	return { lateViewer: lateViewer!, rejectedAfterMs, maxGapMs: watched.maxGapMs, received: watched.received };
}

beforeAll(async () => {
	network = makeHosts(4, NODE_IDS);
	console.log(network.mode === 'netns'
		? `fault hosts: network namespaces ${network.hosts.map((h) => `${h.netns}=${h.address}`).join(', ')}`
		: 'fault hosts: loopback fallback (not root, no netns, or MAFALDA_TEST_HOSTS=loopback): nodes run on 127.0.0.2-5 of this namespace');
	redis = await startRedis(network.mode === 'netns' ? network.testAddress : undefined);
	await Promise.all(NODE_IDS.map(async (nodeId, i) => {
		nodes.set(nodeId, await startNode(network.hosts[i], { redisUrl: redis.url, secret: SECRET, keyPrefix: PREFIX, nodeId, extra: ['--drain-timeout', '60000'] }));
	}));
	mafalda = new Mafalda(mediasoup, { numWorkers: 0, loadReportIntervalMs: 200, cluster: { redis: redis.url, secret: SECRET, keyPrefix: PREFIX, pollIntervalMs: 200 } });
	mafalda.on('nodeleft', (info) => left.push(info));
	mafalda.on('nodedied', (info) => died.push(info));
	mafalda.on('nodejoined', (node) => joined.push(node));
	await waitFor(() => mafalda.workers.size === 4, 'four nodes', 15_000);
	// One unit per worker: the producer fills node A, each viewer goes to the next node with headroom.
	router = await mafalda.createMafaldaRouter({ id: `room-${process.pid}`, maxConsumersPerWorker: 1, routerOptions: { mediaCodecs } });
	pub = await publishVideo(router, 0x3333, network.testAddress);
	for (let i = 0; i < 3; i++) {
		const v = await view(router, pub.producer.id, network.testAddress);
		viewers.set(nodeOfWorker(v.consumer.workerIndex)!, v);
	}
	startPacing();
	await Promise.all([...viewers.values()].map((v) => v.receiver.waitForPackets(20, 10_000)));
});

afterAll(async () => {
	if (pacer) clearInterval(pacer);
	let left = '';
	try {
		for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
		await mafalda?.close();
		await pub?.sender.close();
		await Promise.allSettled([...viewers.values()].map((v) => v.receiver.close()));
		for (const [i] of NODE_IDS.entries()) network?.setLink(i, true);
		await Promise.all([...nodes.values()].map((n) => n.stop('SIGTERM')));
		if (redis) left = redis.cli('--scan', '--pattern', `${PREFIX}*`);
	} finally {
		await redis?.stop();
		network?.destroy();
	}
	// Every node left the registry and removed what it wrote (the killed one's key expired).
	expect(left).toBe('');
});

test('the room spans four nodes: the producer on A, one viewer on each of B, C and D', () => {
	expect(nodeOfWorker(pub.producer.workerIndex)).toBe('node-a');
	expect([...viewers.keys()].sort()).toEqual(['node-b', 'node-c', 'node-d']);
});

describe('Redis away', () => {
	test('Redis restarted empty: media flows, known objects keep working, Redis calls reject with ClusterUnavailableError, nodes re-register, nobody is declared dead', async () => {
		const producerKey = `${PREFIX}producer:${pub.producer.id}`;
		const routerKey = `${PREFIX}router:${router.id}:workers`;
		expect(redis.cli('exists', producerKey)).toBe('1');
		const outputBefore = new Map(NODE_IDS.map((id) => [id, nodes.get(id)!.output.length]));
		const watched = [...viewers.values()];
		const downAt = Date.now();
		// Calls on known objects do not need Redis; one that needs it rejects, clearly.
		const { lateViewer, maxGapMs, received } = await whileRedisAway(() => redis.restart(4000), 1000);
		const upAt = Date.now();
		try {
			expect(await lateViewer.receiver.waitForPackets(20, 10_000).then(() => lateViewer.receiver.packets)).toBeGreaterThanOrEqual(20);
			// Every node writes itself back: its registry key, the node set, its producers, its router shards.
			await waitFor(() => {
				try {
					return redis.cli('scard', `${PREFIX}nodes`) === '4' && redis.cli('exists', producerKey) === '1' && redis.cli('scard', routerKey) === '4';
				} catch {
					return false;
				}
			}, 'the nodes re-registered', 10_000);
			const wholeAt = Date.now();
			// Each node told of the outage once, and of its end.
			const linesOf = (nodeId: string): string[] => nodes.get(nodeId)!.output.slice(outputBefore.get(nodeId));
			await waitFor(() => NODE_IDS.every((id) => linesOf(id).some((l) => l.includes('"event":"reregistered"'))), 'reregistered lines', 5000);
			for (const nodeId of NODE_IDS) expect(linesOf(nodeId).filter((l) => l.includes('"event":"redislost"'))).toHaveLength(1);
			const outages = NODE_IDS.map((id) => (JSON.parse(linesOf(id).find((l) => l.includes('"event":"reregistered"'))!) as { outageMs: number }).outageMs);
			// A controller that starts now sees the whole cluster (and finds the producer through the index).
			const fresh = new Mafalda(mediasoup, { numWorkers: 0, cluster: { redis: redis.url, secret: SECRET, keyPrefix: PREFIX, pollIntervalMs: 200 } });
			try {
				await waitFor(() => fresh.nodes.size === 4, 'a new controller sees four nodes', 10_000);
				expect(await fresh.cluster!.findProducer(pub.producer.id)).toMatchObject({ nodeId: 'node-a', routerId: router.id });
			} finally {
				await fresh.close();
			}
			expect(left).toEqual([]);
			expect(mafalda.nodes.size).toBe(4);
			for (const n of nodes.values()) expect(n.child.exitCode).toBeNull();
			// Media never stopped (the viewers' packets kept coming, none lost).
			for (const [i, v] of watched.entries()) {
				expect(received[i]).toBeGreaterThan(100);
				expect(v.receiver.totalLost).toBe(0);
			}
			console.log(`FAULT redis-restart: Redis down 4000 ms (SIGKILL, restarted empty, ${upAt - downAt} ms from the kill until it answered); ` +
				`cluster whole again (registry, producer index, router sets) ${wholeAt - upAt} ms after Redis answered; ` +
				`outage as each node saw it (first failed beat to re-registered) ${outages.join(', ')} ms; ` +
				`longest gap at a viewer ${maxGapMs} ms; nodes declared dead: ${left.length}`);
		} finally {
			await lateViewer.receiver.close();
			lateViewer.transport.close();
		}
	});

	test('Redis frozen (SIGSTOP: connections open, no answer): calls that need it reject within the command timeout, nothing closes, the nodes write themselves back', async () => {
		const outputBefore = new Map(NODE_IDS.map((id) => [id, nodes.get(id)!.output.length]));
		const linesOf = (nodeId: string): string[] => nodes.get(nodeId)!.output.slice(outputBefore.get(nodeId));
		const watched = [...viewers.values()];
		const { lateViewer, rejectedAfterMs, maxGapMs, received } = await whileRedisAway(() => redis.freeze(5000), 300);
		const thawedAt = Date.now();
		try {
			await lateViewer.receiver.waitForPackets(20, 10_000);
			await waitFor(() => NODE_IDS.every((id) => linesOf(id).some((l) => l.includes('"event":"reregistered"'))), 'reregistered lines', 10_000);
			const wholeMs = Date.now() - thawedAt;
			expect(left).toEqual([]);
			expect(mafalda.nodes.size).toBe(4);
			for (const [i, v] of watched.entries()) {
				expect(received[i]).toBeGreaterThan(100);
				expect(v.receiver.totalLost).toBe(0);
			}
			console.log(`FAULT redis-frozen: Redis frozen 5000 ms; a call needing it rejected after ${rejectedAfterMs} ms (commandTimeout 2000); ` +
				`every node re-registered ${wholeMs} ms after the thaw; longest gap at a viewer ${maxGapMs} ms; nodes declared dead: ${left.length}`);
		} finally {
			await lateViewer.receiver.close();
			lateViewer.transport.close();
		}
	});
});

describe('a controller dies', () => {
	/** Starts a second controller process on the same router id; resolves once it consumes the producer. */
	async function secondController(): Promise<{ child: ReturnType<typeof fork>; ready: { nodeId: string; localIndex: number; transportId: string } }> {
		const child = fork(path.join(__dirname, 'fixtures', 'cluster-controller-child.js'), [JSON.stringify({
			redis: redis.url, secret: SECRET, keyPrefix: PREFIX, routerId: router.id, producerId: pub.producer.id, address: network.testAddress, nodes: mafalda.nodes.size,
		})], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
		children.push(child);
		const ready = await new Promise<{ nodeId: string; localIndex: number; transportId: string }>((resolve, reject) => {
			child.on('message', (m: { event: string; message?: string } & { nodeId: string; localIndex: number; transportId: string }) => {
				if (m.event === 'error') reject(new Error(m.message));
				if (m.event === 'consuming') resolve(m);
			});
			child.once('exit', (code) => reject(new Error(`the controller child exited (${code})`)));
		});
		return { child, ready };
	}

	for (const [how, signal] of [['killed (SIGKILL)', 'SIGKILL'], ['frozen (SIGSTOP: no FIN, only its lease tells)', 'SIGSTOP']] as const) {
		test(`${how}: the nodes close what it made within the lease, the other controller's objects on the same shards are untouched`, async () => {
			const entry = JSON.parse(redis.cli('get', `${PREFIX}producer:${pub.producer.id}`)) as { shardId: string };
			const onA = await inspect('node-a');
			const mine = await shardTransports(onA, entry.shardId);
			const { child, ready } = await secondController();
			const onItsNode = ready.nodeId === 'node-a' ? onA : await inspect(ready.nodeId);
			try {
				expect(await exists(onItsNode, ready.localIndex, ready.transportId)).toBe(true);
				// Its pipe from A (each controller pipes for itself), unless it landed on A.
				const withIts = await shardTransports(onA, entry.shardId);
				if (ready.nodeId !== 'node-a') expect(withIts).toBe(mine + 1);
				const watched = [...viewers.values()];
				const t0 = Date.now();
				const { maxGapMs, received } = await watchMedia(watched, async () => {
					child.kill(signal);
					const deadline = Date.now() + 10_000;
					while (Date.now() < deadline && ((await exists(onItsNode, ready.localIndex, ready.transportId)) || (await shardTransports(onA, entry.shardId)) > mine)) await sleep(25);
					return Date.now() - t0;
				}).then((r) => ({ ...r, detectMs: r.result }));
				const detectMs = Date.now() - t0;
				expect(await exists(onItsNode, ready.localIndex, ready.transportId)).toBe(false);
				expect(await shardTransports(onA, entry.shardId)).toBe(mine);
				// This controller's producer, viewers and pipes on the same shards are untouched.
				expect(pub.producer.closed).toBe(false);
				for (const v of watched) expect(v.consumer.closed).toBe(false);
				received.forEach((n) => expect(n).toBeGreaterThan(0));
				for (const v of watched) expect(v.receiver.totalLost).toBe(0);
				const what = ready.nodeId === 'node-a' ? 'its transport on node-a (no pipe: it consumed where the producer is)' : `its transport on ${ready.nodeId} and its pipe on node-a`;
				console.log(`FAULT controller-${signal === 'SIGKILL' ? 'killed' : 'frozen'}: ${what} closed ` +
					`${detectMs} ms after ${signal} (node lease 3000 ms); longest gap at the other controller's viewers ${maxGapMs} ms`);
			} finally {
				if (child.exitCode === null && child.signalCode !== 'SIGKILL') child.kill('SIGKILL');
				onA.close();
				if (onItsNode !== onA) onItsNode.close();
			}
		});
	}
});

describe('a node dies', () => {
	test('killed (SIGKILL): nodedied with what went, its proxies closed with closeReason nodedied, no placement there, viewers elsewhere keep receiving', async () => {
		const victim = 'node-d';
		const lost = viewers.get(victim)!;
		const others = [...viewers.entries()].filter(([id]) => id !== victim).map(([, v]) => v);
		const routerclose = new Promise<number>((resolve) => lost.transport.on('routerclose', () => resolve(Date.now())));
		const t0 = Date.now();
		const { maxGapMs, received } = await watchMedia(others, async () => {
			nodes.get(victim)!.child.kill('SIGKILL');
			await waitFor(() => died.length === 1, 'nodedied', 10_000);
			await sleep(1000);
		});
		const detectMs = (await routerclose) - t0;
		expect(died[0]).toMatchObject({ nodeId: victim, reason: 'nodedied' });
		expect(died[0].routerIds).toEqual([router.id]);
		expect(died[0].transportIds).toEqual([lost.transport.id]);
		expect(died[0].workers).toHaveLength(1);
		expect(left.map((l) => l.nodeId)).toEqual([victim]);
		// The mediasoup way: the transport got routerclose, its consumer transportclose; the reason says why.
		expect(lost.transport.closed).toBe(true);
		expect(lost.transport.closeReason).toBe('nodedied');
		expect(lost.consumer.closed).toBe(true);
		expect(lost.consumer.closeReason).toBe('nodedied');
		expect(mafalda.nodes.has(victim)).toBe(false);
		expect([...mafalda.workers.values()].some((w) => w.nodeId === victim)).toBe(false);
		// The metrics name the dead worker by its node: counted as a death, no longer up.
		const metrics = await mafalda.metrics.metrics();
		expect(metrics).toMatch(new RegExp(`mafalda_worker_up\\{node="${victim}",worker="0"\\} 0`));
		expect(metrics).toMatch(new RegExp(`mafalda_worker_deaths_total\\{node="${victim}",worker="0"\\} 1`));
		// Consumers on other nodes of the producer on A: packets kept coming, none lost.
		received.forEach((n) => expect(n).toBeGreaterThan(20));
		for (const v of others) expect(v.receiver.totalLost).toBe(0);
		// The next placements go elsewhere.
		const extra = await view(router, pub.producer.id, network.testAddress);
		try {
			expect(nodeOfWorker(extra.consumer.workerIndex)).not.toBe(victim);
			await extra.receiver.waitForPackets(10, 10_000);
		} finally {
			extra.transport.close();
			await extra.receiver.close();
		}
		console.log(`FAULT node-killed: nodedied and routerclose (closeReason nodedied) ${detectMs} ms after SIGKILL of ${victim} ` +
			`(the TCP close of its control channel); longest gap at the viewers on other nodes ${maxGapMs} ms`);
		await nodes.get(victim)!.exited;
		// Its registry key expires by itself (the TTL is its lease); a controller's registry read prunes the set.
		await waitFor(() => redis.cli('exists', `${PREFIX}node:${victim}`) === '0', `${victim}'s key expired`, 6000);
		await waitFor(() => !redis.cli('smembers', `${PREFIX}nodes`).split('\n').includes(victim), `${victim} pruned`, 3000);
		viewers.delete(victim);
		await lost.receiver.close();
		nodes.delete(victim);
	});

	test('its link cut (ip link set down): nodedied once its control channel is silent for nodeTimeoutMs; back up, it rejoins', async () => {
		const victim = 'node-c';
		if (!network.setLink(NODE_IDS.indexOf(victim), false)) {
			console.log(`NOT RUN: ${network.mode} hosts have no link to cut`);
			return;
		}
		const t0 = Date.now();
		const lost = viewers.get(victim)!;
		const others = [...viewers.entries()].filter(([id]) => id !== victim).map(([, v]) => v);
		let detectMs = 0;
		let rejoinMs = 0;
		try {
			const { maxGapMs, received } = await watchMedia(others, async () => {
				await waitFor(() => died.length === 2, 'nodedied of the cut node', 15_000);
				detectMs = Date.now() - t0;
			});
			expect(died[1]).toMatchObject({ nodeId: victim, reason: 'nodedied', transportIds: [lost.transport.id] });
			expect(died[1].detail).toMatch(/silent for \d+ ms/);
			expect(lost.transport.closeReason).toBe('nodedied');
			received.forEach((n) => expect(n).toBeGreaterThan(0));
			console.log(`FAULT node-link-cut: nodedied ${detectMs} ms after the link of ${victim} went down ` +
				`(silent ${died[1].silentMs} ms, nodeTimeoutMs 2500); longest gap at the viewers on other nodes ${maxGapMs} ms`);
		} finally {
			network.setLink(NODE_IDS.indexOf(victim), true);
		}
		const t1 = Date.now();
		joined.length = 0;
		await waitFor(() => joined.some((n) => n.nodeId === victim), 'the node rejoins', 15_000);
		rejoinMs = Date.now() - t1;
		expect(mafalda.nodes.has(victim)).toBe(true);
		console.log(`FAULT node-link-restored: ${victim} back in the registry and reconnected (nodejoined) ${rejoinMs} ms after its link came up`);
		viewers.delete(victim);
		await lost.receiver.close();
	});
});

describe('a node drains (SIGTERM)', () => {
	test('it takes no new placements, keeps its transports until the app closes them, then exits 0 by itself', async () => {
		const victim = 'node-b';
		const staying = viewers.get(victim)!;
		const node = nodes.get(victim)!;
		node.child.kill('SIGTERM');
		await waitFor(() => mafalda.nodes.get(victim)?.draining === true, 'draining', 5000);
		// Still serving what it has...
		const before = staying.receiver.packets;
		await staying.receiver.waitForPackets(before + 20, 5000);
		// ...and taking nothing new.
		const extra = await view(router, pub.producer.id, network.testAddress);
		try {
			expect(nodeOfWorker(extra.consumer.workerIndex)).not.toBe(victim);
		} finally {
			extra.transport.close();
			await extra.receiver.close();
		}
		expect(node.child.exitCode).toBeNull();
		// The app closes its transport there: the node has nothing left and exits long before its 60 s drain timeout.
		const t0 = Date.now();
		staying.transport.close();
		const code = await Promise.race([node.exited, timeLimit(15_000).then(() => 'still running' as const)]);
		expect(code).toBe(0);
		console.log(`FAULT node-drained: ${victim} exited 0 ${Date.now() - t0} ms after the app closed its last transport there (drain timeout 60000 ms)`);
		await waitFor(() => left.some((l) => l.nodeId === victim && l.reason === 'nodedrained'), 'nodeleft nodedrained', 5000);
		expect(redis.cli('exists', `${PREFIX}node:${victim}`)).toBe('0');
		viewers.delete(victim);
		await staying.receiver.close();
		nodes.delete(victim);
	});
});

test('liveness options name their field: a node timeout no longer than the beat is refused', () => {
	const cluster = { redis: 'redis://127.0.0.1:1', secret: SECRET };
	expect(() => new Mafalda(mediasoup, { numWorkers: 0, cluster: { ...cluster, heartbeatMs: 1000, nodeTimeoutMs: 1000 } })).toThrow(/options\.cluster\.nodeTimeoutMs/);
	expect(() => new Mafalda(mediasoup, { numWorkers: 0, cluster: { ...cluster, heartbeatMs: 10 } })).toThrow(/options\.cluster\.heartbeatMs/);
});
