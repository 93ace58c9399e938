// The bench's "three back-to-back capacity runs" row: this run's ratio next to
// the last whole runs' and their spread (pure arithmetic over recorded rows).
import { steadinessRows, type TargetRow } from '../bench/comparisons/targets';
import type { RunRecord } from '../bench/report/run-history';

const FIGURE = 'broadcast capacity, mafalda / plain mediasoup';
const row = (measured: string): TargetRow => ({ figure: FIGURE, measured, target: '>= 1.6x', met: undefined });
const run = (measured: string): RunRecord => ({ at: '2026-12-02T00:00:00.000Z', minutes: 13, backgroundBusyPct: 1, targets: [row(measured)] });

test('three exact figures: their spread, (max - min) / median, decides against 15%', () => {
	const [steady] = steadinessRows([row('2.00x')], [run('1.50x'), run('2.00x'), run('1.75x')]);
	expect(steady).toMatchObject({ measured: '2.00x, 1.75x, 2.00x: spread 13%', target: 'within 15%', met: true });
	const [wide] = steadinessRows([row('1.50x')], [run('2.00x'), run('2.00x')]);
	expect(wide).toMatchObject({ measured: '2.00x, 2.00x, 1.50x: spread 25%', met: false });
});

test('a bound or a missing run is no point of the spread, and leaves the target undecided', () => {
	const [bounded] = steadinessRows([row('at least 2.00x')], [run('2.00x'), run('1.50x')]);
	expect(bounded).toMatchObject({ measured: '2.00x, 1.50x, at least 2.00x: spread 33% (of 2 exact figures)', met: undefined });
	const [first] = steadinessRows([row('1.60x')], []);
	expect(first).toMatchObject({ measured: '1.60x: spread 0%', met: undefined });
	expect(steadinessRows([], [run('2.00x')])).toEqual([]);
});
