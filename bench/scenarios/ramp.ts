import type { BackendName, SfuBackend, WorkerRow } from '../sfu/backend';
import { fmtMs, fmtPct } from '../report/format';
import { LiveLine, progressBar } from '../report/progress';
import type { LatencySummary } from '../sim/latency-histogram';
import type { ReceiverTotals, SentCounters } from '../sim/session-api';
import { OverloadedError, type Receiver, SimWorld, type WindowResult, type WorldOptions } from './sim-world';
import { LATE, within } from './deadline';
import { DISTURBED_PCT, grossFailure, OVERLOAD_LIMIT_MS, passes, type Thresholds } from './thresholds';

export interface RampOptions extends WorldOptions {
	/** Receivers after each step (ascending). */
	steps: number[];
	warmupMs: number;
	measureMs: number;
	/**
	 * Stop after this many steps failed the thresholds: 1 for a capacity
	 * search, more to see past the knee, 0 to run every step.
	 */
	stopAfterFailures: number;
	/**
	 * After the first failing step, go back halfway to the last passing one
	 * (the last joiners leave: Population.shrink) and measure there, instead
	 * of going past the failure: the capacity's resolution is then half a step.
	 */
	refine?: boolean;
	/**
	 * A step that fails while other processes took more than DISTURBED_PCT of
	 * the machine is measured again, up to `max` times, each after waiting up
	 * to `quietWaitMs` for them to calm down. With `confirm`, any failing step
	 * is measured a second time and fails only if that window fails too: one
	 * stall of a few tens of ms anywhere on a small machine is enough to put a
	 * 4-second window's p99 over 50 ms, and that is not the SFU's capacity.
	 */
	remeasure: { max: number; quietWaitMs: number; confirm: boolean };
	thresholds: Thresholds;
	line: LiveLine;
	/**
	 * No new step starts after this long on one backend (ms; undefined: no
	 * limit), so that a run on a starved machine, where every call and every
	 * stats read slows down, still ends in its time.
	 */
	budgetMs?: number;
	/** A step still joining, or still reading stats, after this long fails as an overload and ends the ramp (default OVERLOAD_LIMIT_MS). */
	overloadLimitMs?: number;
}

export type StepResult = Omit<WindowResult, 'histogram'> & {
	target: number;
	/** The step's size in the population's unit (receivers, meetings). */
	units: number;
	consumers: number;
	passed: boolean;
	/** Time to create this step's receivers (transports and consumers). */
	setupMs: number;
	/** Times the step was measured again because other processes disturbed a failing window. */
	remeasured: number;
	error?: string;
};

export interface RampResult {
	backend: BackendName;
	steps: StepResult[];
	/** Units (receivers, meetings) at the largest step that passed before the first failure (0 if none). */
	capacity: number;
	unit: string;
	/** Whether every step passed: the capacity is at least the last step, the true figure may be higher. */
	reachedMax: boolean;
	/** The ramp stopped before its last step because its time budget ran out. */
	stoppedByBudget: boolean;
	/**
	 * The step whose receivers were still joining, or whose stats were still
	 * being read, after RampOptions.overloadLimitMs: an overload failure judged
	 * without a window (it ended the ramp), and why in words.
	 */
	overloaded?: { units: number; why: string };
	latency: LatencySummary;
	workers: WorkerRow[];
	sent: SentCounters[];
	received: ReceiverTotals;
	error?: string;
}

/** How a scenario grows its population to a step's size. */
export interface Population {
	/** Sets up what exists before the first step (publishers). */
	setUp(world: SimWorld): Promise<void>;
	/** Grows to `target` receivers; calls `placed` after each new receiver. */
	grow(world: SimWorld, target: number, placed: (r: Receiver) => void): Promise<void>;
	/** Back to `target` units, the last to join leaving first (populations that can: see RampOptions.refine). */
	shrink?(world: SimWorld, target: number): void;
	/** Consumers the population has at its current size. */
	consumers(world: SimWorld): number;
	/** Its size in its own unit, and the unit's name (receivers, meetings). */
	size(world: SimWorld): number;
	readonly unit: string;
}


const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits, a second at a time and at most `maxMs`, until other processes take less than DISTURBED_PCT. */
async function waitForQuiet(world: SimWorld, maxMs: number, onBusy: (otherPct: number) => void): Promise<void> {
	const t0 = performance.now();
	while (performance.now() - t0 < maxMs) {
		const other = await world.otherProcessesPct(1000);
		if (other === undefined || other < DISTURBED_PCT) return;
		onBusy(other);
	}
}

function workerSummary(rows: WorkerRow[]): string {
	return rows.map((w) => `w${w.workerIndex}:${w.consumers}c/${w.shards}sh`).join(' ');
}

interface JudgedWindow {
	window: WindowResult;
	passed: boolean;
	/** Times it was measured again (see RampOptions.remeasure). */
	remeasured: number;
}

/** Lets new consumers get their first key frame, then measures a window and judges it, again where RampOptions.remeasure says. */
async function judgeStep(world: SimWorld, backend: SfuBackend, options: RampOptions, stepTag: string, logTag: string, lossSoFar: () => string): Promise<JudgedWindow> {
	const rows = await backend.workers();
	options.line.update(`${stepTag} warming up (new consumers wait for a key frame) | ${workerSummary(rows)}`, true);
	await sleep(options.warmupMs);
	let remeasured = 0;
	for (;;) {
		const window = await world.measure(
			options.measureMs,
			(elapsed) =>
				options.line.update(
					`${stepTag} measuring ${progressBar(elapsed, options.measureMs, 12)} ${world.receivers.length} receivers | loss so far ${lossSoFar()} | ${workerSummary(rows)}`,
				),
			options.overloadLimitMs ?? OVERLOAD_LIMIT_MS,
		);
		const passed = passes(options.thresholds, window.judgedLossPct, window.latency.p99, window.silentReceivers);
		// A failure while other processes took the CPU says little about the
		// SFU: measure that step again, a bounded number of times.
		if (passed) return { window, passed, remeasured };
		const disturbed = (window.otherProcessesPct ?? 0) >= DISTURBED_PCT;
		const confirming = options.remeasure.confirm && remeasured === 0 && !grossFailure(options.thresholds, window.judgedLossPct, window.latency.p99);
		if (!confirming && (!disturbed || remeasured >= options.remeasure.max)) return { window, passed, remeasured };
		remeasured++;
		if (disturbed) {
			options.line.log(`${logTag} failed while other processes took ${window.otherProcessesPct?.toFixed(0)}% of the machine: measuring again when they calm down`);
			await waitForQuiet(world, options.remeasure.quietWaitMs, (other) => options.line.update(`${stepTag} waiting for other processes to calm down (${other.toFixed(0)}% of the machine)`, true));
		} else {
			options.line.log(`${logTag} failed (loss ${window.judgedLossPct.toFixed(2)}%, p99 ${fmtMs(window.latency.p99)}): measuring again to confirm`);
		}
	}
}

/**
 * Runs a population up a ramp of steps on one backend: grow, let new
 * consumers get their first key frame (warm-up), measure a window, judge it.
 */
export async function runRamp(backend: SfuBackend, population: Population, options: RampOptions): Promise<RampResult> {
	const world = new SimWorld(backend, options);
	const steps: StepResult[] = [];
	const tag = `[${backend.name}]`;
	let lostSoFar = 0;
	let receivedSoFar = 0;
	let error: string | undefined;
	let stoppedByBudget = false;
	let overloaded: RampResult['overloaded'];
	const limitMs = options.overloadLimitMs ?? OVERLOAD_LIMIT_MS;
	const overload = (units: number, why: string): void => {
		overloaded = { units, why };
		options.line.log(`${tag} overloaded at ${units} ${population.unit}: ${why} (limit ${limitMs / 1000} s): FAIL without a window, and the ramp ends`);
	};
	/** The judged window, or undefined when the SFU could not answer its stats in time (the step failed as an overload). */
	const judgeOrOverload = async (judging: Promise<JudgedWindow>, units: number): Promise<JudgedWindow | undefined> => {
		try {
			return await judging;
		} catch (e) {
			if (!(e instanceof OverloadedError)) throw e;
			overload(units, e.message);
			return undefined;
		}
	};
	const started = performance.now();
	const record = (judged: JudgedWindow, target: number, setupMs: number, logTag: string): StepResult => {
		lostSoFar += judged.window.lostPackets;
		receivedSoFar += judged.window.receivedPackets;
		const { histogram: _h, ...rest } = judged.window;
		const step: StepResult = { ...rest, target, units: population.size(world), consumers: population.consumers(world), passed: judged.passed, setupMs, remeasured: judged.remeasured };
		steps.push(step);
		options.line.log(stepLine(logTag, step));
		return step;
	};
	try {
		await population.setUp(world);
		for (const [i, target] of options.steps.entries()) {
			if (options.budgetMs !== undefined && performance.now() - started > options.budgetMs) {
				stoppedByBudget = true;
				options.line.log(`${tag} time budget of ${(options.budgetMs / 1000).toFixed(0)} s used: no more steps`);
				break;
			}
			const stepTag = `${tag} ${i + 1}/${options.steps.length}`;
			const logTag = `${tag} step ${i + 1}/${options.steps.length}`;
			const lossSoFar = (): string => fmtPct(lostSoFar, lostSoFar + receivedSoFar);
			let rows = await backend.workers();
			let lastRows = 0;
			const before = world.receivers.length;
			const t0 = performance.now();
			let joined = 0;
			try {
				const growing = population.grow(world, target, () => {
					// world.receivers takes a batch's receivers when the whole batch has joined.
					const placed = before + ++joined;
					// Worker rows cost an RPC for mafalda: refresh them now and then, not per receiver.
					if (performance.now() - lastRows > 500) {
						lastRows = performance.now();
						void backend.workers().then((r) => (rows = r));
					}
					options.line.update(
						`${stepTag} ${progressBar(placed - before, target - before, 12)} ${placed}/${target} placed | loss so far ${lossSoFar()} | ${workerSummary(rows)}`,
					);
				});
				if ((await within(growing, limitMs)) === LATE) {
					overload(target, `${joined} of ${target - before} new receivers joined in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
					break;
				}
			} catch (e) {
				error = `step ${target}: ${(e as Error).message}`;
				options.line.log(`${logTag} failed to place receivers: ${(e as Error).message}`);
				break;
			}
			const setupMs = performance.now() - t0;
			const judged = await judgeOrOverload(judgeStep(world, backend, options, stepTag, logTag, lossSoFar), target);
			if (!judged) break;
			const step = record(judged, target, setupMs, logTag);
			const last = steps.filter((x) => x.passed).pop();
			if (!step.passed && options.refine && population.shrink && last && step.units - last.units >= 2) {
				// Halfway back: the capacity lies between the last pass and this failure.
				const mid = Math.round((last.units + step.units) / 2);
				population.shrink(world, mid);
				const backTag = `${logTag} (back to ${mid})`;
				const back = await judgeOrOverload(judgeStep(world, backend, options, `${stepTag} back to ${mid}`, backTag, lossSoFar), mid);
				if (back) record(back, mid, 0, backTag);
				break;
			}
			if (options.stopAfterFailures > 0 && steps.filter((x) => !x.passed).length >= options.stopAfterFailures) break;
		}
	} catch (e) {
		error = (e as Error).message;
		options.line.log(`${tag} error: ${error}`);
	}
	const workers = await backend.workers().catch(() => []);
	const sent = await world.sentCounters().catch(() => []);
	const received = await world.receiverTotals().catch(() => ({ receivers: 0, packets: 0, lost: 0, rtcpPackets: 0, probationPackets: 0, socketErrors: 0 }));
	const latency = world.runLatency;
	await world.close();
	const passedSteps = steps.filter((s) => s.passed);
	// Capacity is the largest pass below the smallest failure: a pass above a failure is luck, not capacity.
	const smallestFail = Math.min(...steps.filter((s) => !s.passed).map((s) => s.units), overloaded?.units ?? Number.POSITIVE_INFINITY);
	const capacitySteps = passedSteps.filter((s) => s.units < smallestFail).sort((a, b) => a.units - b.units);
	const firstFail = steps.findIndex((s) => !s.passed);
	return {
		backend: backend.name,
		steps,
		capacity: capacitySteps.length > 0 ? capacitySteps[capacitySteps.length - 1].units : 0,
		unit: population.unit,
		reachedMax: firstFail === -1 && error === undefined && overloaded === undefined,
		stoppedByBudget,
		...(overloaded ? { overloaded } : {}),
		latency,
		workers,
		sent,
		received,
		error,
	};
}

export function stepLine(tag: string, s: StepResult): string {
	const cpu = s.workers.map((w) => `w${w.workerIndex} ${w.cpuPct.toFixed(0)}% (${w.consumers}c/${w.shards}sh)`).join(' ');
	const c = s.costs;
	const sim = c.simulatorToWorker === undefined ? 'n/a' : `${c.simulatorUsPerDelivered?.toFixed(2)} µs (${c.simulatorToWorker.toFixed(2)}x)`;
	return (
		`${tag} ${s.receivers} receivers (${s.measuredReceivers} measured), ${s.consumers} consumers, set up in ${(s.setupMs / 1000).toFixed(1)} s | ` +
		`loss measured ${s.measured.lossPct.toFixed(2)}%${s.measured.socketDrops > 0 ? ` (${(s.measured.lossPct - s.measured.sfuLossPct).toFixed(2)}% at the simulator's sockets)` : ''} sinks ${s.sink.lossPct.toFixed(2)}% ingress ${s.ingress.lossPct.toFixed(2)}% | p50 ${fmtMs(s.latency.p50)} p99 ${fmtMs(s.latency.p99)} | ` +
		`CPU ${cpu} | per packet: worker ${c.workerUsPerForwarded.toFixed(2)} µs, simulator ${sim} | ${Math.round(c.forwardedPerSecond).toLocaleString('en-US')} pkt/s | machine busy ${s.machineBusyPct === undefined ? 'n/a' : s.machineBusyPct.toFixed(0) + '%'}` +
		`${(s.otherProcessesPct ?? 0) >= 5 ? ` (other processes ${s.otherProcessesPct?.toFixed(0)}%)` : ''} | ` +
		`${s.passed ? 'PASS' : 'FAIL'}${s.silentReceivers > 0 ? ` (${s.silentReceivers} silent)` : ''}`
	);
}
