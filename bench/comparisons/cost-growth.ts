import { Args, runMain } from '../cli/args';
import { fmtMs, fmtRatio } from '../report/format';
import { machineInfo, machineLine } from '../report/machine';
import { LiveLine, progressBar } from '../report/progress';
import { writeJsonResult } from '../report/results-file';
import { renderTable } from '../report/table';
import type { BackendName, ReceiverHandle, SfuBackend } from '../sfu/backend';
import { publisherStreams } from '../sfu/codecs';
import { MafaldaBackend } from '../sfu/mafalda-backend';
import { BACKEND_SHORT, startBackend } from '../sfu/start-backend';
import { DEFAULT_PROFILE, publisherSsrcs } from '../sim/media-profile';
import { bindSink, inLanes, median, ratio } from './common';
import { type MemorySample, sampleMemory } from './memory';
import { type PlacementSample, probePlacement } from './placement-probe';

export interface GrowthOptions {
	/** Consumers at the end. */
	consumers: number;
	/** Consumers created between two timings. */
	batch: number;
	consumersPerTransport: number;
	concurrency: number;
	/** Consumer counts at which mafalda's placement decision is timed. */
	placementAt: number[];
}

export interface GrowthRun {
	backend: BackendName;
	/** Mean ms per consumer (its share of a transport included) of each batch, in order. */
	batchMsPerConsumer: number[];
	memory: MemorySample[];
	/** Bytes per 1,000 consumers, from the first sample with consumers to the last. */
	nodeBytesPer1000: number;
	workerBytesPer1000: number;
	/** Median ms per consumer of the last tenth of batches over the first tenth (1 = flat). */
	lateOverEarly: number;
	placement: PlacementSample[];
}

export interface GrowthResult extends GrowthOptions {
	runs: GrowthRun[];
	/** mafalda's memory per 1,000 consumers (Node + workers) over plain mediasoup's. */
	memoryRatio: number | undefined;
}

/**
 * Median time per consumer of the first or last tenth of batches. A median,
 * so that a batch slowed by another process on the machine does not decide
 * whether creation stays flat; the first batch, which also starts workers and
 * opens shards and pipes, is left out of the early tenth.
 */
function tenthMedian(values: number[], last: boolean): number {
	const n = Math.max(1, Math.floor(values.length / 10));
	return median(last ? values.slice(-n) : values.slice(1, 1 + n));
}

/**
 * Grows one producer's consumers to `consumers` (no media: the cost of the
 * objects themselves), timing every batch and sampling memory; on mafalda,
 * also times the placement decision at the given sizes of the load table.
 */
async function grow(backend: SfuBackend, o: GrowthOptions, line: LiveLine): Promise<GrowthRun> {
	const sink = await bindSink();
	try {
		const publisher = await backend.addPublisher('main', sink.port, publisherStreams(DEFAULT_PROFILE, publisherSsrcs(0)).slice(0, 1));
		const pids = async (): Promise<number[]> => (await backend.workers()).map((w) => w.pid);
		const memory: MemorySample[] = [sampleMemory(0, await pids())];
		const placement: PlacementSample[] = [];
		const probe = async (): Promise<void> => {
			if (backend instanceof MafaldaBackend) placement.push(await probePlacement(backend, publisher));
		};
		if (o.placementAt.includes(0)) await probe();
		const batchMs: number[] = [];
		let made = 0;
		const memoryEvery = Math.max(o.batch, Math.floor(o.consumers / 10 / o.batch) * o.batch);
		while (made < o.consumers) {
			const count = Math.min(o.batch, o.consumers - made);
			const transports = Math.ceil(count / o.consumersPerTransport);
			const t0 = performance.now();
			const receivers: ReceiverHandle[] = new Array(transports);
			await inLanes(transports, o.concurrency, async (i) => {
				receivers[i] = await backend.addReceiver('main');
				await backend.connectReceiver(receivers[i], sink.port);
			});
			await inLanes(count, o.concurrency, async (i) => {
				await backend.consume(receivers[i % transports], publisher.producerIds);
			});
			batchMs.push((performance.now() - t0) / count);
			made += count;
			line.update(`[${backend.name}] ${progressBar(made, o.consumers)} ${made}/${o.consumers} consumers, last batch ${fmtMs(batchMs[batchMs.length - 1])} per consumer`);
			if (made % memoryEvery === 0 || made === o.consumers) memory.push(sampleMemory(made, await pids()));
			if (o.placementAt.includes(made)) await probe();
		}
		// From the first sample with consumers: the baseline then already holds
		// what the first batch started once (mafalda's second worker and its thread).
		const first = memory.length > 2 ? memory[1] : memory[0];
		const last = memory[memory.length - 1];
		const per1000 = (bytes: number): number => (bytes * 1000) / Math.max(1, last.consumers - first.consumers);
		return {
			backend: backend.name,
			batchMsPerConsumer: batchMs,
			memory,
			nodeBytesPer1000: per1000(last.nodeRssBytes - first.nodeRssBytes),
			workerBytesPer1000: per1000(last.workerRssBytes - first.workerRssBytes),
			lateOverEarly: tenthMedian(batchMs, true) / tenthMedian(batchMs, false),
			placement,
		};
	} finally {
		await sink.close();
	}
}

export async function runCostGrowth(o: GrowthOptions, line = new LiveLine()): Promise<GrowthResult> {
	const runs: GrowthRun[] = [];
	for (const name of ['plain', 'mafalda'] as const) {
		const backend = await startBackend(name);
		try {
			runs.push(await grow(backend, o, line));
		} finally {
			await backend.close();
		}
		const r = runs[runs.length - 1];
		line.log(`  ${BACKEND_SHORT[name]}: ${o.consumers} consumers; ${kb(r.nodeBytesPer1000 + r.workerBytesPer1000)} per 1,000; last/first tenth time per consumer ${fmtRatio(r.lateOverEarly)}`);
	}
	const total = (b: BackendName): number => {
		const r = runs.find((x) => x.backend === b);
		return r ? r.nodeBytesPer1000 + r.workerBytesPer1000 : Number.NaN;
	};
	return { ...o, runs, memoryRatio: ratio(total('mafalda'), total('plain')) };
}

function kb(bytes: number): string {
	return `${(bytes / 1024).toFixed(0)} KB`;
}

export function growthTable(r: GrowthResult): string {
	return renderTable(
		['backend', 'consumers', 'Node RSS / 1k', 'worker RSS / 1k', 'total / 1k', 'ms/consumer first tenth', 'last tenth', 'last/first'],
		r.runs.map((x) => [
			BACKEND_SHORT[x.backend],
			x.memory[x.memory.length - 1].consumers,
			kb(x.nodeBytesPer1000),
			kb(x.workerBytesPer1000),
			kb(x.nodeBytesPer1000 + x.workerBytesPer1000),
			fmtMs(tenthMedian(x.batchMsPerConsumer, false)),
			fmtMs(tenthMedian(x.batchMsPerConsumer, true)),
			fmtRatio(x.lateOverEarly),
		]),
	);
}

export function placementTable(r: GrowthResult): string {
	const m = r.runs.find((x) => x.backend === 'mafalda');
	return renderTable(
		['consumers in load table', 'placeTransport RPC p50', 'RPC p99', 'decision alone (mean)'],
		(m?.placement ?? []).map((p) => [p.consumersInLoadTable, fmtMs(p.rpcMedianMs), fmtMs(p.rpcP99Ms), `${p.decisionMeanUs.toFixed(2)} µs`]),
	);
}

export function growthSummary(r: GrowthResult): string {
	const m = r.runs.find((x) => x.backend === 'mafalda');
	const p = m?.placement ?? [];
	// Flatness is judged between the two largest tables: both are past every
	// watermark, so the policy takes the same branch and only the size differs.
	const [a, b] = p.slice(-2);
	const plain = r.runs.find((x) => x.backend === 'plain');
	return [
		`memory per 1,000 consumers, mafalda / plain mediasoup: ${fmtRatio(r.memoryRatio)}`,
		`time per consumer, last tenth / first tenth: plain ${fmtRatio(plain?.lateOverEarly)}, mafalda ${fmtRatio(m?.lateOverEarly)} (1.00x = flat)`,
		a && b
			? `placement decision at ${b.consumersInLoadTable} vs ${a.consumersInLoadTable} consumers in the load table: ${fmtRatio(b.decisionMeanUs / a.decisionMeanUs)} (decision alone, ${b.decisionMeanUs.toFixed(2)} vs ${a.decisionMeanUs.toFixed(2)} µs), ${fmtRatio(b.rpcMedianMs / a.rpcMedianMs)} (RPC p50, ${fmtMs(b.rpcMedianMs)} vs ${fmtMs(a.rpcMedianMs)})`
			: 'placement decision: not enough samples',
	].join('\n');
}

export const GROWTH_DEFAULTS: GrowthOptions = {
	consumers: 100_000,
	batch: 1000,
	consumersPerTransport: 100,
	concurrency: 32,
	placementAt: [0, 1000, 10_000, 100_000],
};

if (require.main === module) {
	runMain(async () => {
		const args = new Args();
		if (args.help) return console.log('node dist/bench/comparisons/cost-growth.js [--consumers N] [--batch N] [--per-transport N] [--concurrency N]');
		const consumers = args.num('consumers', GROWTH_DEFAULTS.consumers);
		const o: GrowthOptions = {
			consumers,
			batch: args.num('batch', GROWTH_DEFAULTS.batch),
			consumersPerTransport: args.num('per-transport', GROWTH_DEFAULTS.consumersPerTransport),
			concurrency: args.num('concurrency', GROWTH_DEFAULTS.concurrency),
			placementAt: [...new Set([...GROWTH_DEFAULTS.placementAt.filter((n) => n <= consumers), consumers])],
		};
		args.assertAllKnown();
		console.log(`machine: ${machineLine(machineInfo())}`);
		const r = await runCostGrowth(o);
		console.log(growthTable(r));
		console.log(placementTable(r));
		console.log(growthSummary(r));
		console.log(`wrote ${writeJsonResult('cost-growth', { machine: machineInfo(), ...r })}`);
	});
}
