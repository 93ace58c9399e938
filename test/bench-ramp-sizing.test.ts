// The ramps' sizes from the calibration probe's figure (pure arithmetic: no
// workers), checked against the two machines the bench has run on.
import { broadcastSize, chooseSize, estimatedPlainReceivers, gridFor, meetingReceiverEquivalents, mixedDaySize, needsProbe } from '../bench/scenarios/ramp-sizing';
import { DEFAULT_PROFILE, profileRates } from '../bench/sim/media-profile';

const rates = profileRates(DEFAULT_PROFILE);
const perReceiver = rates.videoPacketsPerSecond + rates.audioPacketsPerSecond;

test('a receiver of the default profile gets 178 packets a second (128 video, 50 audio)', () => {
	expect(perReceiver).toBe(178);
});

test("the estimate lands within 5% of what plain mediasoup carried on the Xeon (5.3 µs: 1,000) and the EPYC (10 µs: ~500)", () => {
	expect(estimatedPlainReceivers(5.3, perReceiver)).toBeGreaterThan(950);
	expect(estimatedPlainReceivers(5.3, perReceiver)).toBeLessThan(1050);
	expect(estimatedPlainReceivers(10, perReceiver)).toBeGreaterThan(475);
	expect(estimatedPlainReceivers(10, perReceiver)).toBeLessThan(525);
	expect(() => estimatedPlainReceivers(0, perReceiver)).toThrow();
	expect(() => estimatedPlainReceivers(Number.NaN, perReceiver)).toThrow();
});

test('the broadcast grid: 10 steps of a multiple of 50 (0.3x the estimate) to about 3x the estimate', () => {
	expect(broadcastSize(5.3, perReceiver)).toEqual({ estimatedPlainReceivers: 954, step: 300, max: 3000 });
	expect(broadcastSize(10, perReceiver)).toEqual({ estimatedPlainReceivers: 506, step: 150, max: 1500 });
	// 2026-12-07: the probe read 6.79 µs; plain mediasoup carried 800 and the round-robin pool passed 1,600, the last step of 8 to 2.4x.
	expect(broadcastSize(6.79, perReceiver)).toEqual({ estimatedPlainReceivers: 745, step: 200, max: 2000 });
	for (const us of [3, 5.3, 7, 9, 10, 12, 15, 25]) {
		const s = broadcastSize(us, perReceiver);
		expect(s.step % 50).toBe(0);
		expect(s.max / s.step).toBe(10);
		// Nearest-multiple rounding keeps the last step within 14% of 3x from 500 estimated receivers up.
		if (s.estimatedPlainReceivers >= 500) expect(Math.abs(s.max / s.estimatedPlainReceivers / 3 - 1)).toBeLessThan(0.14);
	}
	// A very slow machine still gets steps of 50.
	expect(broadcastSize(100, perReceiver)).toEqual({ estimatedPlainReceivers: 51, step: 50, max: 500 });
});

test('gridFor keeps its step count and rounds the step to the nearest multiple', () => {
	expect(gridFor(2400, 8, 50)).toEqual({ step: 300, max: 2400 });
	expect(gridFor(2400.0000001, 8, 50)).toEqual({ step: 300, max: 2400 });
	expect(gridFor(1100, 8, 50)).toEqual({ step: 150, max: 1200 });
	expect(gridFor(10, 8, 50)).toEqual({ step: 50, max: 400 });
	expect(gridFor(0, 12, 1)).toEqual({ step: 1, max: 12 });
});

test('the mixed day: what 2.4x leaves beside the broadcast, in meetings of 25 receivers', () => {
	expect(meetingReceiverEquivalents()).toBe(25);
	// Xeon: (2.4 x 954 - 300) / 25 = 80 meetings in 12 steps of 7; plain estimated at 26 (it carried 32).
	expect(mixedDaySize(954, 300)).toEqual({ estimatedPlainMeetings: 26, step: 7, max: 84 });
	// EPYC: (2.4 x 506 - 300) / 25 = 37 in 12 steps of 3.
	expect(mixedDaySize(506, 300)).toEqual({ estimatedPlainMeetings: 8, step: 3, max: 36 });
	// A broadcast larger than the machine: one meeting a step.
	expect(mixedDaySize(100, 300)).toEqual({ estimatedPlainMeetings: 0, step: 1, max: 12 });
});

test('options override: both sizes skip the probe, one overrides its size', () => {
	const probed = { step: 150, max: 1200 };
	expect(needsProbe({})).toBe(true);
	expect(needsProbe({ step: 200 })).toBe(true);
	expect(needsProbe({ step: 200, max: 1600 })).toBe(false);
	expect(chooseSize({ step: 200, max: 1600 }, undefined)).toEqual({ step: 200, max: 1600, source: 'options' });
	expect(chooseSize({}, probed)).toEqual({ step: 150, max: 1200, source: 'probe' });
	expect(chooseSize({ max: 3000 }, probed)).toEqual({ step: 150, max: 3000, source: 'probe' });
	expect(() => chooseSize({ step: 200 }, undefined)).toThrow();
});
