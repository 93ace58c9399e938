import * as os from 'node:os';
import type { Args } from '../cli/args';
import { OVERLOAD_LIMIT_MS } from './thresholds';

/**
 * Simulator threads by default: one sender, and receiver threads for half the
 * cores (at least one). On 2 cores one receiver thread, not two: the measured
 * receivers read at most about 30,000 packets a second, a tenth of a core, and
 * one thread takes more of them per wake-up and switches less often against
 * the sender and the workers (2026-12-07, the mixed day on mafalda, two runs
 * each way: 1.06 to 1.36 µs of simulator CPU per delivered packet with one
 * receiver thread, 1.20 to 1.47 with two).
 */
export function defaultThreads(): number {
	return 1 + Math.max(1, Math.floor(os.availableParallelism() / 2));
}

export interface RampTiming {
	warmupMs: number;
	measureMs: number;
	threads: number;
	concurrency: number;
	/** Per backend: no new step starts after this long (ms), so that the whole bench keeps its time. */
	budgetMs: number;
	/** A step still joining, or still reading stats, after this long fails as an overload and ends its ramp (OVERLOAD_LIMIT_MS). */
	overloadLimitMs: number;
}

/** Options every ramp shares: --duration, --warmup, --budget (seconds), --threads, --concurrency. */
export function readRampTiming(args: Args, defaults: { duration: number; warmup: number; budget: number }): RampTiming {
	return {
		measureMs: args.num('duration', defaults.duration) * 1000,
		warmupMs: args.num('warmup', defaults.warmup) * 1000,
		threads: args.num('threads', defaultThreads()),
		concurrency: args.num('concurrency', 8),
		budgetMs: args.num('budget', defaults.budget) * 1000,
		overloadLimitMs: args.num('overload-limit', OVERLOAD_LIMIT_MS / 1000) * 1000,
	};
}

export const RAMP_TIMING_HELP = `  --duration S      seconds measured per step
  --warmup S        seconds between adding receivers and measuring (new consumers wait for a key frame)
  --threads N       simulator pool threads: 1 sender + N-1 receiver threads (default ${defaultThreads()})
  --concurrency N   receivers being created at once (default 8)
  --budget S        per backend, no new step starts after S seconds
  --overload-limit S  a step still joining, or reading stats, after S seconds fails as an overload and ends the ramp (default ${OVERLOAD_LIMIT_MS / 1000})`;
