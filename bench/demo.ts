import { Args, linearSteps, runMain } from './cli/args';
import { fmtSpread, rampCosts } from './comparisons/backend-ramps';
import { calibrateBroadcast, onceProbe } from './comparisons/calibration';
import { fmtMs } from './report/format';
import { backgroundBusyPct, machineInfo, machineLine, sharedCpuWarning } from './report/machine';
import { LiveLine } from './report/progress';
import { overallTable, rampChart, workerTable } from './report/ramp-report';
import { writeJsonResult, writeSvgResult } from './report/results-file';
import { broadcastPopulation } from './scenarios/broadcast';
import { meetingPopulation } from './scenarios/meeting';
import { RAMP_TIMING_HELP, readRampTiming } from './scenarios/ramp-config';
import { type RampResult, runRamp } from './scenarios/ramp';
import { BROADCAST_FULL_STEPS, type Calibration, BROADCAST_MAX_OVER_PLAIN } from './scenarios/ramp-sizing';
import { DEFAULT_THRESHOLDS } from './scenarios/thresholds';
import type { BackendName } from './sfu/backend';
import { DEFAULT_PROFILE, profileRates } from './sim/media-profile';
import { BACKEND_NAMES, BACKEND_SHORT, startBackend } from './sfu/start-backend';

const HELP = `npm run demo [-- options]: a load simulation with real media.

Publishers send VP8-like video and opus-like audio over RTP into PlainTransport
producers; receivers are UDP sockets behind PlainTransport consumers. Both run
in a piscina pool of threads. The population grows in steps; each step is
measured (loss, one-way latency, CPU) on every backend in turn.

  --scenario NAME   broadcast (1 publisher, N receivers; default) or meeting (P participants, each receiving all others)
  --receivers N     broadcast: receivers at the last step (default: sized by a calibration probe of plain
                    mediasoup, ${BROADCAST_MAX_OVER_PLAIN}x the receivers it is estimated to carry, so its knee falls near the
                    middle of the chart; given, no probe)
  --join N          broadcast: receivers joining per second while media flows (default 100; 0: full speed)
  --participants N  meeting: participants at the last step (default 12)
  --steps N         steps of the ramp (default ${BROADCAST_FULL_STEPS} for broadcast, 3 for meeting)
  --backends LIST   among plain, round-robin, least-loaded, mafalda (default plain,mafalda)
  --stop-after N    stop a backend's ramp once N steps failed (over 1% loss or 50 ms p99; default 1, 0: run every step)
${RAMP_TIMING_HELP}

Writes bench/results/<scenario>-latest.json and bench/results/<scenario>-latest.svg.`;

/** The demo shows a run, it does not settle a figure: one re-measure of a disturbed failing step, after at most 10 s. */
const DEMO_REMEASURE = { max: 1, quietWaitMs: 10_000, confirm: false };

async function main(): Promise<void> {
	const args = new Args();
	if (args.help) return console.log(HELP);
	const scenario = args.str('scenario', 'broadcast', ['broadcast', 'meeting'] as const);
	const meeting = scenario === 'meeting';
	const givenMax = meeting ? args.num('participants', 12) : args.optionalNum('receivers');
	const stepCount = args.num('steps', meeting ? 3 : BROADCAST_FULL_STEPS);
	const joinPerSecond = args.num('join', 100);
	const backends = args.list<BackendName>('backends', ['plain', 'mafalda'], BACKEND_NAMES);
	// One failure is the knee: a step past it overloads the machine, and reading its stats then takes minutes (bench/README.md).
	const stopAfterFailures = args.num('stop-after', 1);
	// The demo shows the whole knee: no budget but a generous one.
	const timing = readRampTiming(args, { duration: 3, warmup: 1.5, budget: 600 });
	args.assertAllKnown();

	const machine = machineInfo();
	const rates = profileRates(DEFAULT_PROFILE);
	// Before the probe: what else was running, not the probe's own load.
	const background = await backgroundBusyPct();
	console.log(`machine: ${machineLine(machine)}`);
	const line = new LiveLine();
	// A broadcast without --receivers is sized to this machine: plain mediasoup's knee near the middle of the chart, room for mafalda's curve past it.
	const probed = givenMax === undefined ? await calibrateBroadcast({}, onceProbe(timing, line), line) : undefined;
	const max = givenMax ?? (probed as Calibration).max;
	const steps = linearSteps(max, stepCount, meeting ? 2 : 1);
	// Kept with the results: the probe's figure, and the first step (the step size) the ramp ran with.
	const calibration: Calibration | undefined = meeting ? undefined : { ...(probed ?? { source: 'options' as const }), step: steps[0], max };

	console.log(`mafalda demo: ${scenario}, ${meeting ? 'participants' : 'receivers'} ${steps.join(', ')}; backends: ${backends.map((b) => BACKEND_SHORT[b]).join(' vs ')}`);
	console.log(
		`media per publisher: video ${(rates.videoBitsPerSecond / 1e6).toFixed(2)} Mbit/s (${rates.videoPacketsPerSecond.toFixed(0)} packets/s, key frame every ${DEFAULT_PROFILE.video.framesPerGroup} frames), ` +
			`audio ${(rates.audioBitsPerSecond / 1e3).toFixed(0)} kbit/s (${rates.audioPacketsPerSecond} packets/s)`,
	);
	console.log(`simulator: ${timing.threads} pool threads; each step: warm-up ${timing.warmupMs / 1000} s, then ${timing.measureMs / 1000} s measured`);
	if (background !== undefined) console.log(`machine busy before the run (other processes): ${background.toFixed(0)}%${background > 25 ? '  <- figures will be lower than on an idle machine' : ''}`);
	console.log(sharedCpuWarning(machine));
	console.log('');

	const results: RampResult[] = [];
	for (const name of backends) {
		const backend = await startBackend(name);
		try {
			const population = meeting ? meetingPopulation() : broadcastPopulation({ joinPerSecond });
			results.push(await runRamp(backend, population, { ...timing, steps, stopAfterFailures, remeasure: DEMO_REMEASURE, thresholds: DEFAULT_THRESHOLDS, line }));
		} finally {
			await backend.close();
		}
	}

	console.log('\nPer worker (at the last step):');
	console.log(workerTable(results));
	console.log('\nOverall (every measured window):');
	console.log(overallTable(results));
	const unit = meeting ? 'participants' : 'receivers';
	for (const r of results) {
		const capacity = r.reachedMax ? `at least ${r.capacity} (every step passed)` : String(r.capacity);
		const c = rampCosts(r);
		console.log(`${BACKEND_SHORT[r.backend]}: per packet, workers ${fmtSpread(c.workerUsPerForwarded, 2, ' µs')} forwarded; simulator ${fmtSpread(c.simulatorUsPerDelivered, 2, ' µs')} delivered; simulator / worker ${fmtSpread(c.simulatorToWorker)}`);
		console.log(`${BACKEND_SHORT[r.backend]}: largest step under ${DEFAULT_THRESHOLDS.maxLossPct}% loss and p99 < ${DEFAULT_THRESHOLDS.maxP99Ms} ms: ${capacity} ${unit}; p99 over the run ${fmtMs(r.latency.p99)}${r.error ? `; error: ${r.error}` : ''}`);
	}

	const json = writeJsonResult(scenario, {
		scenario,
		machine,
		backgroundBusyPct: background,
		options: { steps, calibration, joinPerSecond, backends, stopAfterFailures, remeasure: DEMO_REMEASURE, ...timing, thresholds: DEFAULT_THRESHOLDS, profile: DEFAULT_PROFILE, rates },
		results,
	});
	const svg = writeSvgResult(
		scenario,
		rampChart(
			`${scenario === 'meeting' ? 'Meeting' : 'Broadcast'}: ${unit} vs loss and latency`,
			`${machine.cpuModel}, ${machine.cores} cores, mediasoup ${machine.mediasoup}, mafalda ${machine.mafalda}, ${machine.date.slice(0, 10)}`,
			results,
			DEFAULT_THRESHOLDS,
			meeting ? 'receivers (one per participant)' : 'receivers',
		),
	);
	console.log(`\nwrote ${json}\nwrote ${svg}`);
}

runMain(main);
