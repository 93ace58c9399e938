import { Worker } from 'node:worker_threads';
import { median } from './common';

/** An echo thread: what a worker host does with a message, minus the work. */
const ECHO = `require('node:worker_threads').parentPort.on('message', (m) => require('node:worker_threads').parentPort.postMessage(m));`;

export interface RoundTripFigure {
	/** CPU of the whole process (both threads) per round trip, µs: median of the runs. */
	cpuUs: number;
	minCpuUs: number;
	maxCpuUs: number;
	wallUs: number;
}

/**
 * The CPU one message to another thread and its answer cost when the other
 * thread waits for it (post, wake-up, dispatch, post back, wake-up): the
 * floor of what crossing a thread adds to a call that nothing else batches.
 * A call through mafalda crosses main -> worker host -> main on top of what
 * a direct mediasoup call does.
 */
export async function measureThreadRoundTrip(roundTrips = 2000, runs = 3): Promise<RoundTripFigure> {
	const thread = new Worker(ECHO, { eval: true });
	try {
		const once = (value: unknown): Promise<void> =>
			new Promise((resolve) => {
				thread.once('message', () => resolve());
				thread.postMessage(value);
			});
		await once({ warmUp: true });
		const cpu: number[] = [];
		const wall: number[] = [];
		for (let run = 0; run < runs; run++) {
			const c0 = process.cpuUsage();
			const t0 = performance.now();
			for (let i = 0; i < roundTrips; i++) await once({ id: i, type: 'APPLY', path: ['consume'] });
			const used = process.cpuUsage(c0);
			cpu.push((used.user + used.system) / roundTrips);
			wall.push(((performance.now() - t0) * 1000) / roundTrips);
		}
		return { cpuUs: median(cpu), minCpuUs: Math.min(...cpu), maxCpuUs: Math.max(...cpu), wallUs: median(wall) };
	} finally {
		await thread.terminate();
	}
}
