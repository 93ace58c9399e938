// Clean shutdown: mafalda.close() during activity resolves promptly, closes
// everything, gives the CPU slots back, leaves no thread, port or process
// behind, and a process that used mafalda then exits on its own.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as mediasoup from 'mediasoup';
import { Mafalda } from '../lib/Mafalda';
import { MafaldaRouter } from '../lib/MafaldaRouter';
import { PacedProducer, ReceivingEnd, VP8_CODECS } from './helpers/faults-media';
import { isAlive, nextEvent, sleep, waitFor } from './helpers/faults-process';

let slotDir: string;

beforeEach(() => {
	slotDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mafalda-shutdown-slots-'));
});

afterEach(() => {
	fs.rmSync(slotDir, { recursive: true, force: true });
});

const locks = (): string[] => fs.readdirSync(slotDir).filter((f) => f.endsWith('.lock'));
const messagePorts = (): number => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;

/** Errors an in-flight call may end with when mafalda closes under it: each names what closed. */
const CLOSED_CODES = /^ERR_MAFALDA_(CLOSED|ROUTER_CLOSED|TRANSPORT_CLOSED|OBJECT_CLOSED):/;

/** The promise's value, or 'hung' after `ms` (with no timer left behind either way). */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'hung'> {
	let timer: NodeJS.Timeout | undefined;
	const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), ms)));
	try {
		return await Promise.race([promise, hung]);
	} finally {
		clearTimeout(timer);
	}
}

test('a process that closes mafalda during activity exits on its own, with no worker left', async () => {
	const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'faults-shutdown-child.js'), slotDir]);
	let out = '';
	child.stdout.on('data', (d: Buffer) => (out += d.toString()));
	child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
	const code = await new Promise<number | null>((resolve) => {
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			resolve(-1);
		}, 15_000);
		child.once('exit', (c) => {
			clearTimeout(timer);
			resolve(c);
		});
	});
	const exitedAt = Date.now();
	// -1 would mean it was still running 15 s later: something kept it alive.
	expect(code).toBe(0);
	const report = JSON.parse(out.trim()) as {
		closeMs: number;
		outcomes: string[] | 'hung';
		workerPids: number[];
		received: number[];
		allClosed: boolean;
		routerClosed: boolean;
		transports: number;
		closedAt: number;
	};
	expect(report.outcomes).not.toBe('hung');
	for (const outcome of report.outcomes as string[]) {
		// Either done before close() got to it (and then closed by it), or failed saying what closed.
		if (outcome !== 'fulfilled') expect(outcome).toMatch(CLOSED_CODES);
	}
	expect(report.closeMs).toBeLessThan(3000);
	// Media really flowed before the close.
	expect(Math.min(...report.received)).toBeGreaterThan(0);
	expect(report).toMatchObject({ allClosed: true, routerClosed: true, transports: 0 });
	expect(report.workerPids).toHaveLength(2);
	// Told to close, they finish on their own, even if the process exited first.
	await waitFor(() => report.workerPids.every((pid) => !isAlive(pid)), 'the mediasoup workers of the process to exit', 3000);
	expect(locks()).toEqual([]);
	// It exited right after its last line, not after some timeout.
	expect(exitedAt - report.closedAt).toBeLessThan(2000);
});

test('close() during activity resolves, closes every object, kills no more than it must and leaves nothing running', async () => {
	const portsBefore = messagePorts();
	const mafalda = new Mafalda(mediasoup, { numWorkers: 2, cpuSlotDir: slotDir, restartDelayMs: 5000 });
	const routerA = await mafalda.createMafaldaRouter({ maxConsumersPerWorker: 2, routerOptions: { mediaCodecs: VP8_CODECS } });
	const routerB = await mafalda.createMafaldaRouter({ routerOptions: { mediaCodecs: VP8_CODECS } });
	const p = await PacedProducer.create(routerA);
	const ends: ReceivingEnd[] = [];
	try {
		for (let i = 0; i < 3; i++) ends.push(await ReceivingEnd.create(routerA));
		const consumers = await Promise.all(ends.map((e) => e.consume(routerA, p.producer)));
		const observer = await routerA.createAudioLevelObserver();
		const directB = await routerB.createDirectTransport();
		p.start(3);
		await waitFor(() => ends.every((e, i) => e.received(consumers[i]) > 5), 'media before the close');
		const workerPids = mafalda.supervisor().workers().map((h) => h.pid);
		expect(workerPids).toHaveLength(2);
		expect(locks()).toHaveLength(2);

		const closes: string[] = [];
		routerA.on('close', () => closes.push('routerA'));
		routerB.on('close', () => closes.push('routerB'));
		p.producer.observer.on('close', () => closes.push('producer'));
		consumers[2].observer.on('close', () => closes.push('consumer'));
		observer.observer.on('close', () => closes.push('observer'));
		directB.observer.on('close', () => closes.push('directB'));

		// In flight when close() is called: new transports, consumers, a pipe, a router, stats.
		const inFlight: Array<Promise<unknown>> = [
			ReceivingEnd.create(routerA).then((e) => {
				ends.push(e);
				return e.consume(routerA, p.producer);
			}),
			routerB.createDirectTransport(),
			mafalda.createMafaldaRouter(),
			p.transport.getStats(),
			consumers[0].getStats(),
		];
		const settled = Promise.allSettled(inFlight);
		const t0 = Date.now();
		await mafalda.close();
		expect(Date.now() - t0).toBeLessThan(3000);
		const outcomes = await withTimeout(settled, 5000);
		expect(outcomes).not.toBe('hung');
		for (const o of outcomes as PromiseSettledResult<unknown>[]) {
			if (o.status === 'rejected') expect(`${(o.reason as { code?: string }).code}: ${(o.reason as Error).message}`).toMatch(CLOSED_CODES);
			else if (o.value instanceof MafaldaRouter) expect(o.value.closed).toBe(true);
		}

		expect(mafalda.closed).toBe(true);
		expect(closes.sort()).toEqual(['consumer', 'directB', 'observer', 'producer', 'routerA', 'routerB']);
		for (const o of [p.producer, p.transport, observer, directB, ...consumers, ...ends.map((e) => e.transport)]) expect(o.closed).toBe(true);
		expect(mafalda.transports.size).toBe(0);
		expect(mafalda.routers.size).toBe(0);
		expect(mafalda.workers.size).toBe(0);
		expect(mafalda.mafaldaRouters.size).toBe(0);
		expect(mafalda.pipes.pipeCount).toBe(0);
		expect(locks()).toEqual([]);
		await waitFor(() => workerPids.every((pid) => !isAlive(pid)), 'the mediasoup workers to exit', 3000);
		// The threads' ports are closed: nothing of mafalda keeps the event loop alive.
		await waitFor(() => messagePorts() <= portsBefore, 'the message ports to close', 3000);

		// Afterwards every entry point says so, clearly.
		await expect(mafalda.createMafaldaRouter()).rejects.toMatchObject({ code: 'ERR_MAFALDA_CLOSED' });
		// Its objects too, as a closed mediasoup Worker's (InvalidStateError; WorkerClosedError since 3.21).
		await expect(routerA.createDirectTransport()).rejects.toMatchObject({ code: 'ERR_MAFALDA_CLOSED' });
		await expect(p.producer.pause()).rejects.toMatchObject({ code: 'ERR_MAFALDA_CLOSED' });
		await expect(mafalda.close()).resolves.toBeUndefined();
	} finally {
		await p.close();
		await Promise.all(ends.map((e) => e.close()));
	}
});

test('close() while a dead worker waits for its restart: no restart happens afterwards', async () => {
	const mafalda = new Mafalda(mediasoup, { numWorkers: 1, cpuSlotDir: slotDir, restartDelayMs: 300 });
	const router: MafaldaRouter = await mafalda.createMafaldaRouter();
	await router.createDirectTransport();
	const restarted = jest.fn();
	mafalda.on('workerrestarted', restarted);
	const died = nextEvent<{ willRestart: boolean }>(mafalda, 'workerdied');
	const pid = mafalda.supervisor().pidOf(0) as number;
	process.kill(pid, 'SIGKILL');
	expect((await died).willRestart).toBe(true);
	// The dead worker's slot is kept for its replacement until close() gives it back.
	expect(locks()).toHaveLength(1);
	await mafalda.close();
	expect(locks()).toEqual([]);
	await sleep(500);
	expect(restarted).not.toHaveBeenCalled();
	expect(locks()).toEqual([]);
});

test('a MafaldaRouter still opening when close() is called rejects instead of coming back alive', async () => {
	const mafalda = new Mafalda(mediasoup, { numWorkers: 1 });
	const creating = mafalda.createMafaldaRouter({ routerOptions: { mediaCodecs: VP8_CODECS } });
	const closing = mafalda.close();
	const outcome = await creating.then(
		(router) => ({ router, code: undefined as string | undefined }),
		(error: { code?: string }) => ({ router: undefined, code: error.code }),
	);
	await closing;
	expect(outcome.router).toBeUndefined();
	expect(['ERR_MAFALDA_CLOSED', 'ERR_MAFALDA_ROUTER_CLOSED']).toContain(outcome.code);
	expect(mafalda.mafaldaRouters.size).toBe(0);
});
