/** Number formats shared by the live line, the step lines and the tables. */
export function fmtMs(ms: number): string {
	if (!Number.isFinite(ms)) return 'n/a';
	return ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`;
}

export function fmtPct(part: number, whole: number): string {
	return whole > 0 ? `${((100 * part) / whole).toFixed(2)}%` : 'n/a';
}

export function fmtRatio(value: number | undefined): string {
	return value === undefined || !Number.isFinite(value) ? 'n/a' : `${value.toFixed(2)}x`;
}

export function fmtInt(n: number): string {
	return Math.round(n).toLocaleString('en-US');
}
