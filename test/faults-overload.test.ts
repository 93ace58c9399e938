// Overload: when every worker a router may use is over its watermarks,
// placement still succeeds, on the least loaded worker, and the supervisor
// emits 'overloaded' (and only then).
import * as mediasoup from 'mediasoup';
import { Mafalda } from '../lib/Mafalda';
import type { MafaldaRouter } from '../lib/MafaldaRouter';
import type { OverloadedInfo } from '../lib/types';
import { PacedProducer, ReceivingEnd, VP8_CODECS } from './helpers/faults-media';
import { waitFor } from './helpers/faults-process';

let mafalda: Mafalda | undefined;
const peers: Array<PacedProducer | ReceivingEnd> = [];

afterEach(async () => {
	await mafalda?.close();
	mafalda = undefined;
	await Promise.all(peers.splice(0).map((p) => p.close()));
});

async function receiving(router: MafaldaRouter): Promise<ReceivingEnd> {
	const r = await ReceivingEnd.create(router);
	peers.push(r);
	return r;
}

async function loads(m: Mafalda): Promise<number[]> {
	return (await m.supervisor().balancer.loadTable()).map((w) => w.load);
}

test('every worker over maxConsumersPerWorker: the least loaded one takes the transport, and "overloaded" is emitted', async () => {
	mafalda = new Mafalda(mediasoup, { numWorkers: 2 });
	const overloaded: OverloadedInfo[] = [];
	mafalda.on('overloaded', (info) => overloaded.push(info));
	const router = await mafalda.createMafaldaRouter({ maxConsumersPerWorker: 2, routerOptions: { mediaCodecs: VP8_CODECS } });

	const p = await PacedProducer.create(router);
	peers.push(p);
	const r1 = await receiving(router);
	const r2 = await receiving(router);
	const r3 = await receiving(router);
	expect([p.transport, r1.transport, r2.transport, r3.transport].map((t) => t.workerIndex)).toEqual([0, 0, 1, 1]);
	// Worker 0 was full at r2, but a CPU was free: a second worker started instead of overloading.
	expect(overloaded).toEqual([]);
	const consumers = await Promise.all([r1, r2, r3].map((r) => r.consume(router, p.producer)));
	// Worker 0: the producer's idle transport, r1's consumer and the pipe consumer to worker 1.
	// Worker 1: two consumers. Both are at or over 2.
	await waitFor(async () => JSON.stringify(await loads(mafalda as Mafalda)) === '[3,2]', 'loads [3,2]');

	const r4 = await receiving(router);
	expect(r4.transport.workerIndex).toBe(1);
	expect(overloaded).toHaveLength(1);
	expect(overloaded[0]).toEqual({
		routerId: router.id,
		placement: { workerIndex: 1, openShard: false, overloaded: true, rule: 'least-loaded-overloaded' },
	});
	// Now 3 and 3: a tie goes to the lower index.
	await waitFor(async () => JSON.stringify(await loads(mafalda as Mafalda)) === '[3,3]', 'loads [3,3]');
	const r5 = await receiving(router);
	expect(r5.transport.workerIndex).toBe(0);
	expect(overloaded.map((o) => o.placement.workerIndex)).toEqual([1, 0]);

	// The overloaded placements are ordinary transports: media reaches them.
	const c4 = await r4.consume(router, p.producer);
	const c5 = await r5.consume(router, p.producer);
	p.start(5);
	await waitFor(() => r4.received(c4) >= 20 && r5.received(c5) >= 20 && consumers.every((c, i) => [r1, r2, r3][i].received(c) >= 20), 'media to every consumer', 5000);
	expect(mafalda.supervisor().workers()).toHaveLength(2);
});

test('every worker over watermarkWorker (CPU): placements succeed, alternate by load, and each emits "overloaded"', async () => {
	mafalda = new Mafalda(mediasoup, { numWorkers: 2 });
	const overloaded: OverloadedInfo[] = [];
	mafalda.on('overloaded', (info) => overloaded.push(info));
	// A 0 % CPU watermark: every worker is over it from its first report.
	const router = await mafalda.createMafaldaRouter({ watermarkWorker: 0, routerOptions: { mediaCodecs: VP8_CODECS } });
	const t1 = await router.createDirectTransport();
	const t2 = await router.createDirectTransport();
	const t3 = await router.createDirectTransport();
	// The first overloaded placement grew the pool to its limit; later ones can only share it.
	expect(mafalda.supervisor().workers()).toHaveLength(2);
	expect([t1, t2, t3].every((t) => !t.closed)).toBe(true);
	expect(overloaded).toHaveLength(3);
	expect(overloaded.every((o) => o.placement.overloaded && o.placement.rule === 'least-loaded-overloaded' && o.routerId === router.id)).toBe(true);
	// Least loaded each time: the three transports are spread, not stacked on one worker.
	expect(new Set([t1, t2, t3].map((t) => t.workerIndex))).toEqual(new Set([0, 1]));
});
