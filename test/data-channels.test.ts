// Data producers and consumers behave like mediasoup's through the proxies:
// SCTP-less DirectTransports on one shard, messages both ways of the RPC.
import * as mediasoup from 'mediasoup';
import { InvalidArgumentError, Mafalda, type RemoteDataConsumer } from '../lib';

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
	const newDataConsumers: RemoteDataConsumer[] = [];
	receiving.observer.on('newdataconsumer', (c) => newDataConsumers.push(c as RemoteDataConsumer));
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
	await router.close();
});
