import { Args, runMain } from '../cli/args';
import { fmtMs, fmtRatio } from '../report/format';
import { machineInfo, machineLine } from '../report/machine';
import { LiveLine } from '../report/progress';
import { writeJsonResult } from '../report/results-file';
import { renderTable } from '../report/table';
import { defaultThreads } from '../scenarios/ramp-config';
import { SimWorld, type WindowResult } from '../scenarios/sim-world';
import { MafaldaBackend } from '../sfu/mafalda-backend';
import { loadMediasoup } from '../sfu/mediasoup-loader';

export interface PipeOverheadOptions {
	receivers: number;
	warmupMs: number;
	measureMs: number;
	threads: number;
}

interface Layout {
	name: 'no pipe' | 'half piped';
	window: Omit<WindowResult, 'histogram'>;
	workerCpuMs: number;
	/** Worker CPU per packet delivered to a receiver, µs. */
	usPerDeliveredPacket: number;
}

export interface PipeOverheadResult extends PipeOverheadOptions {
	layouts: Layout[];
	/** Receivers of the half-piped layout on the producer's worker and on the other one. */
	directReceivers: number;
	pipedReceivers: number;
	/** One-way latency of piped receivers minus direct ones, same run, ms. */
	addedP50Ms: number;
	addedP99Ms: number;
	/**
	 * In the half-piped layout, worker CPU per packet each worker forwards, µs:
	 * the producer's worker counts its pipe sends as forwarded packets, the
	 * piped worker's cost includes taking the stream in from the pipe.
	 */
	usPerForwardedOnProducerWorker: number;
	usPerForwardedOnPipedWorker: number;
	/** Worker CPU per delivered packet, half piped over no pipe. */
	cpuRatio: number | undefined;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * One broadcast of `receivers`, twice: every receiver on the producer's
 * worker, then half of them on the other worker behind a mafalda pipe (made
 * by setting maxConsumersPerWorker so the first worker is full at half).
 * CPU is the mediasoup worker processes' own, from getrusage.
 */
async function layout(name: Layout['name'], o: PipeOverheadOptions, line: LiveLine): Promise<{ layout: Layout; world: WindowResult }> {
	const half = Math.ceil(o.receivers / 2);
	// Load counts 2 consumers per receiver plus the publisher's transport (no consumer, so "idle").
	const maxConsumersPerWorker = name === 'no pipe' ? 1_000_000 : 2 * half + 1;
	const backend = await MafaldaBackend.start(loadMediasoup(), { router: { maxConsumersPerWorker, watermarkWorker: 100 } });
	// One receiver at a time, so each placement sees the consumers of the one before.
	const world = new SimWorld(backend, { threads: o.threads, concurrency: 1 });
	try {
		const publisher = await world.addPublisher();
		await world.addReceivers(o.receivers, () => [...publisher.handle.producerIds], () =>
			line.update(`[pipe overhead, ${name}] placing receivers ${world.receivers.length + 1}/${o.receivers}`),
		);
		line.update(`[pipe overhead, ${name}] warming up`, true);
		await sleep(o.warmupMs);
		line.update(`[pipe overhead, ${name}] measuring ${o.measureMs / 1000} s`, true);
		const window = await world.measure(o.measureMs);
		const workerCpuMs = window.workers.reduce((n, w) => n + (w.cpuPct * window.durationMs) / 100, 0);
		const { histogram: _h, ...rest } = window;
		return {
			layout: { name, window: rest, workerCpuMs, usPerDeliveredPacket: (1000 * workerCpuMs) / Math.max(1, window.receivedPackets) },
			world: window,
		};
	} finally {
		await world.close();
		await backend.close();
	}
}

export async function runPipeOverhead(o: PipeOverheadOptions, line = new LiveLine()): Promise<PipeOverheadResult> {
	const a = await layout('no pipe', o, line);
	const b = await layout('half piped', o, line);
	const direct = b.world.groups.w0;
	const piped = b.world.groups.w1;
	if (!direct || !piped) throw new Error(`pipe overhead: expected receivers on workers 0 and 1, got groups ${Object.keys(b.world.groups).join(', ')}`);
	const cpuMs = (index: number): number => {
		const w = b.world.workers.find((x) => x.workerIndex === index);
		return w ? (w.cpuPct * b.world.durationMs) / 100 : Number.NaN;
	};
	return {
		...o,
		layouts: [a.layout, b.layout],
		directReceivers: direct.receivers,
		pipedReceivers: piped.receivers,
		addedP50Ms: piped.latency.p50 - direct.latency.p50,
		addedP99Ms: piped.latency.p99 - direct.latency.p99,
		// One pipe: every packet the publisher sent crossed it once.
		usPerForwardedOnProducerWorker: (1000 * cpuMs(0)) / Math.max(1, direct.packets + b.world.sentPackets),
		usPerForwardedOnPipedWorker: (1000 * cpuMs(1)) / Math.max(1, piped.packets),
		cpuRatio: b.layout.usPerDeliveredPacket / a.layout.usPerDeliveredPacket,
	};
}

export function pipeOverheadTable(r: PipeOverheadResult): string {
	const rows: Array<Array<string | number>> = [];
	for (const l of r.layouts) {
		for (const [group, g] of Object.entries(l.window.groups)) {
			rows.push([l.name, group === 'w0' ? 'producer worker (w0)' : `piped (${group})`, g.receivers, `${g.lossPct.toFixed(2)}%`, fmtMs(g.latency.p50), fmtMs(g.latency.p99)]);
		}
		rows.push([l.name, 'all workers, CPU', '', '', `${l.usPerDeliveredPacket.toFixed(2)} µs/packet`, l.window.workers.map((w) => `w${w.workerIndex} ${w.cpuPct.toFixed(0)}%`).join(' ')]);
	}
	return renderTable(['layout', 'receivers on', 'receivers', 'loss', 'p50', 'p99'], rows);
}

export function pipeOverheadSummary(r: PipeOverheadResult): string {
	return (
		`pipe hop adds ${fmtMs(r.addedP50Ms)} at p50 and ${fmtMs(r.addedP99Ms)} at p99 one-way latency; ` +
		`worker CPU per delivered packet ${r.layouts[0].usPerDeliveredPacket.toFixed(2)} µs without a pipe, ${r.layouts[1].usPerDeliveredPacket.toFixed(2)} µs with half the receivers piped (${fmtRatio(r.cpuRatio)}); ` +
		`per forwarded packet in the piped layout: ${r.usPerForwardedOnProducerWorker.toFixed(2)} µs on the producer's worker, ${r.usPerForwardedOnPipedWorker.toFixed(2)} µs on the pipe-fed worker`
	);
}

export const PIPE_DEFAULTS: PipeOverheadOptions = { receivers: 60, warmupMs: 2000, measureMs: 5000, threads: defaultThreads() };

if (require.main === module) {
	runMain(async () => {
		const args = new Args();
		if (args.help) return console.log('node dist/bench/comparisons/pipe-overhead.js [--receivers N] [--duration S] [--warmup S] [--threads N]');
		const o: PipeOverheadOptions = {
			receivers: args.num('receivers', PIPE_DEFAULTS.receivers),
			measureMs: args.num('duration', PIPE_DEFAULTS.measureMs / 1000) * 1000,
			warmupMs: args.num('warmup', PIPE_DEFAULTS.warmupMs / 1000) * 1000,
			threads: args.num('threads', PIPE_DEFAULTS.threads),
		};
		args.assertAllKnown();
		console.log(`machine: ${machineLine(machineInfo())}`);
		const line = new LiveLine();
		const r = await runPipeOverhead(o, line);
		line.log(pipeOverheadTable(r));
		console.log(pipeOverheadSummary(r));
		console.log(`wrote ${writeJsonResult('pipe-overhead', { machine: machineInfo(), ...r })}`);
	});
}
