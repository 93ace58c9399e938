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
import { bindSink, inLanes, ratio } from './common';

export interface ControlPlaneRun {
	api: 'mediasoup' | 'mafalda';
	workers: number;
	transports: number;
	transportsPerSecond: number;
	consumers: number;
	consumersPerSecond: number;
}

export interface ControlPlaneResult {
	consumers: number;
	consumersPerTransport: number;
	concurrency: number;
	runs: ControlPlaneRun[];
	/** mafalda's consumers/s over mediasoup's, for one worker and for all. */
	ratioOneWorker: number | undefined;
	ratioAllWorkers: number | undefined;
}

export interface ControlPlaneOptions {
	consumers: number;
	consumersPerTransport: number;
	concurrency: number;
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
		const transports = Math.ceil(o.consumers / o.consumersPerTransport);
		const receivers: Awaited<ReturnType<SfuBackend['addReceiver']>>[] = new Array(transports);
		let t0 = performance.now();
		await inLanes(transports, o.concurrency, async (i) => {
			receivers[i] = await backend.addReceiver('main');
			await backend.connectReceiver(receivers[i], sink.port);
		});
		const transportMs = performance.now() - t0;
		t0 = performance.now();
		await inLanes(o.consumers, o.concurrency, async (i) => {
			await backend.consume(receivers[i % transports], publisher.producerIds);
		});
		const consumerMs = performance.now() - t0;
		return {
			api,
			workers,
			transports,
			transportsPerSecond: (1000 * transports) / transportMs,
			consumers: o.consumers,
			consumersPerSecond: (1000 * o.consumers) / consumerMs,
		};
	} finally {
		await sink.close();
	}
}

export async function runControlPlane(o: ControlPlaneOptions, log: (s: string) => void = console.log): Promise<ControlPlaneResult> {
	const mediasoup = loadMediasoup();
	const all = os.availableParallelism();
	const runs: ControlPlaneRun[] = [];
	for (const workers of [...new Set([1, all])]) {
		const direct = await DirectBackend.start(mediasoup, workers === 1 ? 'plain' : 'round-robin', workers);
		try {
			runs.push(await measure(direct, 'mediasoup', workers, o));
		} finally {
			await direct.close();
		}
		log(`  mediasoup, ${workers} worker(s): ${fmtInt(runs[runs.length - 1].consumersPerSecond)} consumers/s`);
		// mafalda with its defaults but numWorkers: a worker only opens when the first is over its watermark (500 consumers).
		const mafalda = await MafaldaBackend.start(mediasoup, { numWorkers: workers });
		try {
			runs.push(await measure(mafalda, 'mafalda', workers, o));
			const used = (await mafalda.workers()).filter((w) => w.consumers > 0).length;
			log(`  mafalda, ${workers} worker(s): ${fmtInt(runs[runs.length - 1].consumersPerSecond)} consumers/s (consumers landed on ${used} worker(s))`);
		} finally {
			await mafalda.close();
		}
	}
	const rate = (api: ControlPlaneRun['api'], workers: number): number => runs.find((r) => r.api === api && r.workers === workers)?.consumersPerSecond ?? Number.NaN;
	return {
		...o,
		runs,
		ratioOneWorker: ratio(rate('mafalda', 1), rate('mediasoup', 1)),
		ratioAllWorkers: ratio(rate('mafalda', all), rate('mediasoup', all)),
	};
}

export function controlPlaneTable(r: ControlPlaneResult): string {
	return renderTable(
		['API', 'workers', 'transports/s', 'consumers/s'],
		r.runs.map((x) => [x.api, x.workers, Math.round(x.transportsPerSecond), Math.round(x.consumersPerSecond)]),
	);
}

export function controlPlaneSummary(r: ControlPlaneResult): string {
	return `consumers/s, mafalda / direct mediasoup: ${fmtRatio(r.ratioOneWorker)} with 1 worker, ${fmtRatio(r.ratioAllWorkers)} with all workers`;
}

export const CONTROL_PLANE_DEFAULTS: ControlPlaneOptions = { consumers: 2000, consumersPerTransport: 4, concurrency: 16 };

if (require.main === module) {
	runMain(async () => {
		const args = new Args();
		const o: ControlPlaneOptions = {
			consumers: args.num('consumers', CONTROL_PLANE_DEFAULTS.consumers),
			consumersPerTransport: args.num('per-transport', CONTROL_PLANE_DEFAULTS.consumersPerTransport),
			concurrency: args.num('concurrency', CONTROL_PLANE_DEFAULTS.concurrency),
		};
		if (args.help) return console.log('node dist/bench/comparisons/control-plane.js [--consumers N] [--per-transport N] [--concurrency N]');
		args.assertAllKnown();
		console.log(`machine: ${machineLine(machineInfo())}`);
		const r = await runControlPlane(o);
		console.log(controlPlaneTable(r));
		console.log(controlPlaneSummary(r));
		console.log(`wrote ${writeJsonResult('control-plane', { machine: machineInfo(), ...r })}`);
	});
}
