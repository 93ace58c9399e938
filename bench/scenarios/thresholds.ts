/** What "works" means in every capacity figure: the criteria. */
export interface Thresholds {
	/** Loss must stay under this, %. */
	maxLossPct: number;
	/** p99 one-way latency must stay under this, ms. */
	maxP99Ms: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = { maxLossPct: 1, maxP99Ms: 50 };

export function passes(t: Thresholds, lossPct: number, p99Ms: number, silentReceivers: number): boolean {
	// NaN p99 (no probe arrived at all) fails like an infinite one.
	return lossPct < t.maxLossPct && p99Ms < t.maxP99Ms && silentReceivers === 0;
}

/**
 * A failure this far past the thresholds (5 times the loss, 4 times the p99)
 * is an overload, not a stall of a few tens of ms: no second window confirms
 * it (each window on an overloaded backend reads every consumer's stats from
 * workers with no CPU to spare, which is most of a ramp's time there).
 */
export function grossFailure(t: Thresholds, lossPct: number, p99Ms: number): boolean {
	return lossPct >= 5 * t.maxLossPct || !(p99Ms < 4 * t.maxP99Ms);
}

/**
 * Other processes' share of the machine (%) above which a window is called
 * disturbed: a failing one is measured again, and charts draw it hollow.
 */
export const DISTURBED_PCT = 15;

/**
 * A step whose new receivers take longer than this to join, or whose
 * consumers' stats take longer than this to read, is an overload failure,
 * judged without (the rest of) its window, and its ramp ends there. Past a
 * mediasoup worker's knee its per-packet cost can collapse (2026-12-07: the
 * least-loaded pool's two workers at 110% spent 16.6 µs per forwarded packet
 * instead of 5.3, with 45% ingress loss), and every request on its channel
 * waits behind the media: 250 receivers took 115 s to join and that step's
 * window five more minutes of stats reads; in the next run the round-robin
 * pool's window at 1,750 receivers read stats for more than six minutes. A
 * viewer kept 20 s from joining, or an SFU that cannot tell its own counters
 * in 20 s, has failed whatever the window would say, and waiting it out costs
 * a run its 15 minutes. Below a knee a step joins in 1 to 3 s and its stats
 * read in under 2 s; failing windows near one took up to 15 s.
 */
export const OVERLOAD_LIMIT_MS = 20_000;
