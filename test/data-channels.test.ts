// Data producers and consumers behave like mediasoup's through the proxies:
// SCTP-less DirectTransports on one shard, messages both ways of the RPC.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as mediasoup from 'mediasoup';
import { InvalidArgumentError, Mafalda, type DataConsumer } from '../lib';
import { closeRouter } from './helpers/mafalda-media';

let mafalda: Mafalda;

beforeAll(() => {
	mafalda = new Mafalda(mediasoup, { numWorkers: 1 });
});

afterAll(async () => {
	await mafalda.close();
});

test('a DirectTransport data producer reaches a data consumer with its appData and events', async () => {
	const router = await mafalda.createMafaldaRouter();
	const sending = await router.createDirectTransport({ appData: { side: 'send' } });
	const receiving = await router.createDirectTransport();
	expect(sending.appData).toEqual({ side: 'send' });
	const dataProducer = await sending.produceData({ label: 'chat', protocol: 'text', appData: { who: 'alice' } });
	expect(dataProducer.label).toBe('chat');
	expect(dataProducer.appData).toEqual({ who: 'alice' });
	const newDataConsumers: DataConsumer[] = [];
	receiving.observer.on('newdataconsumer', (c) => newDataConsumers.push(c as DataConsumer));
	const dataConsumer = await receiving.consumeData({ dataProducerId: dataProducer.id });
	expect(newDataConsumers).toEqual([dataConsumer]);
	expect(dataConsumer.dataProducerId).toBe(dataProducer.id);

	const received = new Promise<[unknown, unknown]>((resolve) => dataConsumer.on('message', (message, ppid) => resolve([message, ppid])));
	dataProducer.send('hello through a worker thread');
	const [message, ppid] = await received;
	expect(Buffer.from(message as Uint8Array).toString()).toBe('hello through a worker thread');
	expect(ppid).toBe(51); // WebRTC string

	await expect(receiving.consumeData({ dataProducerId: 'nope' } as never)).rejects.toThrow(/no data producer with id "nope"/);
	await expect(receiving.consumeData({} as never)).rejects.toBeInstanceOf(InvalidArgumentError);

	const closed = new Promise<void>((resolve) => dataConsumer.on('dataproducerclose', () => resolve()));
	dataProducer.close();
	await closed;
	expect(dataConsumer.closed).toBe(true);
	await closeRouter(router);
});

test('a data producer on one shard reaches a data consumer on another, through an SCTP pipe', async () => {
	// Its own CPU slots: the instance above already holds one of this process's.
	const two = new Mafalda(mediasoup, { numWorkers: 2, cpuSlotDir: fs.mkdtempSync(path.join(os.tmpdir(), 'mafalda-data-slots-')) });
	try {
		const piped: string[] = [];
		two.on('pipeopened', (info) => piped.push(`${info.stream}:${info.fromWorker}->${info.toWorker}`));
		// One unit per worker: the second transport opens a shard on the second worker.
		const router = await two.createMafaldaRouter({ maxConsumersPerWorker: 1 });
		const sending = await router.createDirectTransport();
		const receiving = await router.createDirectTransport();
		expect([sending.workerIndex, receiving.workerIndex]).toEqual([0, 1]);
		const dataProducer = await sending.produceData({ label: 'chat' });
		const dataConsumer = await receiving.consumeData({ dataProducerId: dataProducer.id });
		expect(dataConsumer.dataProducerId).toBe(dataProducer.id);
		expect(dataConsumer.label).toBe('chat');
		expect(piped).toEqual(['data:0->1']);

		// SCTP needs a moment to connect across the pipe: send until a message arrives.
		const received = new Promise<string>((resolve) => dataConsumer.on('message', (m) => resolve(Buffer.from(m as Uint8Array).toString())));
		let arrived = false;
		void received.then(() => (arrived = true));
		for (let i = 0; i < 100 && !arrived; i++) {
			dataProducer.send('across workers');
			await new Promise((r) => setTimeout(r, 50));
		}
		expect(await received).toBe('across workers');

		const closed = new Promise<void>((resolve) => dataConsumer.on('dataproducerclose', () => resolve()));
		dataProducer.close();
		await closed;
		expect(two.dataPipes.pipeCount).toBe(0);
	} finally {
		await two.close();
	}
});
