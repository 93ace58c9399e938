// A worker that keeps dying is restarted with growing delays, and only up to
// the configured number of times within the window; then it stays down and
// its CPU slot is freed. Deaths older than the window are forgotten.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as mediasoup from 'mediasoup';
import { Mafalda } from '../lib/Mafalda';
import type { WorkerDiedInfo } from '../lib/types';
import { VP8_CODECS } from './helpers/faults-media';
import { nextEvent, sleep, waitFor } from './helpers/faults-process';

let mafalda: Mafalda | undefined;
let slotDir: string;

beforeEach(() => {
	slotDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mafalda-restart-slots-'));
});

afterEach(async () => {
	await mafalda?.close();
	mafalda = undefined;
	fs.rmSync(slotDir, { recursive: true, force: true });
});

const lockFiles = (): string[] => fs.readdirSync(slotDir).filter((f) => f.endsWith('.lock'));

interface Death {
	info: WorkerDiedInfo;
	/** When 'workerdied' came (Date.now()). */
	at: number;
	/** ms from 'workerdied' until the supervisor began the replacement (undefined: it did not within the wait). */
	delay: number | undefined;
}

/**
 * Kills worker 0's process and measures when the supervisor starts its
 * replacement: the supervisor registers the new handle the moment its restart
 * timer fires, before the slow part (thread and process start-up), so polling
 * for it measures the back-off itself, not the start-up time.
 */
async function killAndTime(m: Mafalda, waitMs: number): Promise<Death> {
	const supervisor = m.supervisor();
	const died = nextEvent<WorkerDiedInfo>(m, 'workerdied');
	process.kill(supervisor.pidOf(0) as number, 'SIGKILL');
	const info = await died;
	const at = Date.now();
	const diedAt = performance.now();
	expect(supervisor.handle(0)).toBeUndefined();
	const deadline = diedAt + waitMs;
	while (performance.now() < deadline) {
		if (supervisor.handle(0)) return { info, at, delay: performance.now() - diedAt };
		await sleep(2);
	}
	return { info, at, delay: undefined };
}

async function untilRunning(m: Mafalda): Promise<void> {
	// Registered with the app (workers, 'workerrestarted') once fully started.
	await waitFor(() => m.workers.get('0')?.closed === false, 'the replacement worker to run', 5000);
}

test('restart delays double up to maxRestartDelayMs; past maxRestarts the worker stays down and frees its CPU slot', async () => {
	mafalda = new Mafalda(mediasoup, { numWorkers: 1, maxRestarts: 3, restartDelayMs: 100, maxRestartDelayMs: 250, cpuSlotDir: slotDir });
	const router = await mafalda.createMafaldaRouter({ routerOptions: { mediaCodecs: VP8_CODECS } });
	const restarts = jest.fn();
	mafalda.on('workerrestarted', restarts);
	expect(lockFiles()).toHaveLength(1);

	const delays: number[] = [];
	for (const expected of [100, 200, 250]) {
		const death = await killAndTime(mafalda, 2000);
		// Only the first worker had the router's shard: a replacement gets one when a placement needs it.
		expect(death.info).toMatchObject({ workerIndex: 0, willRestart: true, routerIds: delays.length === 0 ? [router.id] : [] });
		expect(death.delay).toBeDefined();
		delays.push(death.delay as number);
		// Never early; late only by timer and event-loop slack.
		expect(death.delay).toBeGreaterThanOrEqual(expected - 5);
		// The third is capped: uncapped it would be 400.
		expect(death.delay).toBeLessThan(expected === 250 ? 400 : expected + 300);
		// The dead worker keeps its CPU slot for its replacement.
		expect(lockFiles()).toHaveLength(1);
		await untilRunning(mafalda);
	}
	expect(restarts).toHaveBeenCalledTimes(3);
	// Doubled from the first to the second.
	expect(delays[1] - delays[0]).toBeGreaterThan(50);

	// The fourth death within the window: no restart.
	const last = await killAndTime(mafalda, 1000);
	expect(last.info.willRestart).toBe(false);
	expect(last.delay).toBeUndefined();
	expect(restarts).toHaveBeenCalledTimes(3);
	expect(mafalda.supervisor().workers()).toHaveLength(0);
	expect(mafalda.workers.size).toBe(0);
	expect(lockFiles()).toHaveLength(0);
	// The router is not closed: the app may still use it, and a new placement
	// starts a worker on demand.
	expect(router.closed).toBe(false);
	const transport = await router.createDirectTransport();
	expect(transport.workerIndex).toBe(0);
	expect(lockFiles()).toHaveLength(1);
});

test('maxRestarts 0 never restarts; deaths older than restartWindowMs are forgotten', async () => {
	mafalda = new Mafalda(mediasoup, { numWorkers: 1, maxRestarts: 0, cpuSlotDir: slotDir });
	await mafalda.createMafaldaRouter();
	const never = await killAndTime(mafalda, 500);
	expect(never.info.willRestart).toBe(false);
	expect(never.delay).toBeUndefined();
	await mafalda.close();

	// The window is longer than a worker's start-up, so that the third death below falls inside it.
	mafalda = new Mafalda(mediasoup, { numWorkers: 1, maxRestarts: 1, restartWindowMs: 1500, restartDelayMs: 50, cpuSlotDir: slotDir });
	await mafalda.createMafaldaRouter();
	const first = await killAndTime(mafalda, 2000);
	expect(first.info.willRestart).toBe(true);
	await untilRunning(mafalda);
	// Let the first death leave the window: the next one is a "first" again, with the base delay.
	await sleep(1550);
	const second = await killAndTime(mafalda, 2000);
	expect(second.info.willRestart).toBe(true);
	expect(second.delay).toBeLessThan(50 + 300);
	await untilRunning(mafalda);
	// Another death: inside the window of the second it exceeds maxRestarts 1.
	// (On a loaded machine the start-up alone can outlast the window; then it
	// is a "first" again. Either way the rule holds.)
	const third = await killAndTime(mafalda, 500);
	expect(third.info.willRestart).toBe(third.at - second.at >= 1500);
});

test('with its only worker dead or restarting, a placement waits for the replacement and never exceeds numWorkers', async () => {
	mafalda = new Mafalda(mediasoup, { numWorkers: 1, restartDelayMs: 0, cpuSlotDir: slotDir });
	const router = await mafalda.createMafaldaRouter();
	await router.createDirectTransport();
	const starts = jest.fn();
	mafalda.on('workerstarted', starts);
	mafalda.on('workerrestarted', starts);
	for (const pause of [0, 20]) {
		const died = nextEvent<WorkerDiedInfo>(mafalda, 'workerdied');
		process.kill(mafalda.supervisor().pidOf(0) as number, 'SIGKILL');
		await died;
		// Right away (before the restart timer fires), or while the restart starts up.
		if (pause) await sleep(pause);
		const transport = await router.createDirectTransport();
		expect(transport.workerIndex).toBe(0);
		expect(transport.closed).toBe(false);
		expect(mafalda.supervisor().workers()).toHaveLength(1);
	}
	// Let any restart still pending play out: still one worker, one slot.
	await sleep(300);
	expect(mafalda.supervisor().workers()).toHaveLength(1);
	expect(mafalda.workers.size).toBe(1);
	expect(lockFiles()).toHaveLength(1);
	expect(starts).toHaveBeenCalledTimes(2);
});
