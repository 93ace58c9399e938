import type { EventEmitter } from 'eventemitter3';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LoadReport, Placement } from '../../actors/protocol';
import type { PipeInfo, SupervisorEvents } from '../types';
import { sampleWorkerUsage, type UsageSource, type WorkerUsage } from './worker-usage';

/** What the metrics read at scrape time from the Mafalda instance they belong to. */
export interface MetricsSource {
	/** Live workers, for CPU time and memory. */
	workers(): Iterable<UsageSource>;
	/** Open pipes between shards, media and data. */
	pipes(): PipeInfo[];
	/** Open MafaldaRouters. */
	mafaldaRouters(): number;
	/**
	 * Where a worker runs, by the balancer's worker index. One process is one
	 * node with workers 0..n-1; in a cluster a worker index spans nodes, and
	 * its metrics name the node it runs on and its index there.
	 */
	placeOf(workerIndex: number): WorkerPlace;
}

export interface WorkerPlace {
	/** The `node` label. */
	readonly node: string;
	/** The `worker` label: the worker's index on its node. */
	readonly worker: number;
}

type WorkerLabel = 'node' | 'worker';

/** Per-worker counts of a load report, as gauges: metric name suffix and how to read it. */
const REPORT_GAUGES: ReadonlyArray<[string, string, (r: LoadReport) => number]> = [
	['routers', 'Router shards (mediasoup Routers) on the worker', (r) => r.routers],
	['transports', "The app's transports on the worker (pipe transports not included)", (r) => r.transports - (r.pipeTransports ?? 0)],
	['pipe_transports', "mafalda's PipeTransports between shards on the worker", (r) => r.pipeTransports ?? 0],
	['producers', "The app's producers on the worker (pipe producers not included)", (r) => r.producers - (r.pipeProducers ?? 0)],
	['pipe_producers', 'Producers re-produced on the worker by a pipe from another shard', (r) => r.pipeProducers ?? 0],
	['consumers', "The app's consumers on the worker", (r) => r.consumers],
	['pipe_consumers', 'Consumers feeding pipes to other shards, on the worker', (r) => r.pipeConsumers],
];

/** Per-worker metrics read from the mediasoup process at scrape time. */
const USAGE_METRICS: ReadonlyArray<[typeof Counter | typeof Gauge, string, string, (u: WorkerUsage) => number | undefined]> = [
	[Counter, 'mafalda_worker_cpu_seconds_total', "User + system CPU time of the worker's mediasoup process, seconds (restarts from 0 with a restarted worker)", (u) => u.cpuSeconds],
	[Gauge, 'mafalda_worker_resident_memory_bytes', "Resident memory of the worker's mediasoup process, bytes (Linux only: from /proc)", (u) => u.rssBytes],
	[Gauge, 'mafalda_worker_max_resident_memory_bytes', "Peak resident memory of the worker's mediasoup process (getrusage ru_maxrss), bytes", (u) => u.maxRssBytes],
];

const PLACEMENT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const RPC_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * The Prometheus metrics of one Mafalda instance, in a registry of its own
 * (never prom-client's global one), so that the app decides where they go.
 * Counts per worker come from the workers' own load reports, what the
 * balancer decides on; CPU time and memory are read when scraped.
 */
export class MafaldaMetrics {
	readonly registry = new Registry();
	readonly #node: string;
	readonly #reportGauges: Array<[Gauge<WorkerLabel>, (r: LoadReport) => number]>;
	readonly #up: Gauge<WorkerLabel>;
	readonly #cpuPercent: Gauge<WorkerLabel>;
	readonly #pipeBitrate: Gauge<WorkerLabel | 'direction'>;
	readonly #deaths: Counter<WorkerLabel>;
	readonly #restarts: Counter<WorkerLabel>;
	readonly #placements: Counter<WorkerLabel | 'rule'>;
	readonly #overloaded: Counter<WorkerLabel>;
	readonly #placementTime: Histogram<'node' | 'rule'>;
	readonly #rpcTime: Histogram<WorkerLabel | 'method'>;
	/** One resource-usage sample serves every metric of a scrape. */
	#usage: Promise<WorkerUsage[]> | undefined;
	/**
	 * Each worker's latest load report not yet written into the gauges. A host
	 * reports after every event-loop turn that changed its counts (a burst of
	 * consumers sends one every few calls), and setting ten labelled gauges cost
	 * about 1.5 KB of garbage per consumer in the app's thread; a gauge only
	 * shows its latest value, so the reports are written when scraped.
	 */
	readonly #unwritten = new Map<number, LoadReport>();
	/** The `rpc` histogram's labels per worker and method, made once. */
	readonly #rpcLabels = new Map<string, Record<WorkerLabel | 'method', string>>();
	readonly #source: MetricsSource;

	/** `nodeId` labels what belongs to the instance itself (its routers, its placements' time). */
	constructor(nodeId: string, source: MetricsSource) {
		this.#node = nodeId;
		this.#source = source;
		const registers = [this.registry];
		const workerLabels: WorkerLabel[] = ['node', 'worker'];
		const collect = (): void => this.#writeReports();
		this.#reportGauges = REPORT_GAUGES.map(([suffix, help, read]) => [
			new Gauge({ name: `mafalda_worker_${suffix}`, help, labelNames: workerLabels, registers, collect }),
			read,
		]);
		this.#up = new Gauge({ name: 'mafalda_worker_up', help: '1 while the worker runs, 0 once it died or closed', labelNames: workerLabels, registers });
		this.#cpuPercent = new Gauge({
			name: 'mafalda_worker_cpu_percent',
			help: "CPU % of the worker's mediasoup process over the last load report interval (what placement compares to watermarkWorker)",
			labelNames: workerLabels,
			registers,
			collect,
		});
		this.#pipeBitrate = new Gauge({
			name: 'mafalda_worker_pipe_bitrate_bps',
			help: "Bits/s through the worker's pipes to other shards, by direction (in, out), sampled each load report interval",
			labelNames: [...workerLabels, 'direction'],
			registers,
			collect,
		});
		const usage = (): Promise<WorkerUsage[]> => this.#sampleUsage(source);
		const labels = (workerIndex: number): Record<WorkerLabel, string> => this.#labels(workerIndex);
		const node = this.#node;
		// Read from each mediasoup process when scraped: a counter is reset and
		// set to the process's own total, so a restarted worker starts from 0.
		for (const [Metric, name, help, read] of USAGE_METRICS) {
			new Metric({
				name,
				help,
				labelNames: workerLabels,
				registers,
				async collect() {
					this.reset();
					for (const u of await usage()) {
						const value = read(u);
						if (value === undefined) continue;
						if (this instanceof Counter) this.inc(labels(u.index), value);
						else this.set(labels(u.index), value);
					}
				},
			});
		}
		new Gauge({
			name: 'mafalda_pipes',
			help: 'Open pipes between shards, by stream (media, data) and the workers (and their nodes) they join',
			labelNames: ['node', 'stream', 'from_node', 'from_worker', 'to_node', 'to_worker'],
			registers,
			collect() {
				this.reset();
				for (const p of source.pipes()) {
					const from = source.placeOf(p.fromWorker);
					const to = source.placeOf(p.toWorker);
					this.inc({ node, stream: p.stream, from_node: from.node, from_worker: from.worker, to_node: to.node, to_worker: to.worker });
				}
			},
		});
		new Gauge({
			name: 'mafalda_routers',
			help: 'Open MafaldaRouters of this instance',
			labelNames: ['node'],
			registers,
			collect() {
				this.set({ node }, source.mafaldaRouters());
			},
		});
		this.#deaths = new Counter({ name: 'mafalda_worker_deaths_total', help: 'Worker deaths (process or host thread)', labelNames: workerLabels, registers });
		this.#restarts = new Counter({ name: 'mafalda_worker_restarts_total', help: 'Workers restarted by the supervisor after a death', labelNames: workerLabels, registers });
		this.#placements = new Counter({
			name: 'mafalda_placements_total',
			help: 'Transports placed, by the worker chosen and the rule that chose it',
			labelNames: [...workerLabels, 'rule'],
			registers,
		});
		this.#overloaded = new Counter({
			name: 'mafalda_overloaded_total',
			help: "'overloaded' events: placements made while every allowed worker was over its watermarks, by the worker that took it",
			labelNames: workerLabels,
			registers,
		});
		this.#placementTime = new Histogram({
			name: 'mafalda_placement_duration_seconds',
			help: 'Time to place a transport (balancer decision, and starting a worker when one was needed), by the rule that chose',
			labelNames: ['node', 'rule'],
			buckets: PLACEMENT_BUCKETS,
			registers,
		});
		this.#rpcTime = new Histogram({
			name: 'mafalda_rpc_duration_seconds',
			help: "Round trip of RPCs to a worker host thread, by method ('call.<method>' for a method of a remote object)",
			labelNames: [...workerLabels, 'method'],
			buckets: RPC_BUCKETS,
			registers,
		});
	}

	/** Follows the supervisor events of a Mafalda instance. */
	attach(events: EventEmitter<SupervisorEvents>): void {
		events.on('loadreport', (report) => this.#loadReport(report));
		events.on('workerstarted', ({ workerIndex }) => this.#up.set(this.#labels(workerIndex), 1));
		events.on('workerrestarted', ({ workerIndex }) => {
			this.#restarts.inc(this.#labels(workerIndex));
			this.#up.set(this.#labels(workerIndex), 1);
		});
		events.on('workerdied', ({ workerIndex }) => this.workerDied(workerIndex));
		events.on('overloaded', ({ placement }) => this.#overloaded.inc(this.#labels(placement.workerIndex)));
	}

	/** A worker died (its process, or its whole node): counted, and gone. */
	workerDied(workerIndex: number): void {
		this.#deaths.inc(this.#labels(workerIndex));
		this.workerGone(workerIndex);
	}

	/** A worker stopped (died or closed): its load gauges go, `mafalda_worker_up` says 0. */
	workerGone(workerIndex: number): void {
		this.#unwritten.delete(workerIndex);
		const labels = this.#labels(workerIndex);
		for (const [gauge] of this.#reportGauges) gauge.remove(labels);
		this.#cpuPercent.remove(labels);
		this.#pipeBitrate.remove({ ...labels, direction: 'in' });
		this.#pipeBitrate.remove({ ...labels, direction: 'out' });
		this.#up.set(labels, 0);
	}

	placed(placement: Placement, seconds: number): void {
		this.#placements.inc({ ...this.#labels(placement.workerIndex), rule: placement.rule });
		this.#placementTime.observe({ node: this.#node, rule: placement.rule }, seconds);
	}

	rpc(workerIndex: number, method: string, seconds: number): void {
		const place = this.#source.placeOf(workerIndex);
		const key = `${place.node}\0${place.worker}\0${method}`;
		let labels = this.#rpcLabels.get(key);
		if (!labels) {
			// Bounded: nodes come and go in a cluster; past the limit it starts again.
			if (this.#rpcLabels.size >= 4096) this.#rpcLabels.clear();
			labels = { node: place.node, worker: String(place.worker), method };
			this.#rpcLabels.set(key, labels);
		}
		this.#rpcTime.observe(labels, seconds);
	}

	#loadReport(report: LoadReport): void {
		this.#unwritten.set(report.workerIndex, report);
	}

	#writeReports(): void {
		for (const report of this.#unwritten.values()) this.#writeReport(report);
		this.#unwritten.clear();
	}

	#writeReport(report: LoadReport): void {
		const labels = this.#labels(report.workerIndex);
		for (const [gauge, read] of this.#reportGauges) gauge.set(labels, read(report));
		this.#cpuPercent.set(labels, report.cpuPercent);
		if (report.bitrateIn !== null) this.#pipeBitrate.set({ ...labels, direction: 'in' }, report.bitrateIn);
		if (report.bitrateOut !== null) this.#pipeBitrate.set({ ...labels, direction: 'out' }, report.bitrateOut);
	}

	#labels(workerIndex: number): Record<WorkerLabel, string> {
		const place = this.#source.placeOf(workerIndex);
		return { node: place.node, worker: String(place.worker) };
	}

	#sampleUsage(source: MetricsSource): Promise<WorkerUsage[]> {
		// The registry collects its metrics concurrently: the first asks, the others share the answer.
		if (!this.#usage) {
			this.#usage = sampleWorkerUsage(source.workers());
			const clear = (): void => {
				this.#usage = undefined;
			};
			this.#usage.then(clear, clear);
		}
		return this.#usage;
	}
}
