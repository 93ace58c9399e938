// One MafaldaRouter over three mafalda nodes, each its own process on its
// own host (a network namespace as root, else a loopback address), found
// through a real redis-server that this test starts and stops; real RTP from
// a producer on node A to consumers on nodes B and C.
import Redis from 'ioredis';
import * as mediasoup from 'mediasoup';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { ControlClient } from '../lib/cluster/control-client';
import { encodeFrame } from '../lib/cluster/frame-codec';
import { parseNodeArgs } from '../lib/cluster/node-cli';
import { Mafalda, MafaldaNode, type MafaldaRouter, type NodeLeftInfo, type NodeSummary, type PipeInfo } from '../lib';
import { type HostNetwork, makeHosts, type NodeProcess, type RedisServer, startNode, startRedis, timeLimit } from '../bench/cluster/hosts';
import { createReceivingPeer, createSendingPeer } from './helpers/werift-peer';
import { localAddress, mediaCodecs, publishVideo, sendVideo, sleep, view, waitFor, type Publisher, type Viewer } from './helpers/mafalda-media';

jest.setTimeout(90_000);

const SECRET = randomBytes(16).toString('hex');
const PREFIX = `mafalda-test-${process.pid}:`;
const NODE_IDS = ['node-a', 'node-b', 'node-c'];
/** A fourth host, whose node joins later. */
const LATE_NODE = 'node-d';

let network: HostNetwork;
let redis: RedisServer;
const nodes = new Map<string, NodeProcess>();
const controllers: Mafalda[] = [];
const sockets: Array<{ close(): Promise<void> }> = [];
const closers: Array<() => Promise<void>> = [];

function nodeOptions(nodeId: string): Parameters<typeof startNode>[1] {
	// A short drain, so that the SIGTERM test sees a node close what is left.
	return { redisUrl: redis.url, secret: SECRET, keyPrefix: PREFIX, nodeId, extra: ['--drain-timeout', '1500'] };
}

function controller(): Mafalda {
	const mafalda = new Mafalda(mediasoup, { numWorkers: 0, loadReportIntervalMs: 200, cluster: { redis: redis.url, secret: SECRET, keyPrefix: PREFIX, pollIntervalMs: 200 } });
	controllers.push(mafalda);
	return mafalda;
}

function track<T extends Publisher | Viewer>(x: T): T {
	sockets.push('sender' in x ? x.sender : x.receiver);
	return x;
}

function nodeOfWorker(mafalda: Mafalda, workerIndex: number): string | undefined {
	for (const worker of mafalda.workers.values()) if ((worker as { handle?: { index: number } }).handle?.index === workerIndex) return worker.nodeId;
	return undefined;
}

beforeAll(async () => {
	network = makeHosts(4, [...NODE_IDS, LATE_NODE]);
	console.log(network.mode === 'netns'
		? `cluster hosts: network namespaces ${network.hosts.map((h) => `${h.netns}=${h.address}`).join(', ')}`
		: 'cluster hosts: loopback fallback (not root, no netns, or MAFALDA_TEST_HOSTS=loopback): nodes run on 127.0.0.2-5 of this namespace');
	redis = await startRedis(network.mode === 'netns' ? network.testAddress : undefined);
	for (const [i, nodeId] of NODE_IDS.entries()) {
		const options = nodeOptions(nodeId);
		// Node A serves its Prometheus metrics on its own address.
		if (i === 0) options.extra = [...(options.extra ?? []), '--metrics-port', '0', '--metrics-host', network.hosts[0].address];
		nodes.set(nodeId, await startNode(network.hosts[i], options));
	}
});

afterAll(async () => {
	// Each step runs whatever failed before it: no process, namespace or key may outlive the test.
	let codes: Array<number | null> = [];
	let left = '';
	try {
		await Promise.allSettled(controllers.map((c) => c.close()));
		await Promise.allSettled(sockets.map((s) => s.close()));
		await Promise.allSettled(closers.map((close) => close()));
		codes = await Promise.all([...nodes.values()].map((n) => n.stop('SIGTERM')));
		// Every node left the registry and removed what it wrote.
		if (redis) left = redis.cli('--scan', '--pattern', `${PREFIX}*`);
	} finally {
		await redis?.stop();
		network?.destroy();
	}
	expect(codes.every((c) => c === 0)).toBe(true);
	expect(left).toBe('');
});

describe('nodes register in Redis and controllers see them', () => {
	test('each node has a registry key with a TTL and a load summary', () => {
		const members = redis.cli('smembers', `${PREFIX}nodes`).split('\n').sort();
		expect(members).toEqual(NODE_IDS);
		for (const [i, nodeId] of NODE_IDS.entries()) {
			const ttl = Number(redis.cli('pttl', `${PREFIX}node:${nodeId}`));
			expect(ttl).toBeGreaterThan(0);
			expect(ttl).toBeLessThanOrEqual(3000);
			const summary = JSON.parse(redis.cli('get', `${PREFIX}node:${nodeId}`)) as NodeSummary;
			expect(summary).toMatchObject({ nodeId, announcedIp: network.hosts[i].address, listenIp: network.hosts[i].address, draining: false });
			expect(summary.workers).toHaveLength(1);
			expect(summary.controlHost).toBe(network.hosts[i].address);
		}
	});

	test('a node started with --metrics-port serves its metrics, labelled with its node id', async () => {
		const ready = JSON.parse(nodes.get('node-a')!.output.find((l) => l.includes('"event":"ready"'))!) as { metrics?: string };
		expect(ready.metrics).toMatch(new RegExp(`^http://${network.hosts[0].address.replace(/\./g, '\\.')}:\\d+/metrics$`));
		const text = await new Promise<string>((resolve, reject) => {
			http.get(ready.metrics!, (res) => {
				let body = '';
				res.on('data', (d: Buffer) => (body += d.toString()));
				res.on('end', () => resolve(body));
			}).on('error', reject);
		});
		expect(text).toMatch(/^mafalda_worker_up\{node="node-a",worker="0"\} 1$/m);
		expect(text).toMatch(/^mafalda_worker_cpu_seconds_total\{node="node-a",worker="0"\} [\d.e-]+$/m);
	});

	test('a controller with numWorkers 0 sees every node and its workers, and emits nodejoined', async () => {
		const mafalda = controller();
		const joined: NodeSummary[] = [];
		mafalda.on('nodejoined', (node) => joined.push(node));
		await waitFor(() => mafalda.nodes.size === 3 && mafalda.workers.size === 3, 'three nodes', 10_000);
		expect([...mafalda.nodes.keys()].sort()).toEqual(NODE_IDS);
		expect(joined.map((n) => n.nodeId).sort()).toEqual(NODE_IDS);
		expect([...mafalda.workers.values()].map((w) => w.nodeId).sort()).toEqual(NODE_IDS);
		// The Common API reaches the nodes' workers over the control channel.
		const usages = await mafalda.getResourceUsages();
		expect(usages.size).toBe(3);
		for (const usage of usages.values()) expect(usage.ru_utime).toBeGreaterThan(0);
		const dump = (await mafalda.dump()) as { workers: Array<{ pid: number; dump: { worker?: { pid: number } } }>; nodes: NodeSummary[] };
		expect(dump.workers.map((w) => w.dump.worker?.pid)).toEqual(dump.workers.map((w) => w.pid));
		expect(dump.nodes.map((n) => n.nodeId).sort()).toEqual(NODE_IDS);
		// The RPC round trip of the worker-host API over the control channel
		// (controller -> node's control server -> worker host thread -> mediasoup and back),
		// against a Redis round trip, which any request/reply over Redis would pay twice.
		const worker = [...mafalda.workers.values()][0];
		const rpc: number[] = [];
		for (let i = 0; i < 50; i++) {
			const t0 = process.hrtime.bigint();
			await worker.getResourceUsage();
			rpc.push(Number(process.hrtime.bigint() - t0) / 1e6);
		}
		const client = new Redis(redis.url);
		const ping: number[] = [];
		for (let i = 0; i < 50; i++) {
			const t0 = process.hrtime.bigint();
			await client.ping();
			ping.push(Number(process.hrtime.bigint() - t0) / 1e6);
		}
		client.disconnect();
		const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
		console.log(`control channel RPC round trip (getResourceUsage on ${worker.nodeId}, ${network.mode}): median ${median(rpc).toFixed(2)} ms, ` +
			`min ${Math.min(...rpc).toFixed(2)} ms; Redis PING round trip: median ${median(ping).toFixed(2)} ms`);
		expect(rpc).toHaveLength(50);
	});
});

describe('real WebRTC across hosts', () => {
	test('WebRTC: a werift peer sends to node A, another receives from node B (ICE, DTLS, SRTP across hosts)', async () => {
		const mafalda = controllers[0];
		const webrtc = await mafalda.createMafaldaRouter({ maxConsumersPerWorker: 1, routerOptions: { mediaCodecs } });
		try {
			const listenInfos = [{ protocol: 'udp' as const, ip: '127.0.0.1' }];
			const sendTransport = await webrtc.createWebRtcTransport({ listenInfos });
			const recvTransport = await webrtc.createWebRtcTransport({ listenInfos });
			const [sendNode, recvNode] = [nodeOfWorker(mafalda, sendTransport.workerIndex), nodeOfWorker(mafalda, recvTransport.workerIndex)];
			expect(sendNode).not.toBe(recvNode);
			// The nodes' own addresses are the ICE candidates, whatever listenInfos said.
			const hostOf = (nodeId: string | undefined): string => network.hosts[NODE_IDS.indexOf(nodeId!)].address;
			expect(sendTransport.iceCandidates.map((c) => c.address)).toEqual([hostOf(sendNode)]);
			expect(recvTransport.iceCandidates.map((c) => c.address)).toEqual([hostOf(recvNode)]);
			const sender = await createSendingPeer(sendTransport, webrtc.rtpCapabilities, { address: network.testAddress });
			closers.push(() => sender.close());
			sender.start(20);
			await sender.waitConnected();
			const receiver = await createReceivingPeer(recvTransport, webrtc.rtpCapabilities, sender.producerId, { address: network.testAddress });
			closers.push(() => receiver.close());
			await receiver.waitConnected();
			expect(await receiver.waitForPackets(20)).toBeGreaterThanOrEqual(20);
			expect(receiver.vp8KeyFramesReceived).toBe(receiver.packetsReceived);
			sender.stop();
		} finally {
			webrtc.close();
		}
		// Its load gone from every worker, so that the next placements start from empty nodes.
		const loads = async (): Promise<number> =>
			((await mafalda.dump()) as { loadTable: Array<{ load: number }> }).loadTable.reduce((sum, w) => sum + w.load, 0);
		const deadline = Date.now() + 10_000;
		while ((await loads()) > 0 && Date.now() < deadline) await sleep(50);
		expect(await loads()).toBe(0);
	});
});

describe('one MafaldaRouter over three nodes', () => {
	let mafalda: Mafalda;
	let router: MafaldaRouter;
	let pub: Publisher;
	const viewers: Viewer[] = [];
	const pipes: PipeInfo[] = [];

	beforeAll(async () => {
		mafalda = controllers[0];
		mafalda.on('pipeopened', (info) => pipes.push(info));
		// One unit per worker: the producer's transport fills node A, so each
		// viewer's transport goes to the next node with headroom.
		router = await mafalda.createMafaldaRouter({ id: `room-${process.pid}`, maxConsumersPerWorker: 1, routerOptions: { mediaCodecs } });
		pub = track(await publishVideo(router, 0x2222, network.testAddress));
		for (let i = 0; i < 2; i++) viewers.push(track(await view(router, pub.producer.id, network.testAddress)));
	});

	test('the producer is on node A, the consumers on B and C, on their own addresses', () => {
		expect(nodeOfWorker(mafalda, pub.producer.workerIndex)).toBe('node-a');
		expect(localAddress(pub.transport)).toBe(network.hosts[0].address);
		expect(viewers.map((v) => nodeOfWorker(mafalda, v.consumer.workerIndex))).toEqual(['node-b', 'node-c']);
		expect(viewers.map((v) => localAddress(v.transport))).toEqual([network.hosts[1].address, network.hosts[2].address]);
	});

	test('one pipe per node pair, from A (the tree the policy chose), SRTP on', async () => {
		const mine = pipes.filter((p) => p.producerId === pub.producer.id);
		expect(mine.map((p) => `${p.fromNode}->${p.toNode}@${p.depth}`).sort()).toEqual(['node-a->node-b@1', 'node-a->node-c@1']);
		expect(mine.every((p) => p.srtp)).toBe(true);
	});

	test('real RTP reaches every consumer across machines', async () => {
		await sendVideo(pub, 60);
		await Promise.all(viewers.map((v) => v.receiver.waitForPackets(60, 10_000)));
		for (const v of viewers) {
			expect(v.receiver.packets).toBeGreaterThanOrEqual(60);
			expect(v.receiver.totalLost).toBe(0);
		}
	});

	test('a second controller process with the same router id consumes a producer made through the first', async () => {
		const child = fork(path.join(__dirname, 'fixtures', 'cluster-controller-child.js'), [JSON.stringify({
			redis: redis.url, secret: SECRET, keyPrefix: PREFIX, routerId: router.id, producerId: pub.producer.id, address: network.testAddress, nodes: 3,
		})], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
		const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
		const next = (event: string): Promise<Record<string, unknown>> => new Promise((resolve, reject) => {
			const onMessage = (m: Record<string, unknown>): void => {
				if (m.event === 'error') reject(new Error(String(m.message)));
				else if (m.event === event) {
					child.off('message', onMessage);
					resolve(m);
				}
			};
			child.on('message', onMessage);
		});
		try {
			const consuming = await next('consuming');
			expect(consuming).toMatchObject({ producerId: pub.producer.id, kind: 'video' });
			expect(consuming.nodeId).toMatch(/^node-[abc]$/);
			await sendVideo(pub, 40);
			let packets = 0;
			const deadline = Date.now() + 10_000;
			while (packets < 40 && Date.now() < deadline) {
				child.send('count');
				packets = Number((await next('count')).packets);
				if (packets < 40) await sleep(100);
			}
			expect(packets).toBeGreaterThanOrEqual(40);
			// The first controller's viewers still receive: the second one's pipe did not disturb theirs.
			await Promise.all(viewers.map((v) => v.receiver.waitForPackets(100, 10_000)));
			child.send('close');
			await next('closed');
			await Promise.race([exited, timeLimit(10_000)]);
		} finally {
			if (child.exitCode === null) child.kill('SIGKILL');
		}
		expect(await exited).toBe(0);
	});

	test('consumers created across machines: the rate is printed', async () => {
		const count = 10;
		const t0 = Date.now();
		for (let i = 0; i < count; i++) viewers.push(track(await view(router, pub.producer.id, network.testAddress)));
		const seconds = (Date.now() - t0) / 1000;
		console.log(`${count} consumers (PlainTransport + connect + consume, each over the control channel) in ${seconds.toFixed(2)} s: ${(count / seconds).toFixed(1)} per second`);
		await sendVideo(pub, 20);
		await Promise.all(viewers.slice(-count).map((v) => v.receiver.waitForPackets(20, 10_000)));
	});

	test('with 30 ms of added latency on every host link, media still flows (where tc netem exists)', async () => {
		const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
		const viewer = viewers[0];
		const before = median(viewer.receiver.latencies.slice(-20));
		const undo = network.addLatency(30);
		if (!undo) {
			// Loopback has no host links; some kernels (this sandbox's) have no sch_netem.
			console.log(`NOT RUN: tc netem is not available (${network.mode} mode): no latency could be added`);
			return;
		}
		try {
			const received = viewer.receiver.packets;
			await sendVideo(pub, 40, 5);
			await viewer.receiver.waitForPackets(received + 40, 10_000);
			const after = median(viewer.receiver.latencies.slice(-40));
			// Producer's host A -> pipe -> B -> this process: two host links, each +30 ms.
			console.log(`one-way latency producer -> node A -> pipe -> node B -> receiver: median ${before.toFixed(1)} ms, with 30 ms netem per host link ${after.toFixed(1)} ms`);
			expect(after).toBeGreaterThan(before);
		} finally {
			undo();
		}
	});

	test('a node that joins later takes new placements; a draining node (SIGTERM) takes none and its transports close with a reason', async () => {
		const left: NodeLeftInfo[] = [];
		const joined: NodeSummary[] = [];
		mafalda.on('nodeleft', (info) => left.push(info));
		mafalda.on('nodejoined', (node) => joined.push(node));
		const onC = viewers[1];
		const transportClosed = new Promise<void>((resolve) => onC.transport.on('routerclose', () => resolve()));
		const nodeC = nodes.get('node-c')!;
		nodeC.child.kill('SIGTERM');
		await waitFor(() => mafalda.nodes.get('node-c')?.draining === true, 'node-c draining', 5000);
		nodes.set(LATE_NODE, await startNode(network.hosts[3], nodeOptions(LATE_NODE)));
		await waitFor(() => joined.some((n) => n.nodeId === LATE_NODE), 'node-d joined', 10_000);
		const late = track(await view(router, pub.producer.id, network.testAddress));
		expect(nodeOfWorker(mafalda, late.consumer.workerIndex)).toBe(LATE_NODE);
		await sendVideo(pub, 30);
		await late.receiver.waitForPackets(30, 10_000);
		// The drain timeout passes with a transport still open: the node closes it and leaves.
		await transportClosed;
		expect(onC.transport.closeReason).toBe('nodedrained');
		expect(onC.consumer.closed).toBe(true);
		await waitFor(() => left.length === 1, 'nodeleft', 5000);
		expect(left[0]).toMatchObject({ nodeId: 'node-c', reason: 'nodedrained' });
		expect(left[0].transportIds).toContain(onC.transport.id);
		expect(mafalda.nodes.has('node-c')).toBe(false);
		expect(await nodeC.exited).toBe(0);
		expect(redis.cli('exists', `${PREFIX}node:node-c`)).toBe('0');
		nodes.delete('node-c');
	});
});

describe('a node killed (SIGKILL)', () => {
	test('the controller closes its proxies with nodedied and emits nodeleft; the registry forgets it within its TTL', async () => {
		const mafalda = controllers[0];
		const router = mafalda.mafaldaRouters.get(`room-${process.pid}`)!;
		const onD = [...router.transports.values()].find((t) => nodeOfWorker(mafalda, t.workerIndex) === LATE_NODE)!;
		expect(onD).toBeDefined();
		const left = new Promise<NodeLeftInfo>((resolve) => mafalda.once('nodeleft', resolve));
		const nodeD = nodes.get(LATE_NODE)!;
		// What node-d wrote, listed under its own id so that whoever sees it die can take it out.
		expect(redis.cli('exists', `${PREFIX}node-routers:${LATE_NODE}`)).toBe('1');
		nodeD.child.kill('SIGKILL');
		nodes.delete(LATE_NODE);
		const info = await left;
		expect(info).toMatchObject({ nodeId: LATE_NODE, reason: 'nodedied' });
		expect(info.transportIds).toContain(onD.id);
		expect(onD.closed).toBe(true);
		expect(onD.closeReason).toBe('nodedied');
		await nodeD.exited;
		// Its heartbeat key expires by itself (TTL 3 s); a controller's registry read prunes the set.
		await waitFor(() => redis.cli('exists', `${PREFIX}node:${LATE_NODE}`) === '0', 'node-d key expired', 6000);
		await waitFor(() => !redis.cli('smembers', `${PREFIX}nodes`).split('\n').includes(LATE_NODE), 'node-d pruned', 3000);
		// What a dead node wrote about its shards is taken out by the controller that saw it die.
		const stale = (): string[] => redis.cli('smembers', `${PREFIX}router:${router.id}:workers`).split('\n').filter((m) => m.startsWith(`${LATE_NODE}/`));
		await waitFor(() => stale().length === 0, 'node-d out of the router set', 3000);
		// The registry read that pruned it forgot the rest too, for routers no controller here knows as well.
		expect(redis.cli('exists', `${PREFIX}node-routers:${LATE_NODE}`, `${PREFIX}node-producers:${LATE_NODE}`)).toBe('0');
	});
});

describe('nobody else gets in; bad input from the network gets an error, never a crash', () => {
	test('a wrong secret is refused, a broken stream is dropped, a bad request gets an error naming the problem', async () => {
		const node = JSON.parse(redis.cli('get', `${PREFIX}node:node-a`)) as NodeSummary;
		await expect(ControlClient.connect(node.controlHost, node.controlPort, { secret: 'not-the-secret', controllerId: 'intruder' }))
			.rejects.toThrow(/could not prove|refused|closed/);
		// Not frames at all, then a frame that claims 4 GB, then JSON that is no frame type.
		for (const bytes of [Buffer.from('GET / HTTP/1.1\r\n\r\n'), Buffer.from([0xff, 0xff, 0xff, 0xff]), encodeFrame({ t: 'hello' })]) {
			const socket = net.connect(node.controlPort, node.controlHost);
			// Read what the node says (its challenge, then a rejection), so that its close reaches us.
			socket.resume();
			await new Promise((resolve) => socket.once('connect', resolve));
			socket.write(bytes);
			await new Promise((resolve) => socket.once('close', resolve));
		}
		// The node still lets the right secret in.
		const client = await ControlClient.connect(node.controlHost, node.controlPort, { secret: SECRET, controllerId: 'tester' });
		try {
			await expect(client.request(0, 'createTransport', [{ shardId: 7 }])).rejects.toThrow(/createTransport takes/);
			await expect(client.request(0, 'start' as never, [])).rejects.toThrow(/req.method must be one of/);
			await expect(client.request(99, 'dump', [])).rejects.toThrow(/no running worker 99/);
			await expect(client.request(0, 'call', [{ objectId: 'nope', method: 'close', args: [] }])).rejects.toThrow();
			// And after all of that it still serves.
			expect(await client.request(0, 'dump', [])).toMatchObject({ worker: { pid: expect.any(Number) } });
		} finally {
			client.close();
		}
		expect(nodes.get('node-a')!.child.exitCode).toBeNull();
	});

	test('options: a missing secret, a bad Redis URL and a bad node address name their field', () => {
		const saved = process.env.MAFALDA_CLUSTER_SECRET;
		delete process.env.MAFALDA_CLUSTER_SECRET;
		try {
			expect(() => new Mafalda(mediasoup, { cluster: { redis: redis.url } })).toThrow(/options\.cluster\.secret/);
			expect(() => new Mafalda(mediasoup, { cluster: { redis: 'http://x', secret: SECRET } })).toThrow(/options\.cluster\.redis/);
			expect(() => new MafaldaNode(mediasoup, { redis: redis.url, announcedIp: 'nowhere', secret: SECRET })).toThrow(/options\.announcedIp/);
			expect(() => parseNodeArgs(['--rtc-ports', '5-'])).toThrow(/--rtc-ports/);
			expect(() => parseNodeArgs(['--frobnicate', '1'])).toThrow(/--frobnicate/);
		} finally {
			if (saved !== undefined) process.env.MAFALDA_CLUSTER_SECRET = saved;
		}
	});

	test('a Redis nobody answers at: a clear ClusterUnavailableError, and close() still returns', async () => {
		const lonely = new Mafalda(mediasoup, { numWorkers: 0, cluster: { redis: 'redis://user:pw@127.0.0.1:1', secret: SECRET } });
		try {
			const router = await lonely.createMafaldaRouter({ routerOptions: { mediaCodecs } }).then((r) => r.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' } }));
			throw new Error(`made ${router.id} without Redis`);
		} catch (error) {
			expect(error).toMatchObject({ name: 'ClusterUnavailableError', code: 'ERR_MAFALDA_CLUSTER_UNAVAILABLE' });
			// The URL's credentials are not in the message.
			expect((error as Error).message).toMatch(/redis:\/\/\*\*\*@127\.0\.0\.1:1/);
		} finally {
			await lonely.close();
		}
	});
});
