// A ramp step whose joins or stats reads do not finish within the overload
// limit fails as an overload and ends its ramp, instead of waiting minutes for
// an SFU that has collapsed (bench/scenarios/thresholds.ts, OVERLOAD_LIMIT_MS).
// Real mediasoup worker, real RTP from the simulator's threads; the stall is
// injected into the backend's calls, as a worker with no CPU to spare makes
// them wait.
import { LiveLine } from '../bench/report/progress';
import { broadcastPopulation } from '../bench/scenarios/broadcast';
import { type RampResult, runRamp } from '../bench/scenarios/ramp';
import { SimWorld } from '../bench/scenarios/sim-world';
import { DEFAULT_THRESHOLDS } from '../bench/scenarios/thresholds';
import type { ConsumerHandle, ReceiverHandle, SfuBackend } from '../bench/sfu/backend';
import { startBackend } from '../bench/sfu/start-backend';

const LIMIT_MS = 1_500;

/** Answers nothing until the backend closes: a call stuck on a collapsed worker's channel. */
class Stall {
	readonly #waiting: Array<() => void> = [];
	wait(): Promise<never> {
		return new Promise((_, reject) => this.#waiting.push(() => reject(new Error('backend closed'))));
	}
	release(): void {
		for (const fail of this.#waiting.splice(0)) fail();
	}
}

/** The real backend, but its receivers past the `healthy` first ones never finish consuming, or their stats never answer. */
function stalling(backend: SfuBackend, healthy: number, what: 'joins' | 'stats'): SfuBackend {
	const stall = new Stall();
	let receivers = 0;
	let stalled = false;
	const stuckStats = (c: ConsumerHandle): ConsumerHandle => ({ ...c, stats: { getStats: () => (stalled ? stall.wait() : c.stats.getStats()) } });
	return {
		name: backend.name,
		get rtpCapabilities() {
			return backend.rtpCapabilities;
		},
		addPublisher: (room, port, streams) => backend.addPublisher(room, port, streams),
		addReceiver: (room) => backend.addReceiver(room),
		connectReceiver: (r, port) => backend.connectReceiver(r, port),
		async consume(r: ReceiverHandle, producerIds: string[]) {
			if (++receivers > healthy) {
				if (what === 'joins') return stall.wait();
				stalled = true;
			}
			await backend.consume(r, producerIds);
			if (what === 'stats') r.consumers.splice(0, r.consumers.length, ...r.consumers.map(stuckStats));
		},
		closeReceiver: (r) => backend.closeReceiver(r),
		workers: () => backend.workers(),
		workerCpuMs: () => backend.workerCpuMs(),
		async close() {
			stall.release();
			await backend.close();
		},
	};
}

async function ramp(what: 'joins' | 'stats'): Promise<{ result: RampResult; ms: number }> {
	const backend = stalling(await startBackend('plain'), 4, what);
	const t0 = performance.now();
	try {
		const result = await runRamp(backend, broadcastPopulation({ joinPerSecond: 0 }), {
			steps: [4, 8],
			// New consumers wait for the next key frame, one a second.
			warmupMs: 1_200,
			measureMs: 500,
			threads: 2,
			concurrency: 4,
			stopAfterFailures: 1,
			refine: true,
			remeasure: { max: 0, quietWaitMs: 0, confirm: false },
			thresholds: DEFAULT_THRESHOLDS,
			line: new LiveLine(),
			overloadLimitMs: LIMIT_MS,
		});
		return { result, ms: performance.now() - t0 };
	} finally {
		await backend.close();
	}
}

describe('a step the SFU cannot serve in time fails as an overload', () => {
	test('joins still pending after the limit: the step fails without a window, the ramp ends, capacity is the step before', async () => {
		const { result, ms } = await ramp('joins');
		expect(result.overloaded).toEqual({ units: 8, why: expect.stringMatching(/^0 of 4 new receivers joined in \d+ s$/) });
		expect(result.steps.map((s) => [s.units, s.passed])).toEqual([[4, true]]);
		expect(result.capacity).toBe(4);
		expect(result.reachedMax).toBe(false);
		expect(result.error).toBeUndefined();
		// The first step (a set-up, a 1.2 s warm-up, a window) and the limit, not the stall's length (forever).
		expect(ms).toBeLessThan(15_000);
	}, 30_000);

	test('stats still unread after the limit: the step fails without its window, the ramp ends, capacity is the step before', async () => {
		const { result, ms } = await ramp('stats');
		expect(result.overloaded).toEqual({ units: 8, why: 'the stats of 16 consumers took more than 1.5 s to read' });
		expect(result.steps.map((s) => [s.units, s.passed])).toEqual([[4, true]]);
		expect(result.capacity).toBe(4);
		expect(result.reachedMax).toBe(false);
		expect(ms).toBeLessThan(15_000);
	}, 30_000);
});

describe('ingress loss is what the kernel dropped at the publisher transport socket', () => {
	test('a worker stopped for 2 s: its socket drops, the window counts them as ingress loss, as the measured receivers see it', async () => {
		const backend = await startBackend('plain');
		const world = new SimWorld(backend, { threads: 2, concurrency: 4 });
		try {
			const publisher = await world.addPublisher();
			await world.addReceivers(4, () => [...publisher.handle.producerIds]);
			// New consumers wait for the next key frame, one a second.
			await new Promise((r) => setTimeout(r, 1_200));
			const [worker] = await backend.workers();
			// Stopped, the worker reads nothing: its socket's queue fills and the kernel drops the rest.
			const stop = setTimeout(() => process.kill(worker.pid, 'SIGSTOP'), 300);
			const resume = setTimeout(() => process.kill(worker.pid, 'SIGCONT'), 2_300);
			let window;
			try {
				window = await world.measure(3_500);
			} finally {
				clearTimeout(stop);
				clearTimeout(resume);
				process.kill(worker.pid, 'SIGCONT');
			}
			const dropped = window.ingress.sent - window.ingress.received;
			expect(dropped).toBeGreaterThan(20);
			expect(window.ingress.lossPct).toBeGreaterThan(2);
			// Every receiver of the stream lost them: the measured ones (all four) from sequence gaps.
			expect(window.measured.lost).toBeGreaterThanOrEqual(4 * dropped * 0.9);
		} finally {
			await world.close();
			await backend.close();
		}
	}, 30_000);
});
