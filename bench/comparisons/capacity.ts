import { Args, runMain } from '../cli/args';
import { fmtRatio } from '../report/format';
import { machineInfo, machineLine } from '../report/machine';
import { LiveLine } from '../report/progress';
import { rampChart } from '../report/ramp-report';
import { writeJsonResult, writeSvgResult } from '../report/results-file';
import { renderTable } from '../report/table';
import { broadcastPopulation } from '../scenarios/broadcast';
import { type RampResult, runRamp } from '../scenarios/ramp';
import { RAMP_TIMING_HELP, readRampTiming, type RampTiming } from '../scenarios/ramp-config';
import { DEFAULT_THRESHOLDS } from '../scenarios/thresholds';
import type { BackendName } from '../sfu/backend';
import { BACKEND_NAMES, BACKEND_SHORT, startBackend } from '../sfu/start-backend';

export interface CapacityOptions extends RampTiming {
	/** Receivers added per step. */
	step: number;
	/** Where the search stops even if every step passed. */
	max: number;
	backends: BackendName[];
}

/** A capacity figure and whether it is only a lower bound (every step up to --max passed). */
export interface Capacity {
	receivers: number;
	lowerBound: boolean;
}

export interface CapacityRatio {
	value: number | undefined;
	/** 'exact', or why the ratio is only a bound or unknown. */
	kind: 'exact' | 'at least' | 'at most' | 'unknown';
}

export interface CapacityResult extends CapacityOptions {
	results: RampResult[];
	capacities: Partial<Record<BackendName, Capacity>>;
	/** (c)/(a): mafalda over plain mediasoup. */
	mafaldaOverPlain: CapacityRatio;
	/** (c)/(b): mafalda over the round-robin pool. */
	mafaldaOverRoundRobin: CapacityRatio;
}

function capacityRatio(c: Capacity | undefined, base: Capacity | undefined): CapacityRatio {
	if (!c || !base || base.receivers === 0) return { value: undefined, kind: 'unknown' };
	const value = c.receivers / base.receivers;
	if (c.lowerBound && base.lowerBound) return { value: undefined, kind: 'unknown' };
	if (c.lowerBound) return { value, kind: 'at least' };
	if (base.lowerBound) return { value, kind: 'at most' };
	return { value, kind: 'exact' };
}

export function fmtCapacityRatio(r: CapacityRatio): string {
	if (r.kind === 'unknown') return 'n/a (a baseline passed no step, or both passed every step: change --step/--max)';
	return `${r.kind === 'exact' ? '' : `${r.kind} `}${fmtRatio(r.value)}`;
}

/**
 * Comparison 1: the largest broadcast (1 publisher, N receivers) each backend
 * carries under 1% loss and 50 ms p99, found by ramping N in steps and
 * stopping at the first step that fails.
 */
export async function runCapacity(o: CapacityOptions, line = new LiveLine()): Promise<CapacityResult> {
	const steps: number[] = [];
	for (let n = o.step; n <= o.max; n += o.step) steps.push(n);
	const results: RampResult[] = [];
	const capacities: Partial<Record<BackendName, Capacity>> = {};
	for (const name of o.backends) {
		const backend = await startBackend(name);
		try {
			const r = await runRamp(backend, broadcastPopulation({ joinPerSecond: 0 }), { ...o, steps, stopAfterFailures: 1, remeasure: { max: 2, quietWaitMs: 20_000, confirm: true }, thresholds: DEFAULT_THRESHOLDS, line });
			results.push(r);
			capacities[name] = { receivers: r.capacity, lowerBound: r.reachedMax };
		} finally {
			await backend.close();
		}
	}
	return {
		...o,
		results,
		capacities,
		mafaldaOverPlain: capacityRatio(capacities.mafalda, capacities.plain),
		mafaldaOverRoundRobin: capacityRatio(capacities.mafalda, capacities['round-robin']),
	};
}

export function capacityTable(r: CapacityResult): string {
	return renderTable(
		['backend', 'capacity (receivers)', 'first failing step', 'why it failed'],
		r.results.map((x) => {
			const failed = x.steps.find((s) => !s.passed);
			const why = failed
				? [
						failed.lossPct >= DEFAULT_THRESHOLDS.maxLossPct ? `loss ${failed.lossPct.toFixed(2)}%` : '',
						!(failed.latency.p99 < DEFAULT_THRESHOLDS.maxP99Ms) ? `p99 ${failed.latency.p99.toFixed(1)} ms` : '',
						failed.silentReceivers > 0 ? `${failed.silentReceivers} silent` : '',
					].filter(Boolean).join(', ')
				: (x.error ?? 'none (every step passed)');
			return [BACKEND_SHORT[x.backend], `${x.reachedMax ? '>= ' : ''}${x.capacity}`, failed ? String(failed.receivers) : '-', why];
		}),
	);
}

export function capacitySummary(r: CapacityResult): string {
	return `capacity ratio (c)/(a) mafalda / plain mediasoup: ${fmtCapacityRatio(r.mafaldaOverPlain)}; (c)/(b) mafalda / round-robin pool: ${fmtCapacityRatio(r.mafaldaOverRoundRobin)}`;
}

export function writeCapacityResult(r: CapacityResult): string[] {
	const machine = machineInfo();
	return [
		writeJsonResult('capacity', { machine, thresholds: DEFAULT_THRESHOLDS, ...r }),
		writeSvgResult(
			'capacity',
			rampChart(
				'Capacity: one broadcast, receivers vs loss and latency',
				`${machine.cpuModel}, ${machine.cores} cores, mediasoup ${machine.mediasoup}, mafalda ${machine.mafalda}, ${machine.date.slice(0, 10)}`,
				r.results,
				DEFAULT_THRESHOLDS,
			),
		),
	];
}

export const CAPACITY_HELP = `  --step N          receivers added per step (default 25)
  --max N           largest step tried (default 500)
  --backends LIST   among plain, round-robin, mafalda (default all three)
${RAMP_TIMING_HELP}`;

export function readCapacityOptions(args: Args): CapacityOptions {
	return {
		step: args.num('step', 25),
		max: args.num('max', 500),
		backends: args.list<BackendName>('backends', BACKEND_NAMES, BACKEND_NAMES),
		...readRampTiming(args, { duration: 4, warmup: 1.5 }),
	};
}

if (require.main === module) {
	runMain(async () => {
		const args = new Args();
		if (args.help) return console.log(`node dist/bench/comparisons/capacity.js [options]\n${CAPACITY_HELP}`);
		const o = readCapacityOptions(args);
		args.assertAllKnown();
		console.log(`machine: ${machineLine(machineInfo())}`);
		const r = await runCapacity(o);
		console.log(capacityTable(r));
		console.log(capacitySummary(r));
		for (const file of writeCapacityResult(r)) console.log(`wrote ${file}`);
	});
}
