// The projected throughput (comparisons 1 and 5) comes from a ramp's largest
// loads short of a collapse: a window that failed grossly forwards far less
// per core-second than its workers can, and would sink the projection.
import { rampCosts } from '../bench/comparisons/backend-ramps';
import type { RampResult, StepResult } from '../bench/scenarios/ramp';

/** The fields rampCosts reads of a step; the rest of a StepResult does not enter the figure. */
function step(units: number, deliveredPerSecond: number, workerCpuPct: number, judgedLossPct: number, p99: number): StepResult {
	return {
		units,
		passed: judgedLossPct < 1 && p99 < 50,
		judgedLossPct,
		latency: { p50: p99 / 3, p95: p99 / 2, p99 },
		costs: { forwardedPerSecond: deliveredPerSecond, deliveredPerSecond, workerCpuPct, busiestWorkerCpuPct: workerCpuPct, workerUsPerForwarded: (workerCpuPct * 10_000) / deliveredPerSecond },
	} as unknown as StepResult;
}

const ramp = (steps: StepResult[]): RampResult => ({ steps } as unknown as RampResult);

test('the projection takes the last three windows that did not fail grossly', () => {
	// 100,000 packets/s per core below the knee; past it the worker collapses (40% loss, p99 1 s).
	const healthy = [step(300, 50_000, 50, 0, 5), step(600, 80_000, 80, 0, 20), step(900, 90_000, 90, 0, 40), step(1200, 95_000, 95, 0.5, 70)];
	const collapsed = [step(1500, 40_000, 110, 40, 1_000), step(1350, 45_000, 108, 20, 800)];
	const costs = rampCosts(ramp([...healthy, ...collapsed]));
	expect(costs.projectedDeliveredPerSecond?.median).toBeCloseTo(100_000, -2);
	expect(costs.projectedDeliveredPerSecond?.n).toBe(3);
	expect(costs.balance).toBe(1);
	// A step over the thresholds but not grossly (p99 70 ms) still counts: its CPU counters are sound.
	expect(rampCosts(ramp(healthy)).projectedDeliveredPerSecond?.median).toBeCloseTo(100_000, -2);
});

test('a ramp with nothing but gross failures projects nothing', () => {
	const costs = rampCosts(ramp([step(1500, 40_000, 110, 40, 1_000)]));
	expect(costs.projectedDeliveredPerSecond).toBeUndefined();
	expect(costs.balance).toBeUndefined();
});
