import * as os from 'node:os';
import { Args, runMain } from '../cli/args';
import { fmtInt, fmtRatio } from '../report/format';
import { machineInfo, machineLine } from '../report/machine';
import { writeJsonResult } from '../report/results-file';
import { renderTable } from '../report/table';
import type { SfuBackend } from '../sfu/backend';
import { publisherStreams } from '../sfu/codecs';
import { DirectBackend } from '../sfu/direct-backend';
import { MafaldaBackend } from '../sfu/mafalda-backend';
import { loadMediasoup } from '../sfu/mediasoup-loader';
import { DEFAULT_PROFILE, publisherSsrcs } from '../sim/media-profile';
import { bindSink, inLanes, median, ratio } from './common';
import { type CpuSplit, cpuSample, cpuSince, cpuTotal } from './cpu-split';
import { measureThreadRoundTrip, type RoundTripFigure } from './thread-round-trip';

export interface ControlPlaneRun {
	api: 'mediasoup' | 'mafalda';
	workers: number;
	transports: number;
	transportsPerSecond: number;
	consumers: number;
	consumersPerSecond: number;
	/** CPU per transport created and per consumer created, µs, by where it ran. */
	transportCpuUs: CpuSplit;
	consumerCpuUs: CpuSplit;
}

/** The rounds of one API and worker count, and their medians and spread. */
export interface ControlPlaneSeries {
	api: ControlPlaneRun['api'];
	workers: number;
	rounds: ControlPlaneRun[];
	transportsPerSecond: number;
	consumersPerSecond: number;
	/** (max - min) / median of the rounds' consumers/s. */
	consumersPerSecondSpread: number;
	/** Median over the rounds of the total CPU (all threads and workers) per consumer, µs. */
	consumerCpuUs: number;
	consumerMainThreadUs: number;
	transportCpuUs: number;
}

export interface ControlPlaneResult {
	consumers: number;
	consumersPerTransport: number;
	concurrency: number;
	rounds: number;
	series: ControlPlaneSeries[];
	/** mafalda's consumers/s over mediasoup's (medians of the rounds), for one worker and for all. */
	ratioOneWorker: number | undefined;
	ratioAllWorkers: number | undefined;
	/** mafalda's CPU per consumer (every thread and worker) over mediasoup's: the figure noise moves least. */
	cpuRatioOneWorker: number | undefined;
	cpuRatioAllWorkers: number | undefined;
	/** What one idle thread round trip costs on this machine (bench/comparisons/thread-round-trip.ts). */
	threadRoundTrip: RoundTripFigure;
}

export interface ControlPlaneOptions {
	consumers: number;
	consumersPerTransport: number;
	concurrency: number;
	/** Runs of each API and worker count, interleaved. */
	rounds: number;
	/** Consumers made and closed again before the timed phases, per worker of the configuration. */
	warmup: number;
}

type Receiver = Awaited<ReturnType<SfuBackend['addReceiver']>>;

/** `count` receiver transports connected to `port`, `concurrency` being made at a time. */
async function openReceivers(backend: SfuBackend, count: number, port: number, o: ControlPlaneOptions): Promise<Receiver[]> {
	const receivers: Receiver[] = new Array(count);
	await inLanes(count, o.concurrency, async (i) => {
		receivers[i] = await backend.addReceiver('main');
		await backend.connectReceiver(receivers[i], port);
	});
	return receivers;
}

/** Consumers spread over the receivers, `concurrency` being made at a time. */
async function consumeOn(backend: SfuBackend, receivers: Receiver[], consumers: number, producerIds: string[], o: ControlPlaneOptions): Promise<void> {
	await inLanes(consumers, o.concurrency, async (i) => backend.consume(receivers[i % receivers.length], producerIds));
}

async function churn(backend: SfuBackend, port: number, producerIds: string[], consumers: number, o: ControlPlaneOptions): Promise<void> {
	const receivers = await openReceivers(backend, Math.ceil(consumers / o.consumersPerTransport), port, o);
	await consumeOn(backend, receivers, consumers, producerIds, o);
	for (const r of receivers) backend.closeReceiver(r);
}

function perObject(split: CpuSplit, count: number): CpuSplit {
	const us = (ms: number): number => (1000 * ms) / count;
	return { mainThread: us(split.mainThread), otherThreads: us(split.otherThreads), workers: us(split.workers) };
}

/**
 * Creates transports, then consumers of one producer on them, as fast as the
 * API allows with `concurrency` calls in flight, and times each phase. No
 * media flows: this is the cost of the calls alone (mafalda's includes the
 * placement, the thread hop and, across workers, the pipes; mediasoup's pool
 * includes its pipeToRouter calls).
 */
async function measure(backend: SfuBackend, api: ControlPlaneRun['api'], workers: number, o: ControlPlaneOptions): Promise<ControlPlaneRun> {
	const sink = await bindSink();
	try {
		const publisher = await backend.addPublisher('main', sink.port, publisherStreams(DEFAULT_PROFILE, publisherSsrcs(0)).slice(0, 1));
		// A server runs for days: its threads' code is compiled and its heaps
		// sized long before. Each run here starts a fresh backend (mafalda: fresh
		// worker host threads), so a warm-up pass, made and closed again, keeps
		// one-time JIT and heap growth out of the figures, for both APIs alike.
		// It must be long: a fresh host isolate's TurboFan compiles on V8's
		// platform threads were still 136 µs per consume after 1,000 consumes,
		// 48 µs after 8,000 (2026-12-02). And it must be larger than the timed
		// phase, so that mafalda's second worker, which opens only when the
		// first is over its watermark, is started by then as the pool's is.
		// It is per worker: mafalda spreads the warm-up over its host threads,
		// each a V8 isolate of its own, so 6,000 in all left the host that
		// then takes the timed burst half as warm as the one-worker run's
		// (0.92x direct with 6,000 in all, 1.07x with 12,000 on 2026-12-07).
		await churn(backend, sink.port, publisher.producerIds, o.warmup * workers, o);
		const transports = Math.ceil(o.consumers / o.consumersPerTransport);
		let cpu = await cpuSample(backend);
		let t0 = performance.now();
		const receivers = await openReceivers(backend, transports, sink.port, o);
		const transportMs = performance.now() - t0;
		const transportCpu = await cpuSince(backend, cpu);
		cpu = await cpuSample(backend);
		t0 = performance.now();
		await consumeOn(backend, receivers, o.consumers, publisher.producerIds, o);
		const consumerMs = performance.now() - t0;
		const consumerCpu = await cpuSince(backend, cpu);
		return {
			api,
			workers,
			transports,
			transportsPerSecond: (1000 * transports) / transportMs,
			consumers: o.consumers,
			consumersPerSecond: (1000 * o.consumers) / consumerMs,
			transportCpuUs: perObject(transportCpu, transports),
			consumerCpuUs: perObject(consumerCpu, o.consumers),
		};
	} finally {
		await sink.close();
	}
}

async function measureMafalda(mediasoup: ReturnType<typeof loadMediasoup>, workers: number, o: ControlPlaneOptions): Promise<ControlPlaneRun> {
	// mafalda with its defaults but numWorkers: a worker only opens when the first is over its watermark (500 consumers).
	const mafalda = await MafaldaBackend.start(mediasoup, { numWorkers: workers });
	try {
		return await measure(mafalda, 'mafalda', workers, o);
	} finally {
		await mafalda.close();
	}
}

async function measureDirect(mediasoup: ReturnType<typeof loadMediasoup>, workers: number, o: ControlPlaneOptions): Promise<ControlPlaneRun> {
	const direct = await DirectBackend.start(mediasoup, workers === 1 ? 'plain' : 'round-robin', workers);
	try {
		return await measure(direct, 'mediasoup', workers, o);
	} finally {
		await direct.close();
	}
}

function seriesOf(rounds: ControlPlaneRun[]): ControlPlaneSeries {
	const rates = rounds.map((r) => r.consumersPerSecond);
	const rate = median(rates);
	return {
		api: rounds[0].api,
		workers: rounds[0].workers,
		rounds,
		transportsPerSecond: median(rounds.map((r) => r.transportsPerSecond)),
		consumersPerSecond: rate,
		consumersPerSecondSpread: (Math.max(...rates) - Math.min(...rates)) / rate,
		consumerCpuUs: median(rounds.map((r) => cpuTotal(r.consumerCpuUs))),
		consumerMainThreadUs: median(rounds.map((r) => r.consumerCpuUs.mainThread)),
		transportCpuUs: median(rounds.map((r) => cpuTotal(r.transportCpuUs))),
	};
}

export async function runControlPlane(o: ControlPlaneOptions, log: (s: string) => void = console.log): Promise<ControlPlaneResult> {
	const mediasoup = loadMediasoup();
	const all = os.availableParallelism();
	const configs = [...new Set([1, all])].flatMap((workers) => [
		{ api: 'mediasoup' as const, workers },
		{ api: 'mafalda' as const, workers },
	]);
	const runs = configs.map(() => [] as ControlPlaneRun[]);
	// Rounds interleaved, so that a neighbour's burst of CPU lands on every API alike.
	for (let round = 1; round <= o.rounds; round++) {
		for (const [i, c] of configs.entries()) {
			const run = c.api === 'mafalda' ? await measureMafalda(mediasoup, c.workers, o) : await measureDirect(mediasoup, c.workers, o);
			runs[i].push(run);
			log(`  round ${round}/${o.rounds}, ${c.api}, ${c.workers} worker(s): ${fmtInt(run.consumersPerSecond)} consumers/s, ${fmtInt(cpuTotal(run.consumerCpuUs))} µs of CPU per consumer`);
		}
	}
	const series = runs.map(seriesOf);
	const threadRoundTrip = await measureThreadRoundTrip();
	const find = (api: ControlPlaneRun['api'], workers: number): ControlPlaneSeries | undefined => series.find((s) => s.api === api && s.workers === workers);
	const rate = (api: ControlPlaneRun['api'], workers: number): number => find(api, workers)?.consumersPerSecond ?? Number.NaN;
	const cpu = (api: ControlPlaneRun['api'], workers: number): number => find(api, workers)?.consumerCpuUs ?? Number.NaN;
	return {
		...o,
		series,
		ratioOneWorker: ratio(rate('mafalda', 1), rate('mediasoup', 1)),
		ratioAllWorkers: ratio(rate('mafalda', all), rate('mediasoup', all)),
		cpuRatioOneWorker: ratio(cpu('mafalda', 1), cpu('mediasoup', 1)),
		cpuRatioAllWorkers: ratio(cpu('mafalda', all), cpu('mediasoup', all)),
		threadRoundTrip,
	};
}

export function controlPlaneTable(r: ControlPlaneResult): string {
	return renderTable(
		['API', 'workers', 'transports/s', 'consumers/s (median)', 'spread', 'CPU µs / consumer', 'of it, main thread', 'CPU µs / transport'],
		r.series.map((x) => [
			x.api,
			x.workers,
			fmtInt(x.transportsPerSecond),
			fmtInt(x.consumersPerSecond),
			`${(100 * x.consumersPerSecondSpread).toFixed(0)}%`,
			fmtInt(x.consumerCpuUs),
			fmtInt(x.consumerMainThreadUs),
			fmtInt(x.transportCpuUs),
		]),
	);
}

export function controlPlaneSummary(r: ControlPlaneResult): string {
	return [
		`consumers/s, mafalda / direct mediasoup: ${fmtRatio(r.ratioOneWorker)} with 1 worker, ${fmtRatio(r.ratioAllWorkers)} with all workers`,
		`CPU per consumer (all threads and workers), mafalda / direct mediasoup: ${fmtRatio(r.cpuRatioOneWorker)} with 1 worker, ${fmtRatio(r.cpuRatioAllWorkers)} with all workers`,
		`one thread round trip with the other thread idle (post, wake-up, answer, wake-up): ${r.threadRoundTrip.cpuUs.toFixed(1)} µs of CPU ` +
			`(${r.threadRoundTrip.minCpuUs.toFixed(1)} to ${r.threadRoundTrip.maxCpuUs.toFixed(1)} over 3 runs), ${r.threadRoundTrip.wallUs.toFixed(1)} µs wall; ` +
			`a call through mafalda makes one more than a direct call (main -> worker host -> main)`,
	].join('\n');
}

export const CONTROL_PLANE_DEFAULTS: ControlPlaneOptions = { consumers: 2000, consumersPerTransport: 4, concurrency: 16, rounds: 3, warmup: 6000 };

if (require.main === module) {
	runMain(async () => {
		const args = new Args();
		const o: ControlPlaneOptions = {
			consumers: args.num('consumers', CONTROL_PLANE_DEFAULTS.consumers),
			consumersPerTransport: args.num('per-transport', CONTROL_PLANE_DEFAULTS.consumersPerTransport),
			concurrency: args.num('concurrency', CONTROL_PLANE_DEFAULTS.concurrency),
			rounds: args.num('rounds', CONTROL_PLANE_DEFAULTS.rounds),
			warmup: args.num('warmup', CONTROL_PLANE_DEFAULTS.warmup),
		};
		if (args.help) return console.log('node dist/bench/comparisons/control-plane.js [--consumers N] [--per-transport N] [--concurrency N] [--rounds N] [--warmup N (consumers per worker)]');
		args.assertAllKnown();
		console.log(`machine: ${machineLine(machineInfo())}`);
		const r = await runControlPlane(o);
		console.log(controlPlaneTable(r));
		console.log(controlPlaneSummary(r));
		console.log(`wrote ${writeJsonResult('control-plane', { machine: machineInfo(), ...r })}`);
	});
}
