import { Args, runMain } from '../cli/args';
import { fmtRatio } from '../report/format';
import { machineInfo, machineLine } from '../report/machine';
import { LiveLine } from '../report/progress';
import { rampChart } from '../report/ramp-report';
import { writeJsonResult, writeSvgResult } from '../report/results-file';
import { mixedDayPopulation, type MixedDayOptions } from '../scenarios/mixed-day';
import { RAMP_TIMING_HELP, readRampTiming, type RampTiming } from '../scenarios/ramp-config';
import { MIXED_DAY_MAX_OVER_PLAIN, MIXED_DAY_FULL_STEPS } from '../scenarios/ramp-sizing';
import { DEFAULT_THRESHOLDS } from '../scenarios/thresholds';
import type { BackendName } from '../sfu/backend';
import { BACKEND_NAMES, BACKEND_SHORT } from '../sfu/start-backend';
import { type BackendComparison, type CapacityRatio, capacityRatio, fmtCapacityRatio, projectedRatio, runBackendRamps } from './backend-ramps';
import { calibrateMixedDay, calibrationWords, type CostProbe, type MixedDayCalibration, onceProbe } from './calibration';
import { rampResultsTable } from './capacity';

export interface MixedDayComparisonOptions extends RampTiming, MixedDayOptions {
	/** Meetings added per step (undefined: sized by the calibration probe). */
	step?: number;
	/** The last step (undefined: sized by the calibration probe). */
	max?: number;
	backends: BackendName[];
}

export interface MixedDayResult extends Omit<MixedDayComparisonOptions, 'step' | 'max'>, BackendComparison {
	/** The sizes the ramp ran with, in meetings. */
	step: number;
	max: number;
	/** How they were chosen: the probe's figure and estimates, or the options. */
	calibration: MixedDayCalibration;
	mafaldaOverRoundRobin: CapacityRatio;
	mafaldaOverLeastLoaded: CapacityRatio;
	mafaldaOverPlain: CapacityRatio;
}

/** Each backend's ramp starts no step after this many seconds (see CAPACITY_BUDGET_S). */
export const MIXED_DAY_BUDGET_S = 70;

/** The meeting steps are sized by the calibration probe (scenarios/ramp-sizing.ts, mixedDaySize); --md-step and --md-max override. */
export const MIXED_DAY_DEFAULTS = { broadcastReceivers: 300, joinPerSecond: 50, meetingsPerSecond: 4 };

/**
 * Comparison 5: a mixed day. One broadcast is on, then small meetings (5 or 6
 * participants, each publishing video and audio to the others) arrive; the
 * figure is how many meetings each backend carries next to the broadcast
 * under 1% loss and 50 ms p99.
 */
export async function runMixedDay(o: MixedDayComparisonOptions, line = new LiveLine(), probe: CostProbe = onceProbe(o, line)): Promise<MixedDayResult> {
	const calibration = await calibrateMixedDay({ step: o.step, max: o.max }, o.broadcastReceivers, probe, line);
	const { step, max } = calibration;
	const steps: number[] = [Math.max(1, Math.round(step / 2))];
	for (let n = step; n <= max; n += step) steps.push(n);
	const comparison = await runBackendRamps({ ...o, steps, quietWaitMs: 1_500 }, () => mixedDayPopulation(o), line);
	const { capacities } = comparison;
	return {
		...o,
		step,
		max,
		calibration,
		...comparison,
		mafaldaOverRoundRobin: capacityRatio(capacities.mafalda, capacities['round-robin']),
		mafaldaOverLeastLoaded: capacityRatio(capacities.mafalda, capacities['least-loaded']),
		mafaldaOverPlain: capacityRatio(capacities.mafalda, capacities.plain),
	};
}

export function mixedDayTable(r: MixedDayResult): string {
	return rampResultsTable(r.results, r.costs);
}

export function mixedDaySummary(r: MixedDayResult): string {
	return (
		`mixed day, meetings carried next to a ${r.broadcastReceivers}-receiver broadcast, mafalda / round-robin pool: ${fmtCapacityRatio(r.mafaldaOverRoundRobin)}; ` +
		`/ least-loaded pool: ${fmtCapacityRatio(r.mafaldaOverLeastLoaded)}; / plain mediasoup: ${fmtCapacityRatio(r.mafaldaOverPlain)}\n   (` +
		r.results.map((x) => `${BACKEND_SHORT[x.backend]} ${x.reachedMax ? '>= ' : ''}${x.capacity}`).join(', ') +
		` meetings; ${calibrationWords(r.calibration, 'meetings')})\n` +
		`   projected from CPU per packet (busiest worker at a whole core), mafalda / round-robin pool: ${fmtRatio(projectedRatio(r.costs, 'mafalda', 'round-robin'))}; ` +
		`/ least-loaded pool: ${fmtRatio(projectedRatio(r.costs, 'mafalda', 'least-loaded'))}`
	);
}

export function writeMixedDayResult(r: MixedDayResult): string[] {
	const machine = machineInfo();
	return [
		writeJsonResult('mixed-day', { machine, thresholds: DEFAULT_THRESHOLDS, ...r }),
		writeSvgResult(
			'mixed-day',
			rampChart(
				`Mixed day: meetings of 5-6 next to a ${r.broadcastReceivers}-receiver broadcast`,
				`${machine.cpuModel}, ${machine.cores} cores, mediasoup ${machine.mediasoup}, mafalda ${machine.mafalda}, ${machine.date.slice(0, 10)}`,
				r.results,
				DEFAULT_THRESHOLDS,
				'meetings',
			),
		),
	];
}

export const MIXED_DAY_HELP = `  --md-step N             meetings added per step (default: sized by the calibration probe, what ${MIXED_DAY_MAX_OVER_PLAIN}x plain mediasoup's estimate leaves beside the broadcast / ${MIXED_DAY_FULL_STEPS})
  --md-max N              largest step tried (default: ${MIXED_DAY_FULL_STEPS} steps); with both --md-step and --md-max, no probe
  --md-broadcast N        receivers of the broadcast beside the meetings (default ${MIXED_DAY_DEFAULTS.broadcastReceivers})
  --md-meetings-per-s N   meetings arriving per second (default ${MIXED_DAY_DEFAULTS.meetingsPerSecond})`;

export function readMixedDayOptions(args: Args, backends: BackendName[]): MixedDayComparisonOptions {
	return {
		step: args.optionalNum('md-step'),
		max: args.optionalNum('md-max'),
		broadcastReceivers: args.num('md-broadcast', MIXED_DAY_DEFAULTS.broadcastReceivers),
		joinPerSecond: MIXED_DAY_DEFAULTS.joinPerSecond,
		meetingsPerSecond: args.num('md-meetings-per-s', MIXED_DAY_DEFAULTS.meetingsPerSecond),
		backends,
		...readRampTiming(args, { duration: 3, warmup: 1.5, budget: MIXED_DAY_BUDGET_S }),
	};
}

if (require.main === module) {
	runMain(async () => {
		const args = new Args();
		if (args.help) return console.log(`node dist/bench/comparisons/mixed-day.js [options]\n${MIXED_DAY_HELP}\n  --backends LIST   among plain, round-robin, least-loaded, mafalda (default all four)\n${RAMP_TIMING_HELP}`);
		const o = readMixedDayOptions(args, args.list<BackendName>('backends', BACKEND_NAMES, BACKEND_NAMES));
		args.assertAllKnown();
		console.log(`machine: ${machineLine(machineInfo())}`);
		const r = await runMixedDay(o);
		console.log(mixedDayTable(r));
		console.log(mixedDaySummary(r));
		for (const file of writeMixedDayResult(r)) console.log(`wrote ${file}`);
	});
}
