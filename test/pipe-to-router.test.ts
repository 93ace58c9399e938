// mediasoup's router.pipeToRouter() between MafaldaRouters, with real RTP and
// SCTP: to a MafaldaRouter of another Mafalda (two sets of workers joined by
// the pipe pair), and, with keepId: false, of the same one. Also what the
// suites do not look at: router.dump() after piping (mafalda's own pipes left
// out), router.close() being synchronous while the shards close behind it, and
// 'workerclose' when the Mafalda closes.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as mediasoup from 'mediasoup';
import { Mafalda, type MafaldaRouter, PipeTransport } from '../lib';
import { mediaCodecs, publishVideo, sendVideo, view, waitFor, type Publisher, type Viewer } from './helpers/mafalda-media';

const slotDirs: string[] = [];
const sockets: Array<{ close(): Promise<void> }> = [];

/** Each Mafalda stands for another machine: its own CPU slot folder. */
function newMafalda(numWorkers: number): Mafalda {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mafalda-pipe-to-router-'));
	slotDirs.push(dir);
	return new Mafalda(mediasoup, { numWorkers, cpuSlotDir: dir });
}

function track<T extends Publisher | Viewer>(x: T): T {
	sockets.push('sender' in x ? x.sender : x.receiver);
	return x;
}

function pipeTransportOf(router: MafaldaRouter): PipeTransport {
	const pipes = [...router.transports.values()].filter((t) => t instanceof PipeTransport);
	expect(pipes).toHaveLength(1);
	return pipes[0] as PipeTransport;
}

let east: Mafalda;
let west: Mafalda;

beforeAll(() => {
	east = newMafalda(2);
	west = newMafalda(1);
});

afterAll(async () => {
	await Promise.all([east.close(), west.close()]);
	await Promise.all(sockets.map((s) => s.close()));
	for (const dir of slotDirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('pipeToRouter() to a MafaldaRouter of another Mafalda', () => {
	let a: MafaldaRouter;
	let b: MafaldaRouter;
	let pub: Publisher;

	beforeAll(async () => {
		// One unit per worker: the producer's transport fills worker 0, so the
		// pipe transport lands on worker 1 and needs one of mafalda's own pipes.
		a = await east.createMafaldaRouter({ maxConsumersPerWorker: 1, routerOptions: { mediaCodecs } });
		b = await west.createMafaldaRouter({ routerOptions: { mediaCodecs } });
		pub = track(await publishVideo(a, 0x5151));
	});

	test('RTP reaches a viewer in the other Mafalda, and the dumps show what mediasoup would', async () => {
		const { pipeConsumer, pipeProducer } = await a.pipeToRouter({ producerId: pub.producer.id, router: b });
		expect(pipeConsumer?.type).toBe('pipe');
		expect(pipeConsumer?.producerId).toBe(pub.producer.id);
		expect(pipeProducer?.id).toBe(pub.producer.id);
		expect(pipeProducer?.kind).toBe('video');
		const viewer = track(await view(b, pub.producer.id));
		await sendVideo(pub, 30);
		await viewer.receiver.waitForPackets(30, 5000);

		const localPipe = pipeTransportOf(a);
		const remotePipe = pipeTransportOf(b);
		expect(localPipe.tuple.localPort).toBe(remotePipe.tuple.remotePort);
		expect(localPipe.workerIndex).not.toBe(pub.producer.workerIndex);
		expect(east.pipes.pipeCount).toBe(1);

		// mafalda's pipe from worker 0 to worker 1 (two PipeTransports, a pipe
		// consumer, a pipe producer) is not in the app's view of the router.
		const dumpA = await a.dump();
		expect(dumpA.id).toBe(a.id);
		expect(dumpA.transportIds.sort()).toEqual([pub.transport.id, localPipe.id].sort());
		expect(dumpA.mapProducerIdConsumerIds).toEqual([{ key: pub.producer.id, values: [pipeConsumer!.id] }]);
		expect(dumpA.mapConsumerIdProducerId).toEqual([{ key: pipeConsumer!.id, value: pub.producer.id }]);
		const dumpB = await b.dump();
		expect(dumpB.transportIds.sort()).toEqual([remotePipe.id, viewer.transport.id].sort());
		expect(dumpB.mapProducerIdConsumerIds).toEqual([{ key: pub.producer.id, values: [viewer.consumer.id] }]);
		expect(dumpB.mapConsumerIdProducerId).toEqual([{ key: viewer.consumer.id, value: pub.producer.id }]);
		// mafalda's own view still shows its shards and pipes.
		expect(((await a.mafaldaDump()).shards as unknown[]).length).toBe(2);

		// A second producer reuses the pair, as in mediasoup.
		const second = track(await publishVideo(a, 0x5252));
		await a.pipeToRouter({ producerId: second.producer.id, router: b });
		expect(pipeTransportOf(b).id).toBe(remotePipe.id);

		// Pause and close travel to the other Mafalda.
		const paused = new Promise<void>((resolve) => viewer.consumer.once('producerpause', () => resolve()));
		await pub.producer.pause();
		await paused;
		// The viewer hears of the pause from the worker before the pipe
		// producer's pause() has answered (on one mediasoup Router too).
		await waitFor(() => pipeProducer?.paused === true, 'the pipe producer to be paused');
		const closed = new Promise<void>((resolve) => viewer.consumer.once('producerclose', () => resolve()));
		pub.producer.close();
		await closed;
		await waitFor(() => pipeProducer!.closed, 'the pipe producer in the other Mafalda to close');
	});

	test('a data producer: SCTP messages reach a data consumer in the other Mafalda', async () => {
		const direct = await a.createDirectTransport();
		const dataProducer = await direct.produceData({ label: 'chat' });
		const { pipeDataConsumer, pipeDataProducer } = await a.pipeToRouter({ dataProducerId: dataProducer.id, router: b });
		expect(pipeDataConsumer?.label).toBe('chat');
		expect(pipeDataProducer?.id).toBe(dataProducer.id);
		const receiving = await b.createDirectTransport();
		const dataConsumer = await receiving.consumeData({ dataProducerId: dataProducer.id });
		const message = new Promise<string>((resolve) => dataConsumer.once('message', (m: Uint8Array) => resolve(Buffer.from(m).toString('utf8'))));
		// SCTP between the pipe ends may still be connecting: send until one arrives.
		let got: string | undefined;
		void message.then((m) => (got = m));
		await waitFor(() => {
			if (got === undefined) dataProducer.send('hello across');
			return got !== undefined;
		}, 'a message through the pipe pair', 10_000);
		expect(got).toBe('hello across');
	});

	test('router.close() is synchronous: its pipe transport pair and the pipe producer close with it', async () => {
		const localPipe = pipeTransportOf(a);
		const remotePipe = pipeTransportOf(b);
		const shardIds = [...a.routers.keys()];
		expect(shardIds).toHaveLength(2);
		const onClose = jest.fn();
		a.observer.once('close', onClose);
		a.close();
		expect(onClose).toHaveBeenCalledTimes(1);
		expect(a.closed).toBe(true);
		expect(localPipe.closed).toBe(true);
		expect(remotePipe.closed).toBe(true);
		expect(a.transports.size).toBe(0);
		await expect(a.dump()).rejects.toThrow(/is closed/);
		// Behind it, the shards leave their hosts: nothing of the router is left.
		await a.tornDown();
		for (const worker of east.workers.values()) {
			const dump = (await worker.dump()) as { routers: Array<{ routerId: string }> };
			expect(dump.routers.map((r) => r.routerId)).not.toContain(a.id);
		}
		expect(east.pipes.pipeCount).toBe(0);
		// The other side is still usable.
		expect(b.closed).toBe(false);
		expect((await b.dump()).transportIds).not.toContain(remotePipe.id);
	});
});

describe('pipeToRouter() within one Mafalda', () => {
	test('keepId: false pipes to another MafaldaRouter of the same Mafalda under a new id', async () => {
		const a = await east.createMafaldaRouter({ routerOptions: { mediaCodecs } });
		const a2 = await east.createMafaldaRouter({ routerOptions: { mediaCodecs } });
		const pub = track(await publishVideo(a, 0x5353));
		// As two Routers of one mediasoup Worker: the kept id would be taken.
		await expect(a.pipeToRouter({ producerId: pub.producer.id, router: a2 })).rejects.toThrow(TypeError);
		const { pipeProducer } = await a.pipeToRouter({ producerId: pub.producer.id, router: a2, keepId: false });
		expect(pipeProducer?.id).not.toBe(pub.producer.id);
		const viewer = track(await view(a2, pipeProducer!.id));
		await sendVideo(pub, 30);
		await viewer.receiver.waitForPackets(30, 5000);
		a.close();
		a2.close();
	});
});

describe('closing the Mafalda', () => {
	test("its MafaldaRouters emit 'workerclose' and observer 'close' before close() returns", async () => {
		const spare = newMafalda(1);
		const router = await spare.createMafaldaRouter({ routerOptions: { mediaCodecs } });
		const transport = await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] });
		const events: string[] = [];
		router.once('workerclose', () => events.push('workerclose'));
		router.observer.once('close', () => events.push('observer close'));
		transport.once('routerclose', () => events.push('transport routerclose'));
		const closing = spare.close();
		expect(events).toEqual(['transport routerclose', 'workerclose', 'observer close']);
		expect(router.closed).toBe(true);
		await closing;
	});
});
