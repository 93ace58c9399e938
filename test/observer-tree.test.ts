// mafalda.observer gives a mediasoup app's console the tree it hooks on
// mediasoup.observer: newworker, then each worker's newrouter (its router
// shards), each router's newtransport and newrtpobserver, each transport's
// newproducer / newconsumer / newdataproducer / newdataconsumer, and 'close'
// on every one of them, with real RTP and data flowing across two workers.
import * as mediasoup from 'mediasoup';
import { mediasoupRuntimeClass } from '../lib/mediasoup-compat';
import {
	type Consumer,
	type DataConsumer,
	type DataProducer,
	Mafalda,
	PlainTransport,
	Producer,
	Router,
	RtpObserver,
	Transport,
	Worker,
	observer as packageObserver,
} from '../lib';
import { mediaCodecs, publishVideo, sendVideo, view, waitFor } from './helpers/mafalda-media';

type Listener = (...args: unknown[]) => void;
interface Observable {
	observer: { on(event: string, listener: Listener): unknown };
}

/** What a mediasoup console does: walks the observer tree down from the top and logs every event. */
class Console {
	readonly log: string[] = [];
	readonly workers: Worker[] = [];
	readonly routers: Router[] = [];
	readonly transports: Array<{ transport: Transport; underWorker: number; underRouter: Router }> = [];
	readonly children = new Map<string, string>();

	constructor(mafalda: Mafalda) {
		mafalda.observer.on('newworker', (worker) => {
			this.workers.push(worker);
			this.log.push(`newworker ${worker.index}`);
			worker.observer.on('close', () => this.log.push(`worker ${worker.index} close`));
			worker.observer.on('newrouter', (router) => this.#router(worker, router));
		});
	}

	#router(worker: Worker, router: Router): void {
		this.routers.push(router);
		this.log.push(`worker ${worker.index} newrouter`);
		this.#onClose(router, `router@${worker.index} close`);
		const on = (router as Observable).observer;
		on.on('newtransport', (t) => {
			const transport = t as Transport;
			this.transports.push({ transport, underWorker: worker.index, underRouter: router });
			this.log.push(`router@${worker.index} newtransport ${transport.constructor.name}`);
			this.#onClose(transport, `${transport.constructor.name}@${worker.index} close`);
			for (const event of ['newproducer', 'newconsumer', 'newdataproducer', 'newdataconsumer']) {
				(transport as Observable).observer.on(event, (c) => {
					const child = c as Producer | Consumer | DataProducer | DataConsumer;
					this.children.set(child.id, event);
					this.log.push(`${transport.constructor.name}@${worker.index} ${event} ${child.constructor.name}`);
					this.#onClose(child, `${child.constructor.name}@${worker.index} close`);
				});
			}
		});
		on.on('newrtpobserver', (o) => {
			const rtpObserver = o as RtpObserver;
			this.log.push(`router@${worker.index} newrtpobserver ${rtpObserver.constructor.name}`);
			this.#onClose(rtpObserver, `${rtpObserver.constructor.name}@${worker.index} close`);
		});
	}

	#onClose(object: Observable, line: string): void {
		object.observer.on('close', () => this.log.push(line));
	}
}

test("a console hooked on mafalda.observer sees every worker, router shard, transport, producer, consumer, data object and RTP observer, and each 'close'", async () => {
	const mafalda = new Mafalda(mediasoup, { numWorkers: 2 });
	const fromPackage: Worker[] = [];
	const onPackage = (worker: Worker): void => void fromPackage.push(worker);
	packageObserver.on('newworker', onPackage);
	const tree = new Console(mafalda);
	try {
		// One unit per worker: the viewer's transport opens a second shard on worker 1.
		const router = await mafalda.createMafaldaRouter({ maxConsumersPerWorker: 1, routerOptions: { mediaCodecs } });
		expect(tree.log).toEqual(['newworker 0', 'worker 0 newrouter']);
		const publisher = await publishVideo(router, 1111);
		const viewer = await view(router, publisher.producer.id);
		expect([publisher.transport.workerIndex, viewer.transport.workerIndex]).toEqual([0, 1]);
		const audioLevel = await router.createAudioLevelObserver();
		const direct = await router.createDirectTransport();
		const dataProducer = await direct.produceData({ label: 'bot' });
		const dataConsumer = await direct.consumeData({ dataProducerId: dataProducer.id });

		// Real media through the tree the console sees: RTP from worker 0's producer to worker 1's consumer.
		await Promise.all([sendVideo(publisher, 30), viewer.receiver.waitForPackets(20, 10_000)]);
		const message = new Promise<string>((resolve) => dataConsumer.on('message', (m) => resolve(Buffer.from(m as Uint8Array).toString())));
		dataProducer.send('hello console');
		expect(await message).toBe('hello console');

		// The workers and shard routers are those of the Common API; the package observer saw the same workers.
		expect(tree.workers).toEqual([...mafalda.workers.values()]);
		expect(fromPackage).toEqual(tree.workers);
		expect(tree.routers.sort()).toEqual([...router.routers.values()].sort());
		expect(tree.routers.map((r) => r.mafaldaRouterId)).toEqual([router.id, router.id]);
		// Each transport shows under the worker and shard router it is placed on; the pipe
		// transports mafalda made between the shards are not the app's and do not show.
		expect(tree.transports.map((t) => t.transport)).toEqual([...router.transports.values()]);
		for (const { transport, underWorker, underRouter } of tree.transports) {
			expect(underWorker).toBe(transport.workerIndex);
			expect(underRouter.workerIndex).toBe(transport.workerIndex);
		}
		expect(mafalda.pipes.pipes()).toHaveLength(1);
		// What the README says of instanceof: mafalda's classes, yes; mediasoup's own, no, since the real
		// objects live in worker threads (3.14 exports them as mediasoup.types.*; 3.27 exports
		// no classes, so no app can ask).
		expect(publisher.transport).toBeInstanceOf(PlainTransport);
		expect(publisher.transport).toBeInstanceOf(Transport);
		expect(publisher.producer).toBeInstanceOf(Producer);
		expect(audioLevel).toBeInstanceOf(RtpObserver);
		expect(tree.routers[0]).toBeInstanceOf(Router);
		expect(tree.workers[0]).toBeInstanceOf(Worker);
		for (const [object, name] of [
			[publisher.transport, 'PlainTransport'],
			[publisher.producer, 'Producer'],
		] as const) {
			const mediasoupClass = mediasoupRuntimeClass(mediasoup, name);
			if (mediasoupClass) expect(object instanceof mediasoupClass).toBe(false);
		}
		expect(router instanceof Router).toBe(false);
		expect(router.constructor.name).toBe('MafaldaRouter');
		expect(tree.children).toEqual(
			new Map([
				[publisher.producer.id, 'newproducer'],
				[viewer.consumer.id, 'newconsumer'],
				[dataProducer.id, 'newdataproducer'],
				[dataConsumer.id, 'newdataconsumer'],
			]),
		);
		const rtpObserverShard = audioLevel.workerIndex;
		const directShard = direct.workerIndex;
		expect(tree.log).toEqual([
			'newworker 0',
			'worker 0 newrouter',
			'router@0 newtransport PlainTransport',
			'PlainTransport@0 newproducer Producer',
			'newworker 1',
			'worker 1 newrouter',
			'router@1 newtransport PlainTransport',
			'PlainTransport@1 newconsumer Consumer',
			`router@${rtpObserverShard} newrtpobserver AudioLevelObserver`,
			`router@${directShard} newtransport DirectTransport`,
			`DirectTransport@${directShard} newdataproducer DataProducer`,
			`DirectTransport@${directShard} newdataconsumer DataConsumer`,
		]);

		// Closing a producer closes it and its consumer on the other worker, each saying so.
		tree.log.length = 0;
		publisher.producer.close();
		await waitFor(() => viewer.consumer.closed, 'the consumer to close');
		expect(tree.log).toEqual(['Producer@0 close', 'Consumer@1 close']);

		// Closing the MafaldaRouter closes its shards and what is on them; closing mafalda, its workers.
		tree.log.length = 0;
		await router.close();
		expect([...tree.log].sort()).toEqual(
			[
				'PlainTransport@0 close',
				'PlainTransport@1 close',
				`DirectTransport@${directShard} close`,
				`DataProducer@${directShard} close`,
				`DataConsumer@${directShard} close`,
				`AudioLevelObserver@${rtpObserverShard} close`,
				'router@0 close',
				'router@1 close',
			].sort(),
		);
		tree.log.length = 0;
		await Promise.all([publisher.sender.close(), viewer.receiver.close()]);
		await mafalda.close();
		expect(tree.log.sort()).toEqual(['worker 0 close', 'worker 1 close']);
	} finally {
		packageObserver.off('newworker', onPackage);
		await mafalda.close();
	}
}, 60_000);

test('a restarted worker is a new worker to the console (newworker again), as a new mediasoup Worker would be', async () => {
	const mafalda = new Mafalda(mediasoup, { numWorkers: 1, restartDelayMs: 50 });
	const tree = new Console(mafalda);
	try {
		const router = await mafalda.createMafaldaRouter();
		await router.createDirectTransport();
		const restarted = new Promise((resolve) => mafalda.once('workerrestarted', resolve));
		process.kill(mafalda.supervisor().pidOf(0) as number, 'SIGKILL');
		await restarted;
		await router.createDirectTransport();
		expect(tree.log).toEqual([
			'newworker 0',
			'worker 0 newrouter',
			'router@0 newtransport DirectTransport',
			'DirectTransport@0 close',
			'router@0 close',
			'worker 0 close',
			'newworker 0',
			'worker 0 newrouter',
			'router@0 newtransport DirectTransport',
		]);
		expect(tree.workers).toHaveLength(2);
		expect(tree.workers[0].closed).toBe(true);
		expect(tree.workers[0].died).toBe(true);
		expect([...mafalda.workers.values()]).toEqual([tree.workers[1]]);
	} finally {
		await mafalda.close();
	}
}, 30_000);
