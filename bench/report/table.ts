/** A plain-text table: a header row, a rule, right-aligned numbers, left-aligned text. */
export function renderTable(headers: string[], rows: Array<Array<string | number>>): string {
	const cells = rows.map((row) => row.map((c) => (typeof c === 'number' ? formatNumber(c) : c)));
	const numeric = headers.map((_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === 'number' || /^[\d.,%x\s-]+(ms|µs|MB|KB|%|x)?$/.test(String(row[i]))));
	const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => (row[i] ?? '').length)));
	const line = (row: string[]): string =>
		row.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
	return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

function formatNumber(n: number): string {
	if (!Number.isFinite(n)) return 'n/a';
	if (Number.isInteger(n)) return n.toLocaleString('en-US');
	return Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2);
}
