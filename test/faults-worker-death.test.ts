// A mediasoup worker is SIGKILLed, or its worker host thread throws, while
// media flows through two shards of one room; both get the same treatment. The app hears about exactly what died, with mediasoup's close events
// and mafalda's 'workerdied' reason; what lives on the surviving worker keeps
// receiving without a gap; pipes into the dead shard are torn down on the
// surviving side; a new worker replaces the dead one and takes new placements.
// A worker that relayed a stream deeper in the tree dies: the shard behind it
// is fed again from another carrier (three workers: on a 2-core machine they share its CPUs).
import * as mediasoup from 'mediasoup';
import * as os from 'node:os';
import { Mafalda } from '../lib/Mafalda';
import type { MafaldaRouter } from '../lib/MafaldaRouter';
import type { RepipeInfo } from '../lib/types';
import { buildRelayTree, longestGap } from '../bench/cluster/relay-tree';
import { PacedProducer, ReceivingEnd, VP8_CODECS } from './helpers/faults-media';
import { closeEvents, EventLog, hostDump, mediasoupCounts } from './helpers/faults-mafalda';
import { isAlive, nextEvent, sleep, waitFor } from './helpers/faults-process';

let mafalda: Mafalda | undefined;
const peers: Array<PacedProducer | ReceivingEnd> = [];

afterEach(async () => {
	for (const p of peers) if (p instanceof PacedProducer) p.stop();
	await mafalda?.close();
	mafalda = undefined;
	await Promise.all(peers.splice(0).map((p) => p.close()));
});

async function producer(router: MafaldaRouter): Promise<PacedProducer> {
	const p = await PacedProducer.create(router);
	peers.push(p);
	return p;
}

async function receiving(router: MafaldaRouter): Promise<ReceivingEnd> {
	const r = await ReceivingEnd.create(router);
	peers.push(r);
	return r;
}

interface Fault {
	name: string;
	inject(mafalda: Mafalda, index: number): Promise<void>;
	/** What `workerdied`'s error says about it. */
	error: RegExp;
}

const FAULTS: Fault[] = [
	{
		name: 'SIGKILL of the mediasoup-worker process',
		inject: async (m, index) => {
			process.kill(m.supervisor().pidOf(index) as number, 'SIGKILL');
		},
		error: /mediasoup worker died: .*SIGKILL/,
	},
	{
		name: 'an exception inside the worker host thread',
		inject: async (m, index) => {
			await m.supervisor().handle(index)!.api.crashForTest();
		},
		error: /worker host thread crashed: mafalda test: worker host thread crash/,
	},
];

test.each(FAULTS)('$name: events, survivors keep receiving, pipes cleaned, replacement takes placements', async (fault) => {
	mafalda = new Mafalda(mediasoup, { numWorkers: 2, restartDelayMs: 50 });
	const log = new EventLog(mafalda);
	// Three units of load per worker: the room fills worker 0, then spills over to worker 1.
	const router = await mafalda.createMafaldaRouter({ maxConsumersPerWorker: 3, routerOptions: { mediaCodecs: VP8_CODECS } });
	const routerDied = nextEvent<{ workerIndex: number }>(router, 'workerdied');

	const a = await producer(router);
	const r0a = await receiving(router);
	const r0b = await receiving(router);
	const cA0a = await r0a.consume(router, a.producer);
	const cA0b = await r0b.consume(router, a.producer);
	const r1 = await receiving(router);
	const cA1 = await r1.consume(router, a.producer);
	const b = await producer(router);
	// A consumer on the surviving worker of a producer on the worker that will die: fed by a pipe 1 -> 0.
	const cB0 = await r0a.consume(router, b.producer);
	const cB1 = await r1.consume(router, b.producer);

	expect([a.producer, r0a.transport, r0b.transport, cA0a, cA0b, cB0].map((o) => o.workerIndex)).toEqual([0, 0, 0, 0, 0, 0]);
	expect([r1.transport, cA1, b.producer, b.transport, cB1].map((o) => o.workerIndex)).toEqual([1, 1, 1, 1, 1]);
	expect(mafalda.pipes.pipes().map((p) => `${p.fromWorker}->${p.toWorker}`).sort()).toEqual(['0->1', '1->0']);

	a.start(5);
	b.start(5);
	await waitFor(() => r0b.received(cA0b) >= 20 && r0a.received(cB0) >= 20 && r1.received(cA1) >= 20, 'media on both shards', 5000);

	const seen = {
		deadTransport: closeEvents(r1.transport),
		deadProducerTransport: closeEvents(b.transport),
		deadConsumer: closeEvents(cA1),
		deadConsumerOfDeadProducer: closeEvents(cB1),
		deadProducer: closeEvents(b.producer),
		survivingConsumerOfDeadProducer: closeEvents(cB0),
		survivingConsumer: closeEvents(cA0b),
	};
	const oldPid = mafalda.supervisor().pidOf(1);
	expect(oldPid).toBeGreaterThan(0);
	const died = nextEvent<{ workerIndex: number; error: string; willRestart: boolean; routerIds: string[]; transportIds: string[] }>(mafalda, 'workerdied');
	const restarted = nextEvent<{ workerIndex: number; pid: number }>(mafalda, 'workerrestarted');
	const receivedAtKill = r0b.received(cA0b);
	const sentAtKill = a.sent;
	await fault.inject(mafalda, 1);

	const info = await died;
	expect(info.workerIndex).toBe(1);
	expect(info.willRestart).toBe(true);
	expect(info.error).toMatch(fault.error);
	expect(info.routerIds).toEqual([router.id]);
	// The app's transports on worker 1, and only those (the pipe ends are mafalda's own).
	expect(info.transportIds.sort()).toEqual([r1.transport.id, b.transport.id].sort());
	await expect(routerDied).resolves.toMatchObject({ workerIndex: 1 });

	// What lived on the dead worker closed the way mediasoup reports a closed
	// router, with mafalda's reason on every proxy.
	expect(seen.deadTransport).toEqual(['routerclose']);
	expect(seen.deadProducerTransport).toEqual(['routerclose']);
	expect(seen.deadConsumer).toEqual(['transportclose']);
	expect(seen.deadConsumerOfDeadProducer).toEqual(['transportclose']);
	expect(seen.deadProducer).toEqual(['transportclose']);
	for (const o of [r1.transport, b.transport, cA1, cB1, b.producer]) {
		expect(o.closed).toBe(true);
		expect(o.closeReason).toBe('workerdied');
	}
	// Its consumer on the surviving worker lost its producer, as on one router.
	await waitFor(() => cB0.closed, 'the surviving consumer of the dead producer to close');
	expect(seen.survivingConsumerOfDeadProducer).toEqual(['producerclose']);
	expect(router.transports.has(r1.transport.id)).toBe(false);
	expect(mafalda.transports.has(b.transport.id)).toBe(false);
	expect(router.shards().has(1)).toBe(false);

	// Pipes into and out of the dead shard are gone on the surviving side too:
	// mediasoup on worker 0 holds exactly the app's three transports and A's two consumers.
	expect(mafalda.pipes.pipeCount).toBe(0);
	expect(log.of('pipeclosed').length).toBe(2);
	await waitFor(async () => (await mediasoupCounts(mafalda as Mafalda, 0)).transports === 3, 'the pipe transport on worker 0 to close');
	expect(await mediasoupCounts(mafalda, 0)).toEqual({ routers: 1, transports: 3, producers: 1, consumers: 2, observers: 0 });
	const w0 = (await hostDump(mafalda, 0)).routers[0].dump;
	expect(w0.mapProducerIdConsumerIds).toEqual([{ key: a.producer.id, values: expect.arrayContaining([cA0a.id, cA0b.id]) }]);

	// A replacement starts, in a new process, at the same index; the old
	// process is gone (after a thread crash the supervisor kills it).
	const again = await restarted;
	expect(again.workerIndex).toBe(1);
	expect(again.pid).not.toBe(oldPid);
	await waitFor(() => !isAlive(oldPid as number), 'the killed worker to be reaped', 2000);
	expect(isAlive(again.pid)).toBe(true);
	expect(mafalda.workers.get('1')?.pid).toBe(again.pid);

	// The surviving consumer never stopped: every packet sent since the kill
	// arrived, with no sequence gap (mediasoup does not buffer: an interrupted
	// stream would show lost packets). No bound on silence: the sender and
	// receiver run in this busy test thread, whose stalls would show as gaps.
	await sleep(300);
	const sentSinceKill = a.sent - sentAtKill;
	await waitFor(() => r0b.received(cA0b) - receivedAtKill >= sentSinceKill - 1, 'every packet sent since the kill to arrive', 3000);
	expect(sentSinceKill).toBeGreaterThan(40);
	expect(r0b.lost(cA0b)).toBe(0);
	expect(seen.survivingConsumer).toEqual([]);
	expect(cA0a.closed || cA0b.closed).toBe(false);

	// Worker 0 is full (3 units), so the next transport goes to the replacement,
	// and a consumer there gets A's media through a new pipe.
	const r1b = await receiving(router);
	expect(r1b.transport.workerIndex).toBe(1);
	expect(r1b.transport.shardId).not.toBe(r1.transport.shardId);
	const cA1b = await r1b.consume(router, a.producer);
	const before = r1b.received(cA1b);
	await waitFor(() => r1b.received(cA1b) >= before + 20, 'media on the replacement worker', 5000);
	expect(mafalda.pipes.pipes().map((p) => `${p.fromWorker}->${p.toWorker}`)).toEqual(['0->1']);
});

test('a worker death touches only the rooms with a shard on it; calls on dead proxies fail fast', async () => {
	mafalda = new Mafalda(mediasoup, { numWorkers: 2, restartDelayMs: 20 });
	const roomA = await mafalda.createMafaldaRouter({ maxConsumersPerWorker: 1, routerOptions: { mediaCodecs: VP8_CODECS } });
	const a = await producer(roomA);
	// Worker 0 is full (one unit): room B's first transport starts worker 1.
	const roomB = await mafalda.createMafaldaRouter({ maxConsumersPerWorker: 1, routerOptions: { mediaCodecs: VP8_CODECS } });
	const rB = await receiving(roomB);
	expect(a.producer.workerIndex).toBe(0);
	expect(rB.transport.workerIndex).toBe(1);
	const r = await receiving(roomA);
	const c = await r.consume(roomA, a.producer);
	a.start(5);
	await waitFor(() => r.received(c) >= 10, 'media in room A', 5000);

	const died = nextEvent<{ workerIndex: number; routerIds: string[]; transportIds: string[] }>(mafalda, 'workerdied');
	const restarted = nextEvent<{ workerIndex: number }>(mafalda, 'workerrestarted');
	const roomADied = jest.fn();
	roomA.on('workerdied', roomADied);
	process.kill(mafalda.supervisor().pidOf(1) as number, 'SIGKILL');
	const info = await died;
	expect(info).toMatchObject({ workerIndex: 1, routerIds: [roomB.id], transportIds: [rB.transport.id] });
	expect(roomADied).not.toHaveBeenCalled();
	// A call on a proxy of the dead worker rejects at once, naming what is closed.
	await expect(rB.transport.getStats()).rejects.toMatchObject({ code: 'ERR_MAFALDA_OBJECT_CLOSED' });
	await expect(rB.transport.consume({ producerId: a.producer.id, rtpCapabilities: roomB.rtpCapabilities })).rejects.toMatchObject({
		code: 'ERR_MAFALDA_TRANSPORT_CLOSED',
	});

	// Room B itself is not closed: after the restart it places transports again.
	await restarted;
	expect(roomB.closed).toBe(false);
	const rB2 = await receiving(roomB);
	expect(rB2.transport.closed).toBe(false);
	// Room A's media never stopped.
	const before = r.received(c);
	await waitFor(() => r.received(c) >= before + 20, 'media in room A after the death', 5000);
	expect(r.lost(c)).toBe(0);
});

test('a worker that relayed a stream deeper in the tree dies: the shard behind it is fed again from another carrier, its consumer stays', async () => {
	// A tree of depth 2 needs three shards of one router, so three workers: on
	// fewer CPUs they share them (cpuSlotCount), which this light stream allows.
	const m = new Mafalda(mediasoup, {
		numWorkers: 3,
		prestartWorkers: 3,
		cpuSlotCount: Math.max(3, os.availableParallelism()),
		restartDelayMs: 50,
		loadReportIntervalMs: 100,
	});
	mafalda = m;
	const repiped: RepipeInfo[] = [];
	m.on('piperepiped', (info) => repiped.push(info));
	const tree = await buildRelayTree(m, { routerId: 'relay-inside-one-machine', ssrc: 0x6666, address: '127.0.0.1' });
	try {
		const { consumer, receiver } = tree.leafViewer;
		const id = consumer.id;
		const seen = closeEvents(consumer);
		const arrivals = receiver.recordArrivals();
		await receiver.waitForPackets(receiver.packets + 25, 5000);
		const before = receiver.packets;
		const killedAt = Date.now();
		process.kill(m.supervisor().pidOf(tree.workers.relay) as number, 'SIGKILL');
		await waitFor(() => repiped.some((r) => r.toWorker === tree.workers.leaf), 'the leaf fed again', 10_000);
		await receiver.waitForPackets(before + 50, 10_000);
		const gapMs = longestGap(arrivals, killedAt - 1000);
		expect(tree.relayViewer.consumer.closeReason).toBe('workerdied');
		expect(consumer.closed).toBe(false);
		expect(consumer.id).toBe(id);
		expect(seen).toEqual([]);
		expect(repiped.find((r) => r.toWorker === tree.workers.leaf)).toMatchObject({ fromWorker: tree.workers.origin, depth: 1, previous: { fromWorker: tree.workers.relay, depth: 2 } });
		expect(gapMs).toBeLessThanOrEqual(2000);
		console.log(`FAULT relay-worker-killed: SIGKILL of worker ${tree.workers.relay} relaying ${tree.workers.origin} -> ${tree.workers.relay} -> ${tree.workers.leaf}: ` +
			`re-piped from worker ${tree.workers.origin}; longest gap at the leaf's receiver ${Math.round(gapMs)} ms`);
	} finally {
		await tree.close();
	}
});
