import type { LiveLine } from '../report/progress';
import { broadcastPopulation } from '../scenarios/broadcast';
import { runRamp, type StepResult } from '../scenarios/ramp';
import type { RampTiming } from '../scenarios/ramp-config';
import { broadcastSize, type Calibration, chooseSize, KNEE_HEADROOM, mixedDaySize, needsProbe, type RampSize } from '../scenarios/ramp-sizing';
import { DEFAULT_THRESHOLDS } from '../scenarios/thresholds';
import { DEFAULT_PROFILE, profileRates } from '../sim/media-profile';
import { startBackend } from '../sfu/start-backend';
import { MIN_PACKETS_PER_SECOND_FOR_COSTS } from './backend-ramps';

/**
 * Receivers of the probe's broadcast: ~27,000 forwarded packets a second,
 * well above MIN_PACKETS_PER_SECOND_FOR_COSTS (below it a thread's idle cost
 * weighs on the figure) and 15-40% of a core on the machines seen so far, far
 * from any knee, so the window is quick and nothing queues.
 */
export const PROBE_RECEIVERS = 150;

/** The probe's receivers join as the broadcast ramp's do (the window is measured after they all joined either way). */
const PROBE_JOIN_PER_SECOND = 100;

/** Packets a second each broadcast receiver gets: the default profile's video and audio. */
export function packetsPerReceiverPerSecond(): number {
	const rates = profileRates(DEFAULT_PROFILE);
	return rates.videoPacketsPerSecond + rates.audioPacketsPerSecond;
}

export interface ProbeResult {
	/** The plain worker's CPU time over the window per packet it forwarded, µs. */
	workerUsPerForwarded: number;
	receivers: number;
	forwardedPerSecond: number;
	workerCpuPct: number;
	/** Other processes' share of the machine in the window (they do not enter the figure: it is the worker's own CPU time). */
	otherProcessesPct: number | undefined;
}

/**
 * The calibration probe: plain mediasoup (one worker) under a small broadcast,
 * one window measured as a ramp's step is (warm-up, then stats, CPU and
 * packets over the window), read for its worker's CPU per forwarded packet.
 * That figure, unlike a capacity, hardly depends on what else runs: it is the
 * worker's own CPU time over its own packets.
 */
export async function probePlainCost(timing: RampTiming, line: LiveLine): Promise<ProbeResult> {
	line.log(`calibration probe: plain mediasoup, a broadcast of ${PROBE_RECEIVERS} receivers, one ${timing.measureMs / 1000} s window`);
	const backend = await startBackend('plain');
	let step: StepResult | undefined;
	let error: string | undefined;
	try {
		const r = await runRamp(backend, broadcastPopulation({ joinPerSecond: PROBE_JOIN_PER_SECOND }), {
			...timing,
			steps: [PROBE_RECEIVERS],
			budgetMs: undefined,
			stopAfterFailures: 0,
			// The figure is CPU per packet, not a pass or fail: no second window.
			remeasure: { max: 0, quietWaitMs: 0, confirm: false },
			thresholds: DEFAULT_THRESHOLDS,
			line,
		});
		step = r.steps[0];
		error = r.error;
	} finally {
		await backend.close();
	}
	const c = step?.costs;
	if (!step || !c || error !== undefined || !(c.workerUsPerForwarded > 0) || c.forwardedPerSecond < MIN_PACKETS_PER_SECOND_FOR_COSTS) {
		throw new Error(
			`calibration probe failed (${error ?? (c ? `${Math.round(c.forwardedPerSecond)} packets/s forwarded, ${c.workerUsPerForwarded} µs each` : 'no window')}): ` +
				'give the ramp its sizes (--step and --max, --md-step and --md-max, or the demo\'s --receivers and --steps)',
		);
	}
	const result = { workerUsPerForwarded: c.workerUsPerForwarded, receivers: step.receivers, forwardedPerSecond: c.forwardedPerSecond, workerCpuPct: c.workerCpuPct, otherProcessesPct: step.otherProcessesPct };
	line.log(probeLine(result));
	return result;
}

/** A probe run at most once, however many ramps ask for it (npm run bench sizes the broadcast and the mixed day from one). */
export type CostProbe = () => Promise<ProbeResult>;

export function onceProbe(timing: RampTiming, line: LiveLine): CostProbe {
	let result: Promise<ProbeResult> | undefined;
	return () => (result ??= probePlainCost(timing, line));
}

export function probeLine(p: ProbeResult): string {
	return (
		`calibration probe: plain mediasoup's worker spent ${p.workerUsPerForwarded.toFixed(2)} µs per forwarded packet ` +
		`(${p.receivers} receivers, ${Math.round(p.forwardedPerSecond).toLocaleString('en-US')} packets/s, the worker at ${p.workerCpuPct.toFixed(0)}%` +
		`${(p.otherProcessesPct ?? 0) >= 5 ? `, other processes ${p.otherProcessesPct?.toFixed(0)}% of the machine` : ''})`
	);
}

/** Which sizes the options gave, in words, for the sizing line. */
function overridden(given: Partial<RampSize>, names: { step: string; max: string }): string {
	const parts = [given.step === undefined ? '' : `${names.step} ${given.step}`, given.max === undefined ? '' : `${names.max} ${given.max}`].filter(Boolean);
	return parts.length > 0 ? `; given: ${parts.join(', ')}` : '';
}

/** The broadcast ramp's sizes: the options' if they give both, else the probe's (each option given still wins). */
export async function calibrateBroadcast(given: Partial<RampSize>, probe: CostProbe, line: LiveLine, names = { step: '--step', max: '--max' }): Promise<Calibration> {
	if (!needsProbe(given)) {
		line.log(`broadcast: steps of ${given.step} to ${given.max} receivers (${names.step} and ${names.max} given: no calibration probe)`);
		return chooseSize(given, undefined);
	}
	const p = await probe();
	const perReceiver = packetsPerReceiverPerSecond();
	const sized = broadcastSize(p.workerUsPerForwarded, perReceiver);
	const chosen = chooseSize(given, sized);
	line.log(
		`   broadcast sized from it: plain mediasoup estimated at ${sized.estimatedPlainReceivers} receivers (${KNEE_HEADROOM} x 1e6 / (${p.workerUsPerForwarded.toFixed(2)} µs x ${perReceiver} packets/s a receiver)); ` +
			`steps of ${sized.step} to ${sized.max} (${(sized.max / sized.estimatedPlainReceivers).toFixed(2)}x the estimate)${overridden(given, names)}`,
	);
	return { workerUsPerForwarded: p.workerUsPerForwarded, estimatedPlainReceivers: sized.estimatedPlainReceivers, step: chosen.step, max: chosen.max, source: 'probe' };
}

export interface MixedDayCalibration extends Calibration {
	/** Meetings plain mediasoup is estimated to carry beside the broadcast. */
	estimatedPlainMeetings?: number;
}

/** The mixed day's sizes, in meetings, from the same probe (see mixedDaySize). */
export async function calibrateMixedDay(given: Partial<RampSize>, broadcastReceivers: number, probe: CostProbe, line: LiveLine): Promise<MixedDayCalibration> {
	if (!needsProbe(given)) {
		line.log(`mixed day: steps of ${given.step} to ${given.max} meetings (--md-step and --md-max given: no calibration probe)`);
		return chooseSize(given, undefined);
	}
	const p = await probe();
	const plain = broadcastSize(p.workerUsPerForwarded, packetsPerReceiverPerSecond()).estimatedPlainReceivers;
	const sized = mixedDaySize(plain, broadcastReceivers);
	const chosen = chooseSize(given, sized);
	line.log(
		`   mixed day sized from it: plain mediasoup estimated at ${plain} receivers, ${sized.estimatedPlainMeetings} meetings beside a ${broadcastReceivers}-receiver broadcast; ` +
			`steps of ${sized.step} meetings to ${sized.max}${overridden(given, { step: '--md-step', max: '--md-max' })}`,
	);
	return { workerUsPerForwarded: p.workerUsPerForwarded, estimatedPlainReceivers: plain, estimatedPlainMeetings: sized.estimatedPlainMeetings, step: chosen.step, max: chosen.max, source: 'probe' };
}

/** The sizing in a few words, for a comparison's summary. */
export function calibrationWords(c: Calibration, unit: string): string {
	const from = c.source === 'options' ? 'given' : `sized by the calibration probe: ${c.workerUsPerForwarded?.toFixed(2)} µs per packet, plain mediasoup estimated at ${c.estimatedPlainReceivers} receivers`;
	return `steps of ${c.step} to ${c.max} ${unit}, ${from}`;
}
