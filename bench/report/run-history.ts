import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TargetRow } from '../comparisons/targets';
import { resultsDir } from './results-file';
import { renderTable } from './table';

export interface RunRecord {
	/** When the run ended (ISO time). */
	at: string;
	minutes: number;
	/** Other processes' share of the machine just before the run, %. */
	backgroundBusyPct: number | undefined;
	/** `cpuModel, N cores`: runs compare only on the same kind of machine (absent in records before 2026-12-02). */
	machine?: string;
	/** Whether it ran every part (`npm run bench` without --only; absent: it did). */
	whole?: boolean;
	targets: TargetRow[];
}

/** How many whole runs, and how many runs with a capacity part, bench/results/runs-history.json keeps, newest last. */
export const HISTORY_LENGTH = 3;

function historyFile(): string {
	return path.join(resultsDir(), 'runs-history.json');
}

/** The runs recorded so far, oldest first. */
export function readHistory(): RunRecord[] {
	try {
		const runs = JSON.parse(fs.readFileSync(historyFile(), 'utf8')) as unknown;
		return Array.isArray(runs) ? (runs as RunRecord[]) : [];
	} catch {
		return [];
	}
}

const isWhole = (r: RunRecord): boolean => r.whole !== false;

/**
 * Appends this run to bench/results/runs-history.json, which keeps the last
 * HISTORY_LENGTH whole runs and the last HISTORY_LENGTH runs of any kind (a
 * `--only capacity` run counts for the broadcast's steadiness), and returns
 * the whole runs side by side, figure by figure: the spread between runs on
 * this shared machine is part of the result.
 */
export function recordRun(run: RunRecord): { file: string; table: string } {
	const all = [...readHistory(), run];
	const keep = new Set([...all.filter(isWhole).slice(-HISTORY_LENGTH), ...all.slice(-HISTORY_LENGTH)]);
	fs.writeFileSync(historyFile(), JSON.stringify(all.filter((r) => keep.has(r)), null, 2) + '\n');
	const runs = all.filter(isWhole).slice(-HISTORY_LENGTH);
	const figures: string[] = [];
	for (const r of runs) for (const t of r.targets) if (!figures.includes(t.figure)) figures.push(t.figure);
	const table = renderTable(
		['figure', 'target', ...runs.map((r) => `${r.at.slice(0, 16).replace('T', ' ')} (busy ${r.backgroundBusyPct?.toFixed(0) ?? '?'}%)`)],
		figures.map((figure) => {
			const target = runs.flatMap((r) => r.targets).find((t) => t.figure === figure)?.target ?? '';
			return [figure, target, ...runs.map((r) => r.targets.find((t) => t.figure === figure)?.measured ?? '-')];
		}),
	);
	return { file: historyFile(), table };
}
