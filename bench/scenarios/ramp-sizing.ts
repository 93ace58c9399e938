/**
 * Sizes the broadcast and mixed-day ramps from one figure measured on the
 * machine that runs them: what plain mediasoup's worker spends per packet it
 * forwards (the calibration probe, bench/comparisons/calibration.ts). The
 * machine changes between sessions (an Intel Xeon at ~5.3 µs a packet, where
 * plain mediasoup carries ~1,000 receivers; an AMD EPYC at ~9-12 µs, ~500), and
 * a grid sized by hand for one is too coarse or too short on the other.
 * Pure arithmetic: test/bench-ramp-sizing.test.ts.
 */
import { meetingSize } from './mixed-day';

/**
 * The share of a core plain mediasoup's one worker uses at its knee. At a
 * whole core, 1e6 / (µs per packet x packets per receiver) overestimates what
 * it carries under 50 ms p99: 1,060 receivers at 5.3 µs (Xeon; it carried
 * 1,000 and failed at 1,100 in every run, its worker at 86-100% of a core
 * passing and 108-117% failing), 560 at 10 µs (EPYC; it carried ~500). Past
 * ~90% its queue grows and p99 goes over 50 ms: 0.9 puts both within 5%.
 */
export const KNEE_HEADROOM = 0.9;

/**
 * How far past plain mediasoup's estimated capacity the broadcast search
 * goes. Two workers on 2 cores carry at most 2.0x what one does; the margin
 * above it absorbs the estimate's error, so that mafalda's knee is found
 * rather than cut off (a ramp that passes its last step gives only a lower
 * bound). 2.4x was not enough: on 2026-12-07 the probe read 6.79 µs a
 * packet, which estimates 745 receivers and, rounded to steps of 200, a last
 * step of 1,600 (2.15x); plain mediasoup carried 800 and the round-robin pool
 * passed 1,600. The steps past 2.4x
 * cost nothing to a ramp that fails before them, and the time budget bounds
 * one that does not.
 */
export const BROADCAST_MAX_OVER_PLAIN = 3;

/**
 * Full steps of the broadcast ramp (after its half step). Reaching 3x in 10
 * steps makes a step 0.3x the estimate, as 2.4x in the 8 steps of the fixed
 * grid it replaced (200 to 1,600) did (the capacity's resolution, going back
 * halfway after a failure, is half of that); a ramp fails by its 8th or 9th
 * step, as before, within its 90 s budget.
 */
export const BROADCAST_FULL_STEPS = 10;

/** How far past plain mediasoup's estimated capacity the mixed day's search goes (its meetings beside the broadcast). */
export const MIXED_DAY_MAX_OVER_PLAIN = 2.4;

/** Broadcast steps are multiples of this many receivers (readable step lines). */
export const RECEIVER_MULTIPLE = 50;

/** Full steps of the mixed day (after its half step): as many as its fixed grid had (4 to 48 meetings). */
export const MIXED_DAY_FULL_STEPS = 12;

/** A ramp's grid: units added per step, and its last step. */
export interface RampSize {
	step: number;
	max: number;
}

/** How a ramp's sizes were chosen, kept with its results. */
export interface Calibration extends RampSize {
	/** The probe's worker CPU per forwarded packet, µs (absent when the options gave every size). */
	workerUsPerForwarded?: number;
	/** Receivers plain mediasoup is estimated to carry, from that figure. */
	estimatedPlainReceivers?: number;
	/** 'probe' when the probe sized the ramp (an option may still have overridden one of its sizes). */
	source: 'probe' | 'options';
}

/** Receivers of a broadcast that plain mediasoup's one worker carries at KNEE_HEADROOM of a core. */
export function estimatedPlainReceivers(workerUsPerForwarded: number, packetsPerReceiverPerSecond: number): number {
	if (!(workerUsPerForwarded > 0) || !(packetsPerReceiverPerSecond > 0)) throw new Error(`no capacity estimate from ${workerUsPerForwarded} µs per packet at ${packetsPerReceiverPerSecond} packets/s`);
	return (KNEE_HEADROOM * 1e6) / (workerUsPerForwarded * packetsPerReceiverPerSecond);
}

/**
 * A grid of `fullSteps` steps, each a multiple of `multiple` (at least one),
 * ending near `target`: the step is the multiple nearest target / fullSteps,
 * so the last step lies within half a multiple per step of the target. The
 * count stays fixed (it is what the time budget was sized for).
 */
export function gridFor(target: number, fullSteps: number, multiple: number): RampSize {
	const step = multiple * Math.max(1, Math.round(target / fullSteps / multiple));
	return { step, max: step * fullSteps };
}

/** The broadcast ramp's grid for a machine whose plain worker spends `workerUsPerForwarded` µs per forwarded packet. */
export function broadcastSize(workerUsPerForwarded: number, packetsPerReceiverPerSecond: number): RampSize & { estimatedPlainReceivers: number } {
	const plain = estimatedPlainReceivers(workerUsPerForwarded, packetsPerReceiverPerSecond);
	return { estimatedPlainReceivers: Math.round(plain), ...gridFor(BROADCAST_MAX_OVER_PLAIN * plain, BROADCAST_FULL_STEPS, RECEIVER_MULTIPLE) };
}

/**
 * Receivers a meeting costs as much as, by packets forwarded: everybody
 * receives everybody else's audio and video, n x (n - 1) streams of the
 * broadcast's rate, averaged over the sizes meetings come in (5 and 6: 25).
 */
export function meetingReceiverEquivalents(): number {
	const sizes = [meetingSize(0), meetingSize(1)];
	return sizes.reduce((sum, n) => sum + n * (n - 1), 0) / sizes.length;
}

/**
 * The mixed day's grid, in meetings: what is left of MIXED_DAY_MAX_OVER_PLAIN times
 * plain mediasoup's estimated capacity once the broadcast beside the meetings
 * is carried, in meetings of meetingReceiverEquivalents() each. It counts
 * forwarded packets only, as the broadcast's estimate does; on the Xeon it
 * gives 26 meetings for plain mediasoup, which carried 32 (its max, 84, is
 * still 2.6x that). A broadcast past the estimate leaves one meeting a step.
 */
export function mixedDaySize(plainReceivers: number, broadcastReceivers: number): RampSize & { estimatedPlainMeetings: number } {
	const perMeeting = meetingReceiverEquivalents();
	const meetings = (receivers: number): number => Math.max(0, (receivers - broadcastReceivers) / perMeeting);
	return { estimatedPlainMeetings: Math.round(meetings(plainReceivers)), ...gridFor(meetings(MIXED_DAY_MAX_OVER_PLAIN * plainReceivers), MIXED_DAY_FULL_STEPS, 1) };
}

/** The probe runs unless the options give both sizes. */
export function needsProbe(given: Partial<RampSize>): boolean {
	return given.step === undefined || given.max === undefined;
}

/** The sizes a ramp runs with: each option given overrides the probe's. */
export function chooseSize(given: Partial<RampSize>, probed: RampSize | undefined): RampSize & { source: Calibration['source'] } {
	if (!needsProbe(given)) return { step: given.step as number, max: given.max as number, source: 'options' };
	if (!probed) throw new Error('a ramp without --step and --max needs the calibration probe');
	return { step: given.step ?? probed.step, max: given.max ?? probed.max, source: 'probe' };
}
