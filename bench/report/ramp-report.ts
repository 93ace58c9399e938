import type { RampResult } from '../scenarios/ramp';
import { DISTURBED_PCT, type Thresholds } from '../scenarios/thresholds';
import { BACKEND_SHORT } from '../sfu/start-backend';
import { fmtMs } from './format';
import { type ChartSeries, renderChart, SERIES_COLORS } from './svg-chart';
import { renderTable } from './table';

/** Per backend and worker, at the last step measured: where the receivers went and how they fared. */
export function workerTable(results: RampResult[]): string {
	const rows: Array<Array<string | number>> = [];
	for (const r of results) {
		const last = r.steps[r.steps.length - 1];
		for (const w of r.workers) {
			const group = last?.groups[`w${w.workerIndex}`];
			const cpu = last?.workers.find((x) => x.workerIndex === w.workerIndex)?.cpuPct;
			rows.push([
				BACKEND_SHORT[r.backend],
				w.workerIndex,
				w.consumers,
				w.pipeConsumers,
				w.shards,
				cpu === undefined ? 'n/a' : `${cpu.toFixed(0)}%`,
				group?.receivers ?? 0,
				group ? `${group.lossPct.toFixed(2)}%` : 'n/a',
				group ? fmtMs(group.latency.p99) : 'n/a',
			]);
		}
	}
	return renderTable(['backend', 'worker', 'consumers', 'pipe consumers', 'shards', 'CPU (last step)', 'receivers', 'loss', 'p99'], rows);
}

/** Per backend, over every measured window of the run. */
export function overallTable(results: RampResult[]): string {
	const rows = results.map((r) => {
		const received = r.steps.reduce((n, s) => n + s.receivedPackets, 0);
		const lost = r.steps.reduce((n, s) => n + s.lostPackets, 0);
		const sent = r.sent.reduce((n, c) => n + c.videoPackets + c.audioPackets, 0);
		return [
			BACKEND_SHORT[r.backend],
			r.steps[r.steps.length - 1]?.receivers ?? 0,
			r.reachedMax ? `>= ${r.capacity}` : String(r.capacity),
			sent,
			r.received.packets,
			`${(received + lost > 0 ? (100 * lost) / (received + lost) : 0).toFixed(2)}%`,
			fmtMs(r.latency.p50),
			fmtMs(r.latency.p95),
			fmtMs(r.latency.p99),
		];
	});
	return renderTable(['backend', 'receivers', 'capacity', 'packets sent', 'packets received', 'loss', 'p50', 'p95', 'p99'], rows);
}

export function rampChart(title: string, subtitle: string, results: RampResult[], thresholds: Thresholds, xLabel = results[0]?.unit ?? 'receivers'): string {
	const series: ChartSeries[] = results.map((r) => ({
		label: BACKEND_SHORT[r.backend],
		color: SERIES_COLORS[r.backend] ?? '#000',
		points: r.steps.map((s) => ({
			x: s.units,
			lossPct: s.judgedLossPct,
			p50: s.latency.p50,
			p99: s.latency.p99,
			deliveredPerSecond: s.costs.deliveredPerSecond,
			disturbed: (s.otherProcessesPct ?? 0) > DISTURBED_PCT,
		})),
	}));
	return renderChart(title, subtitle, series, thresholds, xLabel);
}
