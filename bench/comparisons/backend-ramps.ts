import { fmtRatio } from '../report/format';
import type { LiveLine } from '../report/progress';
import { type Population, type RampResult, runRamp, type StepResult } from '../scenarios/ramp';
import type { RampTiming } from '../scenarios/ramp-config';
import { DEFAULT_THRESHOLDS, grossFailure } from '../scenarios/thresholds';
import type { BackendName } from '../sfu/backend';
import { startBackend } from '../sfu/start-backend';
import { median } from './common';

/** A capacity figure and whether it is only a lower bound (every step up to the last one passed). */
export interface Capacity {
	units: number;
	lowerBound: boolean;
}

export interface CapacityRatio {
	value: number | undefined;
	/** 'exact', or why the ratio is only a bound or unknown. */
	kind: 'exact' | 'at least' | 'at most' | 'unknown';
}

export function capacityRatio(c: Capacity | undefined, base: Capacity | undefined): CapacityRatio {
	if (!c || !base || base.units === 0) return { value: undefined, kind: 'unknown' };
	const value = c.units / base.units;
	if (c.lowerBound && base.lowerBound) return { value: undefined, kind: 'unknown' };
	if (c.lowerBound) return { value, kind: 'at least' };
	if (base.lowerBound) return { value, kind: 'at most' };
	return { value, kind: 'exact' };
}

export function fmtCapacityRatio(r: CapacityRatio): string {
	if (r.kind === 'unknown') return 'n/a (a baseline passed no step, or both passed every step)';
	return `${r.kind === 'exact' ? '' : `${r.kind} `}${fmtRatio(r.value)}`;
}

/** Median and range of a figure over a ramp's measured windows. */
export interface Spread {
	median: number;
	min: number;
	max: number;
	n: number;
}

export function spreadOf(values: number[]): Spread | undefined {
	const v = values.filter((x) => Number.isFinite(x));
	if (v.length === 0) return undefined;
	return { median: median(v), min: Math.min(...v), max: Math.max(...v), n: v.length };
}

export function fmtSpread(s: Spread | undefined, digits = 2, unit = ''): string {
	if (!s) return 'n/a';
	return `${s.median.toFixed(digits)}${unit} (${s.min.toFixed(digits)} to ${s.max.toFixed(digits)} over ${s.n} windows)`;
}

/**
 * What each packet cost, over a ramp's windows: the workers' CPU per packet
 * they forwarded, the simulator's threads' CPU per packet delivered, and the
 * ratio of the two (the issue's target: at most 0.2). Windows forwarding
 * little are left out: there the idle cost of a thread dominates.
 */
export interface RampCosts {
	workerUsPerForwarded: Spread | undefined;
	simulatorUsPerDelivered: Spread | undefined;
	simulatorToWorker: Spread | undefined;
	/** Delivered packets per second at the last passing step. */
	deliveredPerSecondAtCapacity: number | undefined;
	/**
	 * Packets per second the backend would deliver with its busiest worker at
	 * a whole core: its delivery per core-second of all its workers (over the
	 * last PROJECTION_WINDOWS windows that did not fail grossly: the largest
	 * loads, where its placement is what it does at scale, short of a
	 * collapse, whose forwarding falls apart) times the balance of the last of
	 * them (the workers' CPU summed over the busiest one's; 1 for one worker). A
	 * projection from CPU counters, not a capacity measurement: it assumes the
	 * cost per packet stays what it was, and ignores the simulator.
	 */
	projectedDeliveredPerSecond: Spread | undefined;
	/** The balance of the last window that did not fail grossly: sum of the workers' CPU over the busiest one's. */
	balance: number | undefined;
}

export const MIN_PACKETS_PER_SECOND_FOR_COSTS = 10_000;
export const PROJECTION_WINDOWS = 3;

/** Packets delivered per second per core of all the workers together. */
function deliveredPerCore(s: StepResult): number {
	return s.costs.workerCpuPct > 0 ? (100 * s.costs.deliveredPerSecond) / s.costs.workerCpuPct : Number.NaN;
}

export function rampCosts(r: RampResult): RampCosts {
	const windows = r.steps.filter((s) => s.costs.forwardedPerSecond >= MIN_PACKETS_PER_SECOND_FOR_COSTS);
	const atCapacity = capacityStep(r);
	// A collapsed window (2026-12-07: plain mediasoup past its knee at 39.8% loss) forwards far less per core-second than the worker can.
	const usable = r.steps.filter((s) => !grossFailure(DEFAULT_THRESHOLDS, s.judgedLossPct, s.latency.p99));
	const last = usable.slice(-PROJECTION_WINDOWS);
	const final = usable[usable.length - 1]?.costs;
	const balance = final && final.busiestWorkerCpuPct > 0 ? final.workerCpuPct / final.busiestWorkerCpuPct : undefined;
	return {
		workerUsPerForwarded: spreadOf(windows.map((s) => s.costs.workerUsPerForwarded)),
		simulatorUsPerDelivered: spreadOf(windows.map((s) => s.costs.simulatorUsPerDelivered ?? Number.NaN)),
		simulatorToWorker: spreadOf(windows.map((s) => s.costs.simulatorToWorker ?? Number.NaN)),
		deliveredPerSecondAtCapacity: atCapacity?.costs.deliveredPerSecond,
		projectedDeliveredPerSecond: spreadOf(last.map((s) => deliveredPerCore(s) * (balance ?? Number.NaN))),
		balance,
	};
}

/** The last step that passed before the first failure. */
export function capacityStep(r: RampResult): StepResult | undefined {
	let last: StepResult | undefined;
	for (const s of r.steps) {
		if (!s.passed) break;
		last = s;
	}
	return last;
}

/** What runBackendRamps returns: each backend's ramp, capacity and packet costs. */
export interface BackendComparison {
	results: RampResult[];
	capacities: Partial<Record<BackendName, Capacity>>;
	costs: Partial<Record<BackendName, RampCosts>>;
}

export interface BackendRampsOptions extends RampTiming {
	backends: BackendName[];
	steps: number[];
	/** How long to wait for other processes to calm down before measuring a disturbed failing step again. */
	quietWaitMs: number;
}

/**
 * Runs the same population up the same ramp on each backend in turn, each
 * going back halfway after its first failing step (each confirmed by a second
 * window) where the population can shrink, else stopping after its second;
 * its capacity is the largest step that passed below the smallest failure. Every
 * backend gets the same packets: the same media profile, the same joins.
 */
export async function runBackendRamps(
	o: BackendRampsOptions,
	population: () => Population,
	line: LiveLine,
): Promise<BackendComparison> {
	const results: RampResult[] = [];
	const capacities: Partial<Record<BackendName, Capacity>> = {};
	const costs: Partial<Record<BackendName, RampCosts>> = {};
	for (const name of o.backends) {
		const backend = await startBackend(name);
		try {
			const r = await runRamp(backend, population(), {
				...o,
				// A population that can shrink goes back halfway after its first failure (half a step of resolution);
				// one that cannot takes one more step past it: its window adds CPU counters at a larger load.
				stopAfterFailures: 2,
				refine: true,
				remeasure: { max: 1, quietWaitMs: o.quietWaitMs, confirm: true },
				thresholds: DEFAULT_THRESHOLDS,
				line,
			});
			results.push(r);
			capacities[name] = { units: r.capacity, lowerBound: r.reachedMax };
			costs[name] = rampCosts(r);
		} finally {
			await backend.close();
		}
	}
	return { results, capacities, costs };
}

/** Ratio of two backends' projected throughput (undefined if either is unknown). */
export function projectedRatio(costs: Partial<Record<BackendName, RampCosts>>, a: BackendName, b: BackendName): number | undefined {
	const x = costs[a]?.projectedDeliveredPerSecond?.median;
	const y = costs[b]?.projectedDeliveredPerSecond?.median;
	return x === undefined || y === undefined || y <= 0 ? undefined : x / y;
}

/** Why a backend's first failing step failed, in words. */
export function whyFailed(r: RampResult): string {
	const failed = r.steps.find((s) => !s.passed);
	const overloaded = r.overloaded && `overloaded at ${r.overloaded.units}: ${r.overloaded.why}`;
	if (!failed) return overloaded ?? r.error ?? (r.stoppedByBudget ? 'none (stopped by its time budget)' : 'none (every step passed)');
	return [
		failed.judgedLossPct >= DEFAULT_THRESHOLDS.maxLossPct ? `loss ${failed.judgedLossPct.toFixed(2)}%` : '',
		!(failed.latency.p99 < DEFAULT_THRESHOLDS.maxP99Ms) ? `p99 ${failed.latency.p99.toFixed(1)} ms` : '',
		failed.silentReceivers > 0 ? `${failed.silentReceivers} silent` : '',
		(failed.otherProcessesPct ?? 0) >= 15 ? `other processes ${failed.otherProcessesPct?.toFixed(0)}%` : '',
	]
		.filter(Boolean)
		.join(', ');
}
