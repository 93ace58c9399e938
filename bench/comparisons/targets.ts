import { fmtRatio } from '../report/format';
import { renderTable } from '../report/table';
import { type CapacityRatio, fmtCapacityRatio, fmtSpread, projectedRatio, spreadOf } from './backend-ramps';
import type { CapacityResult } from './capacity';
import type { ControlPlaneResult } from './control-plane';
import type { GrowthResult } from './cost-growth';
import type { MixedDayResult } from './mixed-day';
import type { RunRecord } from '../report/run-history';

export interface TargetRow {
	figure: string;
	measured: string;
	target: string;
	/** undefined when this run has no figure (part not run) or only a bound that does not decide. */
	met: boolean | undefined;
}

function ratioMet(r: CapacityRatio | undefined, target: number): boolean | undefined {
	if (!r || r.value === undefined) return undefined;
	if (r.kind === 'exact') return r.value >= target;
	// A bound decides only on its side: "at least 2x" meets 1.6x, "at most 1x" misses it.
	if (r.kind === 'at least') return r.value >= target ? true : undefined;
	return r.value < target ? false : undefined;
}

const atLeast = (v: number | undefined, t: number): boolean | undefined => (v === undefined ? undefined : v >= t);
const atMost = (v: number | undefined, t: number): boolean | undefined => (v === undefined ? undefined : v <= t);

/** The issue's table of targets, with this run's figures. */
export function targetsTable(parts: { capacity?: CapacityResult; mixed?: MixedDayResult; control?: ControlPlaneResult; growth?: GrowthResult }): TargetRow[] {
	const { capacity, mixed, control, growth } = parts;
	const rows: TargetRow[] = [];
	if (capacity) {
		rows.push({ figure: 'broadcast capacity, mafalda / plain mediasoup', measured: fmtCapacityRatio(capacity.mafaldaOverPlain), target: '>= 1.6x', met: ratioMet(capacity.mafaldaOverPlain, 1.6) });
		rows.push({ figure: 'broadcast capacity, mafalda / round-robin pool', measured: fmtCapacityRatio(capacity.mafaldaOverRoundRobin), target: '>= 1.0x', met: ratioMet(capacity.mafaldaOverRoundRobin, 1.0) });
		const p = projectedRatio(capacity.costs, 'mafalda', 'plain');
		rows.push({ figure: '  (projected from CPU per packet) mafalda / plain mediasoup', measured: fmtRatio(p), target: '>= 1.6x', met: atLeast(p, 1.6) });
		const sim = spreadOf(capacity.results.flatMap((r) => r.steps.filter((s) => s.costs.forwardedPerSecond >= 10_000).map((s) => s.costs.simulatorToWorker ?? Number.NaN)));
		rows.push({ figure: 'simulator CPU per delivered packet / worker CPU per forwarded packet (broadcast)', measured: fmtSpread(sim), target: '<= 0.2', met: atMost(sim?.median, 0.2) });
	}
	if (mixed) {
		rows.push({ figure: 'mixed day: meetings next to the broadcast, mafalda / round-robin pool', measured: fmtCapacityRatio(mixed.mafaldaOverRoundRobin), target: '>= 1.15x', met: ratioMet(mixed.mafaldaOverRoundRobin, 1.15) });
		rows.push({ figure: 'mixed day: mafalda / least-loaded pool', measured: fmtCapacityRatio(mixed.mafaldaOverLeastLoaded), target: '>= 1.0x', met: ratioMet(mixed.mafaldaOverLeastLoaded, 1.0) });
		const sim = spreadOf(mixed.results.flatMap((r) => r.steps.filter((s) => s.costs.forwardedPerSecond >= 10_000).map((s) => s.costs.simulatorToWorker ?? Number.NaN)));
		rows.push({ figure: 'simulator / worker CPU per packet (mixed day)', measured: fmtSpread(sim), target: '<= 0.2', met: atMost(sim?.median, 0.2) });
	}
	if (control) rows.push({ figure: 'consumers created per second, all workers, mafalda / round-robin pool', measured: fmtRatio(control.ratioAllWorkers), target: '>= 1.0x', met: atLeast(control.ratioAllWorkers, 1.0) });
	if (growth) rows.push({ figure: 'memory per 1,000 consumers, mafalda / plain mediasoup', measured: fmtRatio(growth.memoryRatio), target: '<= 1.3x', met: atMost(growth.memoryRatio, 1.3) });
	return rows;
}

/** Figures whose steadiness over runs is a target of its own ("three back-to-back capacity runs"). */
const STEADY_FIGURES = ['broadcast capacity, mafalda / plain mediasoup', '  (projected from CPU per packet) mafalda / plain mediasoup'];

/**
 * This run's figure next to the same figure of the runs before it that ramped
 * the broadcast on the same kind of machine (bench/results/runs-history.json:
 * whole runs and `--only capacity` ones), and their spread, (max - min) /
 * median: three capacity ramps inside one `npm run bench` would not fit its
 * 15 minutes. A figure that is a bound ("at least 1.2x") is no point of the spread.
 */
export function steadinessRows(rows: TargetRow[], previous: RunRecord[], runs = 3): TargetRow[] {
	const out: TargetRow[] = [];
	for (const figure of STEADY_FIGURES) {
		const now = rows.find((r) => r.figure === figure);
		if (!now) continue;
		const measured = [...previous.slice(-(runs - 1)).map((r) => r.targets.find((t) => t.figure === figure)?.measured ?? '-'), now.measured];
		const values = measured.map((m) => /^(\d+(?:\.\d+)?)x$/.exec(m)).filter((m): m is RegExpExecArray => m !== null).map((m) => Number(m[1]));
		const spread = spreadOf(values);
		const relative = spread && spread.median > 0 ? (spread.max - spread.min) / spread.median : undefined;
		out.push({
			figure: `${figure.trimStart()}, over the last ${measured.length} runs of it`,
			measured: `${measured.join(', ')}: spread ${relative === undefined ? 'n/a' : `${Math.round(relative * 100)}%`}${values.length < measured.length ? ` (of ${values.length} exact figures)` : ''}`,
			target: 'within 15%',
			met: values.length < runs || relative === undefined ? undefined : relative <= 0.15,
		});
	}
	return out;
}

export function renderTargets(rows: TargetRow[]): string {
	return renderTable(
		['figure', 'this run', 'target', 'met'],
		rows.map((r) => [r.figure, r.measured, r.target, r.met === undefined ? 'undecided' : r.met ? 'yes' : 'NO']),
	);
}
