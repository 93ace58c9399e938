import { DISTURBED_PCT, type Thresholds } from '../scenarios/thresholds';

export interface ChartPoint {
	x: number;
	lossPct: number;
	p50: number;
	p99: number;
	/** Packets delivered to receivers per second (a third panel when any point has it). */
	deliveredPerSecond?: number;
	/** Other processes took a noticeable share of the machine during this point: drawn hollow. */
	disturbed?: boolean;
}

export interface ChartSeries {
	label: string;
	color: string;
	points: ChartPoint[];
}

export const SERIES_COLORS: Readonly<Record<string, string>> = {
	plain: '#7f7f7f',
	'round-robin': '#e69f00',
	'least-loaded': '#009e73',
	mafalda: '#0072b2',
};

const W = 900;
const PANEL_H = 300;
const M = { left: 70, right: 190, top: 60, gap: 70, bottom: 50 };
const PLOT_W = W - M.left - M.right;
const heightFor = (panels: number): number => M.top + PANEL_H * panels + M.gap * (panels - 1) + M.bottom;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(v: number): number {
	if (v <= 0) return 1;
	const p = 10 ** Math.floor(Math.log10(v));
	for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
	return 10 * p;
}

function polyline(points: Array<[number, number, boolean]>, color: string, dash?: string): string {
	if (points.length === 0) return '';
	const d = points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
	return `<polyline fill="none" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${d}"/>` +
		points
			.map(([x, y, hollow]) => `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${hollow ? 4 : 3}" fill="${hollow ? 'white' : color}" stroke="${color}" stroke-width="1.5"/>`)
			.join('');
}

/**
 * Receivers against loss (top, linear), one-way latency (log scale: p99
 * solid, p50 dashed) and, when the points carry it, packets delivered per
 * second (where one worker flattens out and more workers keep climbing),
 * every backend on the same axes, with the pass thresholds drawn in.
 * Hand-written SVG: no chart library to install.
 */
export function renderChart(title: string, subtitle: string, series: ChartSeries[], thresholds: Thresholds, xLabel = 'receivers'): string {
	const all = series.flatMap((s) => s.points);
	const xMax = niceMax(Math.max(1, ...all.map((p) => p.x)));
	const lossMax = niceMax(Math.max(thresholds.maxLossPct * 2, ...all.map((p) => p.lossPct)));
	const latencies = all.flatMap((p) => [p.p50, p.p99]).filter((v) => Number.isFinite(v) && v > 0);
	const latMinExp = Math.floor(Math.log10(Math.min(1, ...latencies)));
	const latMaxExp = Math.ceil(Math.log10(Math.max(thresholds.maxP99Ms * 2, ...latencies)));
	const x = (v: number): number => M.left + (v / xMax) * PLOT_W;
	const withRate = all.some((p) => p.deliveredPerSecond !== undefined);
	const H = heightFor(withRate ? 3 : 2);
	const top1 = M.top;
	const top2 = M.top + PANEL_H + M.gap;
	const top3 = top2 + PANEL_H + M.gap;
	const rateMax = niceMax(Math.max(1, ...all.map((p) => (p.deliveredPerSecond ?? 0) / 1000)));
	const yRate = (kpps: number): number => top3 + PANEL_H - (Math.min(kpps, rateMax) / rateMax) * PANEL_H;
	const yLoss = (v: number): number => top1 + PANEL_H - (Math.min(v, lossMax) / lossMax) * PANEL_H;
	const yLat = (v: number): number => {
		const e = Math.log10(Math.max(v, 10 ** latMinExp));
		return top2 + PANEL_H - ((e - latMinExp) / (latMaxExp - latMinExp)) * PANEL_H;
	};

	const out: string[] = [];
	out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
	out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
	out.push(`<text x="${M.left}" y="24" font-size="16" font-weight="bold">${esc(title)}</text>`);
	out.push(`<text x="${M.left}" y="42" fill="#555">${esc(subtitle)}</text>`);

	// Axes, grids and labels of both panels.
	const panels: Array<[number, string]> = [[top1, 'loss (%)'], [top2, 'one-way latency (ms, log)']];
	if (withRate) panels.push([top3, 'delivered (thousand packets/s)']);
	for (const [top, label] of panels) {
		out.push(`<rect x="${M.left}" y="${top}" width="${PLOT_W}" height="${PANEL_H}" fill="none" stroke="#333"/>`);
		out.push(`<text transform="translate(18 ${top + PANEL_H / 2}) rotate(-90)" text-anchor="middle">${label}</text>`);
		for (let i = 0; i <= 5; i++) {
			const v = (xMax * i) / 5;
			out.push(`<line x1="${x(v)}" x2="${x(v)}" y1="${top}" y2="${top + PANEL_H}" stroke="#eee"/>`);
			out.push(`<text x="${x(v)}" y="${top + PANEL_H + 16}" text-anchor="middle">${Math.round(v)}</text>`);
		}
		out.push(`<text x="${M.left + PLOT_W / 2}" y="${top + PANEL_H + 34}" text-anchor="middle">${esc(xLabel)}</text>`);
	}
	for (let i = 0; i <= 4; i++) {
		const v = (lossMax * i) / 4;
		out.push(`<line x1="${M.left}" x2="${M.left + PLOT_W}" y1="${yLoss(v)}" y2="${yLoss(v)}" stroke="#eee"/>`);
		out.push(`<text x="${M.left - 6}" y="${yLoss(v) + 4}" text-anchor="end">${+v.toFixed(2)}</text>`);
	}
	for (let e = latMinExp; e <= latMaxExp; e++) {
		const v = 10 ** e;
		out.push(`<line x1="${M.left}" x2="${M.left + PLOT_W}" y1="${yLat(v)}" y2="${yLat(v)}" stroke="#eee"/>`);
		out.push(`<text x="${M.left - 6}" y="${yLat(v) + 4}" text-anchor="end">${v >= 1 ? v : v.toFixed(-e)}</text>`);
	}
	if (withRate) {
		for (let i = 0; i <= 4; i++) {
			const v = (rateMax * i) / 4;
			out.push(`<line x1="${M.left}" x2="${M.left + PLOT_W}" y1="${yRate(v)}" y2="${yRate(v)}" stroke="#eee"/>`);
			out.push(`<text x="${M.left - 6}" y="${yRate(v) + 4}" text-anchor="end">${+v.toFixed(1)}</text>`);
		}
	}
	// Thresholds.
	out.push(`<line x1="${M.left}" x2="${M.left + PLOT_W}" y1="${yLoss(thresholds.maxLossPct)}" y2="${yLoss(thresholds.maxLossPct)}" stroke="#d62728" stroke-dasharray="6 4"/>`);
	out.push(`<text x="${M.left + PLOT_W - 4}" y="${yLoss(thresholds.maxLossPct) - 4}" text-anchor="end" fill="#d62728">${thresholds.maxLossPct}% loss limit</text>`);
	out.push(`<line x1="${M.left}" x2="${M.left + PLOT_W}" y1="${yLat(thresholds.maxP99Ms)}" y2="${yLat(thresholds.maxP99Ms)}" stroke="#d62728" stroke-dasharray="6 4"/>`);
	out.push(`<text x="${M.left + PLOT_W - 4}" y="${yLat(thresholds.maxP99Ms) - 4}" text-anchor="end" fill="#d62728">p99 limit ${thresholds.maxP99Ms} ms</text>`);

	// Series.
	for (const s of series) {
		const pts = [...s.points].sort((a, b) => a.x - b.x);
		const hollow = (p: ChartPoint): boolean => p.disturbed === true;
		out.push(polyline(pts.map((p) => [x(p.x), yLoss(p.lossPct), hollow(p)]), s.color));
		out.push(polyline(pts.filter((p) => Number.isFinite(p.p99)).map((p) => [x(p.x), yLat(p.p99), hollow(p)]), s.color));
		out.push(polyline(pts.filter((p) => Number.isFinite(p.p50)).map((p) => [x(p.x), yLat(p.p50), hollow(p)]), s.color, '4 4'));
		if (withRate) out.push(polyline(pts.filter((p) => p.deliveredPerSecond !== undefined).map((p) => [x(p.x), yRate((p.deliveredPerSecond ?? 0) / 1000), hollow(p)]), s.color));
	}

	// Legend.
	const lx = M.left + PLOT_W + 16;
	series.forEach((s, i) => {
		const ly = top1 + 10 + i * 22;
		out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="3"/>`);
		out.push(`<text x="${lx + 30}" y="${ly + 4}">${esc(s.label)}</text>`);
	});
	out.push(`<text x="${lx}" y="${top2 + 10}" fill="#555">solid: p99</text>`);
	out.push(`<text x="${lx}" y="${top2 + 28}" fill="#555">dashed: p50</text>`);
	if (all.some((p) => p.disturbed)) {
		out.push(`<text x="${lx}" y="${top2 + 52}" fill="#555">hollow: other processes</text>`);
		out.push(`<text x="${lx}" y="${top2 + 68}" fill="#555">took over ${DISTURBED_PCT}% of CPU</text>`);
	}
	out.push('</svg>\n');
	return out.join('\n');
}
