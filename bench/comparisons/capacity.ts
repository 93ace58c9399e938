import { Args, runMain } from '../cli/args';
import { fmtInt, fmtRatio } from '../report/format';
import { machineInfo, machineLine } from '../report/machine';
import { LiveLine } from '../report/progress';
import { rampChart } from '../report/ramp-report';
import { writeJsonResult, writeSvgResult } from '../report/results-file';
import { renderTable } from '../report/table';
import { broadcastPopulation } from '../scenarios/broadcast';
import type { RampResult } from '../scenarios/ramp';
import { RAMP_TIMING_HELP, readRampTiming, type RampTiming } from '../scenarios/ramp-config';
import { BROADCAST_FULL_STEPS, type Calibration, BROADCAST_MAX_OVER_PLAIN } from '../scenarios/ramp-sizing';
import { DEFAULT_THRESHOLDS } from '../scenarios/thresholds';
import type { BackendName } from '../sfu/backend';
import { BACKEND_NAMES, BACKEND_SHORT } from '../sfu/start-backend';
import { type BackendComparison, type CapacityRatio, capacityRatio, fmtCapacityRatio, fmtSpread, projectedRatio, type RampCosts, runBackendRamps, whyFailed } from './backend-ramps';
import { calibrateBroadcast, calibrationWords, type CostProbe, onceProbe } from './calibration';

export interface CapacityOptions extends RampTiming {
	/** Receivers added per step (undefined: sized by the calibration probe). */
	step?: number;
	/** Where the search stops even if every step passed (undefined: sized by the calibration probe). */
	max?: number;
	/** Viewers joining per second while media flows (0: as fast as the control plane goes). */
	joinPerSecond: number;
	backends: BackendName[];
}

export interface CapacityResult extends Omit<CapacityOptions, 'step' | 'max'>, BackendComparison {
	/** The sizes the ramp ran with. */
	step: number;
	max: number;
	/** How they were chosen: the probe's figure and estimate, or the options. */
	calibration: Calibration;
	/** (d)/(a): mafalda over plain mediasoup. */
	mafaldaOverPlain: CapacityRatio;
	/** (d)/(b): mafalda over the round-robin pool. */
	mafaldaOverRoundRobin: CapacityRatio;
	/** (d)/(c): mafalda over the least-loaded pool. */
	mafaldaOverLeastLoaded: CapacityRatio;
}

/**
 * Comparison 1: the largest broadcast (1 publisher, N receivers joining over
 * time while media flows) each backend carries under 1% loss and 50 ms p99,
 * found by ramping N in steps and stopping at the first step that fails.
 */
export async function runCapacity(o: CapacityOptions, line = new LiveLine(), probe: CostProbe = onceProbe(o, line)): Promise<CapacityResult> {
	const calibration = await calibrateBroadcast({ step: o.step, max: o.max }, probe, line);
	const { step, max } = calibration;
	// Half a step first: on a starved machine every backend may fail the first full step, and a capacity of 0 gives no ratio.
	const steps: number[] = [Math.max(1, Math.round(step / 2))];
	for (let n = step; n <= max; n += step) steps.push(n);
	const comparison = await runBackendRamps({ ...o, steps, quietWaitMs: 1_500 }, () => broadcastPopulation({ joinPerSecond: o.joinPerSecond }), line);
	const { capacities } = comparison;
	return {
		...o,
		step,
		max,
		calibration,
		...comparison,
		mafaldaOverPlain: capacityRatio(capacities.mafalda, capacities.plain),
		mafaldaOverRoundRobin: capacityRatio(capacities.mafalda, capacities['round-robin']),
		mafaldaOverLeastLoaded: capacityRatio(capacities.mafalda, capacities['least-loaded']),
	};
}

/** One row per backend: capacity, why it stopped, and what a packet cost the workers and the simulator. */
export function rampResultsTable(results: RampResult[], costs: Partial<Record<BackendName, RampCosts>>): string {
	return renderTable(
		['backend', 'capacity', 'first failing step', 'why it failed', 'delivered pkt/s at capacity', 'projected pkt/s (busiest worker at 100%)', 'worker µs / forwarded pkt', 'simulator µs / delivered pkt', 'simulator / worker'],
		results.map((x) => {
			const failed = x.steps.find((s) => !s.passed);
			const c = costs[x.backend];
			return [
				BACKEND_SHORT[x.backend],
				`${x.reachedMax ? '>= ' : ''}${x.capacity} ${x.unit}`,
				failed ? String(failed.units) : x.overloaded ? String(x.overloaded.units) : '-',
				whyFailed(x),
				c?.deliveredPerSecondAtCapacity === undefined ? '-' : fmtInt(c.deliveredPerSecondAtCapacity),
				c?.projectedDeliveredPerSecond === undefined ? '-' : `${fmtSpread(c.projectedDeliveredPerSecond, 0)}, balance ${c.balance?.toFixed(2)}`,
				fmtSpread(c?.workerUsPerForwarded),
				fmtSpread(c?.simulatorUsPerDelivered),
				fmtSpread(c?.simulatorToWorker),
			];
		}),
	);
}

export function capacityTable(r: CapacityResult): string {
	return rampResultsTable(r.results, r.costs);
}

export function capacitySummary(r: CapacityResult): string {
	return (
		`broadcast capacity, mafalda / plain mediasoup: ${fmtCapacityRatio(r.mafaldaOverPlain)}; / round-robin pool: ${fmtCapacityRatio(r.mafaldaOverRoundRobin)}; ` +
		`/ least-loaded pool: ${fmtCapacityRatio(r.mafaldaOverLeastLoaded)}\n   (` +
		r.results.map((x) => `${BACKEND_SHORT[x.backend]} ${x.reachedMax ? '>= ' : ''}${x.capacity}`).join(', ') +
		` receivers joining at ${r.joinPerSecond || 'full speed'}/s; ${calibrationWords(r.calibration, 'receivers')})\n` +
		`   projected from CPU per packet (busiest worker at a whole core), mafalda / plain mediasoup: ${fmtRatio(projectedRatio(r.costs, 'mafalda', 'plain'))}; ` +
		`/ round-robin pool: ${fmtRatio(projectedRatio(r.costs, 'mafalda', 'round-robin'))}; / least-loaded pool: ${fmtRatio(projectedRatio(r.costs, 'mafalda', 'least-loaded'))}`
	);
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

/** Each backend's ramp starts no step after this many seconds: four backends and the rest of `npm run bench` fit in 15 minutes. */
export const CAPACITY_BUDGET_S = 90;

/**
 * The step and the last step are sized by the calibration probe
 * (scenarios/ramp-sizing.ts): 8 steps to about 2.4x what plain mediasoup is
 * estimated to carry, past the 2.0x two workers can reach at most, so that
 * mafalda's knee is found rather than cut off. A ramp stops at its first
 * failure and its window halfway back, so only those windows are overloaded;
 * on a saturated machine they are the slow ones (on the Xeon, mafalda's
 * "back to 1,700" window after failing 1,800 once took more than 7 minutes of
 * stats reads: bench/README.md).
 */
export const CAPACITY_DEFAULTS = { joinPerSecond: 100 };

export const CAPACITY_HELP = `  --step N          receivers added per step (default: sized by a calibration probe, ${BROADCAST_MAX_OVER_PLAIN}x plain mediasoup's estimated capacity / ${BROADCAST_FULL_STEPS})
  --max N           largest step tried (default: ${BROADCAST_FULL_STEPS} steps); with both --step and --max, no probe
  --join N          receivers joining per second while media flows (default ${CAPACITY_DEFAULTS.joinPerSecond}; 0: full speed)
  --backends LIST   among plain, round-robin, least-loaded, mafalda (default all four)
${RAMP_TIMING_HELP}`;

export function readCapacityOptions(args: Args): CapacityOptions {
	return {
		step: args.optionalNum('step'),
		max: args.optionalNum('max'),
		joinPerSecond: args.num('join', CAPACITY_DEFAULTS.joinPerSecond),
		backends: args.list<BackendName>('backends', BACKEND_NAMES, BACKEND_NAMES),
		...readRampTiming(args, { duration: 3, warmup: 1.5, budget: CAPACITY_BUDGET_S }),
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
