// mafalda.metrics, scraped while real RTP flows through two workers and a
// pipe: every per-worker count must agree with the Common API (the app's
// proxies in the main thread) and with mediasoup's own dump (the C++ worker),
// and the counters with what the test did.
import * as mediasoup from 'mediasoup';
import { EventEmitter } from 'eventemitter3';
import { Counter, Registry } from 'prom-client';
import type { LoadReport } from '../actors/protocol';
import { InvalidArgumentError, Mafalda, type MafaldaRouter, serveMetrics, type MetricsServer } from '../lib';
import { MafaldaMetrics, type WorkerPlace } from '../lib/metrics/MafaldaMetrics';
import type { PipeInfo, SupervisorEvents } from '../lib/types';
import { mediasoupCounts } from './helpers/faults-mafalda';
import { PacedProducer, ReceivingEnd, VP8_CODECS } from './helpers/faults-media';
import { waitFor } from './helpers/mafalda-media';
import { parseExposition, type Sample, select, sumOf, valueOf } from './helpers/prometheus-text';

const PER_WORKER = ['routers', 'transports', 'producers', 'consumers', 'pipe_transports', 'pipe_producers', 'pipe_consumers'] as const;
type WorkerCounts = Record<(typeof PER_WORKER)[number], number>;

async function scrape(mafalda: Mafalda): Promise<Sample[]> {
	return parseExposition(await mafalda.metrics.metrics());
}

/** What the Common API and the pipe trees say each worker holds. */
function expectedCounts(mafalda: Mafalda, workerIndex: number): WorkerCounts {
	const transports = [...mafalda.transports.values()].filter((t) => t.workerIndex === workerIndex);
	const children = transports.flatMap((t) => [...t.children.values()]);
	const media = mafalda.pipes.pipes();
	const shardPairs = new Set(
		media.filter((p) => p.fromWorker === workerIndex || p.toWorker === workerIndex).map((p) => [p.fromShardId, p.toShardId].sort().join('|')),
	);
	return {
		routers: [...mafalda.routers.values()].filter((r) => r.workerIndex === workerIndex).length,
		transports: transports.length,
		producers: children.filter((c) => c.remoteKind === 'producer').length,
		consumers: children.filter((c) => c.remoteKind === 'consumer').length,
		pipe_transports: shardPairs.size,
		pipe_producers: media.filter((p) => p.toWorker === workerIndex).length,
		pipe_consumers: media.filter((p) => p.fromWorker === workerIndex).length,
	};
}

function scrapedCounts(samples: Sample[], node: string, workerIndex: number): Partial<WorkerCounts> {
	const out: Partial<WorkerCounts> = {};
	for (const name of PER_WORKER) out[name] = valueOf(samples, `mafalda_worker_${name}`, { node, worker: String(workerIndex) });
	return out;
}

/** Scrapes until `ready` holds (load reports travel asynchronously); bounded. */
async function scrapeUntil(mafalda: Mafalda, ready: (samples: Sample[]) => boolean, timeoutMs = 10_000): Promise<Sample[]> {
	let samples = await scrape(mafalda);
	const deadline = Date.now() + timeoutMs;
	while (!ready(samples)) {
		if (Date.now() > deadline) return samples; // the caller's expect() shows what differs
		await new Promise((resolve) => setTimeout(resolve, 50));
		samples = await scrape(mafalda);
	}
	return samples;
}

function countsMatch(mafalda: Mafalda, node: string, workers: number[]) {
	return (samples: Sample[]): boolean =>
		workers.every((w) => JSON.stringify(scrapedCounts(samples, node, w)) === JSON.stringify(expectedCounts(mafalda, w)));
}

describe('mafalda.metrics during real RTP', () => {
	let mafalda: Mafalda | undefined;
	const closers: Array<{ close(): Promise<void> }> = [];

	afterEach(async () => {
		await Promise.allSettled(closers.splice(0).map((c) => c.close()));
		await mafalda?.close();
		mafalda = undefined;
	});

	test('per-worker counts, pipes, placements and timings agree with the Common API and mediasoup', async () => {
		mafalda = new Mafalda(mediasoup, { numWorkers: 2, loadReportIntervalMs: 200 });
		const m = mafalda;
		let overloadedEvents = 0;
		m.on('overloaded', () => overloadedEvents++);
		// One unit per worker: the producer's transport fills worker 0, the first
		// viewer lands on worker 1 (the producer is piped there), the second finds
		// both full: an 'overloaded' placement.
		const router: MafaldaRouter = await m.createMafaldaRouter({ maxConsumersPerWorker: 1, routerOptions: { mediaCodecs: VP8_CODECS } });
		const publisher = await PacedProducer.create(router);
		closers.push(publisher);
		publisher.start(5);
		const viewerA = await ReceivingEnd.create(router);
		closers.push(viewerA);
		const consumerA = await viewerA.consume(router, publisher.producer);
		const viewerB = await ReceivingEnd.create(router);
		closers.push(viewerB);
		const consumerB = await viewerB.consume(router, publisher.producer);
		expect([publisher.transport.workerIndex, viewerA.transport.workerIndex, viewerB.transport.workerIndex]).toEqual([0, 1, 1]);
		expect(overloadedEvents).toBe(1);
		await waitFor(() => viewerA.received(consumerA) >= 20 && viewerB.received(consumerB) >= 20, 'RTP at both viewers', 10_000);

		const node = valueOrThrow(select(await scrape(m), 'mafalda_routers')[0]?.labels.node, 'node label');
		const usageBefore = await m.getResourceUsages();
		// The pipe bitrates are sampled each report interval: wait for one with media in it.
		const samples = await scrapeUntil(
			m,
			(s) =>
				countsMatch(m, node, [0, 1])(s) &&
				(valueOf(s, 'mafalda_worker_pipe_bitrate_bps', { worker: '0', direction: 'out' }) ?? 0) > 0 &&
				(valueOf(s, 'mafalda_worker_pipe_bitrate_bps', { worker: '1', direction: 'in' }) ?? 0) > 0,
		);
		const usageAfter = await m.getResourceUsages();

		for (const w of [0, 1]) {
			const labels = { node, worker: String(w) };
			const expected = expectedCounts(m, w);
			expect({ worker: w, ...scrapedCounts(samples, node, w) }).toEqual({ worker: w, ...expected });
			// mediasoup's own view: the app's objects plus mafalda's pipe ends.
			const inWorker = await mediasoupCounts(m, w);
			expect(inWorker.routers).toBe(expected.routers);
			expect(inWorker.transports).toBe(expected.transports + expected.pipe_transports);
			expect(inWorker.producers).toBe(expected.producers + expected.pipe_producers);
			expect(inWorker.consumers).toBe(expected.consumers + expected.pipe_consumers);

			expect(valueOf(samples, 'mafalda_worker_up', labels)).toBe(1);
			// CPU time of the scrape lies between two Common API samples around it.
			const cpu = (u: mediasoup.types.WorkerResourceUsage | undefined): number => ((u?.ru_utime ?? NaN) + (u?.ru_stime ?? NaN)) / 1000;
			const scrapedCpu = valueOrThrow(valueOf(samples, 'mafalda_worker_cpu_seconds_total', labels), 'cpu seconds');
			expect(scrapedCpu).toBeGreaterThan(0);
			expect(scrapedCpu).toBeGreaterThanOrEqual(cpu(usageBefore.get(String(w))));
			expect(scrapedCpu).toBeLessThanOrEqual(cpu(usageAfter.get(String(w))));
			expect(valueOf(samples, 'mafalda_worker_cpu_percent', labels)).toBeGreaterThanOrEqual(0);
			expect(valueOf(samples, 'mafalda_worker_resident_memory_bytes', labels)).toBeGreaterThan(1024 * 1024);
			expect(valueOf(samples, 'mafalda_worker_max_resident_memory_bytes', labels)).toBeGreaterThan(1024 * 1024);
			// Every app transport on the worker was placed there.
			expect(sumOf(samples, 'mafalda_placements_total', labels)).toBe(expected.transports);
		}
		expect(expectedCounts(m, 0)).toMatchObject({ transports: 1, producers: 1, pipe_consumers: 1 });
		expect(expectedCounts(m, 1)).toMatchObject({ transports: 2, consumers: 2, pipe_producers: 1 });

		expect(valueOf(samples, 'mafalda_pipes', { node, stream: 'media', from_node: node, from_worker: '0', to_node: node, to_worker: '1' })).toBe(1);
		expect(sumOf(samples, 'mafalda_pipes')).toBe(m.pipes.pipes().length + m.dataPipes.pipes().length);
		expect(valueOf(samples, 'mafalda_routers', { node })).toBe(m.mafaldaRouters.size);
		expect(sumOf(samples, 'mafalda_overloaded_total')).toBe(overloadedEvents);
		expect(valueOf(samples, 'mafalda_overloaded_total', { node, worker: '1' })).toBe(1);
		expect(valueOf(samples, 'mafalda_placements_total', { node, worker: '1', rule: 'least-loaded-overloaded' })).toBe(1);
		expect(sumOf(samples, 'mafalda_placement_duration_seconds_count')).toBe(m.transports.size);
		expect(sumOf(samples, 'mafalda_placement_duration_seconds_sum')).toBeGreaterThan(0);
		// Every transport, the app's and the pipes', was one createTransport RPC; each one connect.
		const pipeTransports = expectedCounts(m, 0).pipe_transports + expectedCounts(m, 1).pipe_transports;
		expect(sumOf(samples, 'mafalda_rpc_duration_seconds_count', { method: 'createTransport' })).toBe(m.transports.size + pipeTransports);
		expect(sumOf(samples, 'mafalda_rpc_duration_seconds_count', { method: 'call.connect' })).toBe(m.transports.size + pipeTransports);
		expect(sumOf(samples, 'mafalda_rpc_duration_seconds_count', { method: 'consume' })).toBe(3); // 2 viewers + 1 pipe
		expect(select(samples, 'mafalda_rpc_duration_seconds_bucket', { method: 'createTransport', le: '+Inf' }).length).toBe(2);
		expect(sumOf(samples, 'mafalda_worker_deaths_total')).toBe(0);

		// A viewer leaves: the gauges follow.
		viewerB.transport.close();
		const afterClose = await scrapeUntil(m, countsMatch(m, node, [0, 1]));
		expect(scrapedCounts(afterClose, node, 1)).toEqual(expectedCounts(m, 1));
		expect(expectedCounts(m, 1)).toMatchObject({ transports: 1, consumers: 1 });

		await m.close();
		const closed = await scrape(m);
		expect(select(closed, 'mafalda_worker_up').map((s) => s.value)).toEqual([0, 0]);
		expect(select(closed, 'mafalda_worker_transports')).toEqual([]);
		expect(select(closed, 'mafalda_worker_cpu_seconds_total')).toEqual([]);
	}, 60_000);

	test('a worker death and its restart are counted, and the restarted worker reports afresh', async () => {
		mafalda = new Mafalda(mediasoup, { numWorkers: 1, loadReportIntervalMs: 200, restartDelayMs: 1000 });
		const m = mafalda;
		const router = await m.createMafaldaRouter({ routerOptions: { mediaCodecs: VP8_CODECS } });
		const publisher = await PacedProducer.create(router);
		closers.push(publisher);
		const node = valueOrThrow(select(await scrape(m), 'mafalda_routers')[0]?.labels.node, 'node label');
		const labels = { node, worker: '0' };

		const pid = valueOrThrow(m.supervisor().pidOf(0), 'worker pid');
		// Scraped from within the event: the restart is a second away.
		const duringDeath = new Promise<Sample[]>((resolve, reject) => m.once('workerdied', () => scrape(m).then(resolve, reject)));
		const restarted = new Promise<void>((resolve) => m.once('workerrestarted', () => resolve()));
		process.kill(pid, 'SIGKILL');
		const dead = await duringDeath;
		expect(valueOf(dead, 'mafalda_worker_deaths_total', labels)).toBe(1);
		expect(valueOf(dead, 'mafalda_worker_up', labels)).toBe(0);
		expect(valueOf(dead, 'mafalda_worker_transports', labels)).toBeUndefined();
		expect(valueOf(dead, 'mafalda_worker_restarts_total', labels)).toBeUndefined();

		await restarted;
		const after = await scrapeUntil(m, (s) => valueOf(s, 'mafalda_worker_routers', labels) !== undefined);
		expect(valueOf(after, 'mafalda_worker_restarts_total', labels)).toBe(1);
		expect(valueOf(after, 'mafalda_worker_deaths_total', labels)).toBe(1);
		expect(valueOf(after, 'mafalda_worker_up', labels)).toBe(1);
		// The new worker starts empty, as the Common API says.
		expect(scrapedCounts(after, node, 0)).toEqual(expectedCounts(m, 0));
		expect(expectedCounts(m, 0).transports).toBe(0);
		expect(valueOrThrow(valueOf(after, 'mafalda_worker_cpu_seconds_total', labels), 'cpu seconds')).toBeGreaterThan(0);
	}, 60_000);
});

describe('serveMetrics', () => {
	let mafalda: Mafalda | undefined;
	let server: MetricsServer | undefined;

	afterEach(async () => {
		await server?.close();
		await mafalda?.close();
		server = mafalda = undefined;
	});

	test('serves mafalda.metrics over HTTP on 127.0.0.1 for Prometheus to scrape', async () => {
		mafalda = new Mafalda(mediasoup, { numWorkers: 1 });
		const router = await mafalda.createMafaldaRouter({ routerOptions: { mediaCodecs: VP8_CODECS } });
		await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' } });
		server = await serveMetrics(mafalda.metrics, { port: 0, host: '127.0.0.1' });
		expect(server.url).toBe(`http://127.0.0.1:${server.port}/metrics`);

		const res = await fetch(server.url);
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toBe(Registry.PROMETHEUS_CONTENT_TYPE);
		const samples = parseExposition(await res.text());
		expect(sumOf(samples, 'mafalda_worker_up', { worker: '0' })).toBe(1);
		expect(sumOf(samples, 'mafalda_worker_routers', { worker: '0' })).toBe(mafalda.routers.size);
		expect(sumOf(samples, 'mafalda_placements_total')).toBe(1);

		expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(404);
		const post = await fetch(server.url, { method: 'POST' });
		expect(post.status).toBe(405);
		expect(post.headers.get('allow')).toBe('GET, HEAD');
	}, 30_000);

	test('merges into the app registry and refuses bad options by name', async () => {
		mafalda = new Mafalda(mediasoup, { numWorkers: 1 });
		const app = new Registry();
		new Counter({ name: 'app_requests_total', help: 'the app', registers: [app] }).inc(3);
		const merged = Registry.merge([app, mafalda.metrics]);
		const samples = parseExposition(await merged.metrics());
		expect(valueOf(samples, 'app_requests_total')).toBe(3);
		expect(valueOf(samples, 'mafalda_routers')).toBe(0);

		const field = (promise: Promise<unknown>): Promise<unknown> =>
			promise.then(
				() => 'resolved',
				(e: unknown) => (e instanceof InvalidArgumentError ? e.field : e),
			);
		expect(await field(serveMetrics(mafalda.metrics, { port: -1 }))).toBe('options.port');
		expect(await field(serveMetrics(mafalda.metrics, { port: 1.5 }))).toBe('options.port');
		expect(await field(serveMetrics(mafalda.metrics, { host: '' }))).toBe('options.host');
		expect(await field(serveMetrics(mafalda.metrics, { path: 'metrics' }))).toBe('options.path');
		expect(await field(serveMetrics({} as Registry))).toBe('registry');
		expect(await field(serveMetrics(mafalda.metrics, 'x' as never))).toBe('options');

		// A port already taken rejects, and leaves nothing listening.
		server = await serveMetrics(mafalda.metrics);
		await expect(serveMetrics(mafalda.metrics, { port: server.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
	}, 30_000);
});

describe('metric labels in a cluster', () => {
	// Pure label mapping (no worker runs): a cluster's balancer numbers workers
	// across nodes, and each metric must name the node and the index there.
	test('a worker index spanning nodes is labelled by its node and its index on that node', async () => {
		const events = new EventEmitter<SupervisorEvents>();
		const placeOf = (i: number): WorkerPlace => (i < 2 ? { node: 'node-a', worker: i } : { node: 'node-b', worker: i - 2 });
		const pipe: PipeInfo = { stream: 'media', producerId: 'p', fromShardId: 's0', toShardId: 's3', fromWorker: 0, toWorker: 3, depth: 1, srtp: false };
		const metrics = new MafaldaMetrics('node-a', { workers: () => [], pipes: () => [pipe], mafaldaRouters: () => 1, placeOf });
		metrics.attach(events);
		const report: LoadReport = { workerIndex: 3, seq: 1, at: 0, cpuPercent: 12, routers: 1, transports: 2, producers: 0, consumers: 4, pipeConsumers: 0, pipeTransports: 1, idleTransports: 0, placedTransports: 2, bitrateIn: 1000, bitrateOut: null, shards: [] };
		events.emit('loadreport', report);
		metrics.placed({ workerIndex: 3, openShard: true, overloaded: false, rule: 'most-loaded-under-watermark' }, 0.001);
		metrics.rpc(2, 'consume', 0.002);

		const samples = parseExposition(await metrics.registry.metrics());
		expect(valueOf(samples, 'mafalda_worker_consumers', { node: 'node-b', worker: '1' })).toBe(4);
		expect(valueOf(samples, 'mafalda_worker_transports', { node: 'node-b', worker: '1' })).toBe(1);
		expect(valueOf(samples, 'mafalda_worker_pipe_bitrate_bps', { node: 'node-b', worker: '1', direction: 'in' })).toBe(1000);
		expect(valueOf(samples, 'mafalda_placements_total', { node: 'node-b', worker: '1', rule: 'most-loaded-under-watermark' })).toBe(1);
		expect(valueOf(samples, 'mafalda_rpc_duration_seconds_count', { node: 'node-b', worker: '0', method: 'consume' })).toBe(1);
		expect(valueOf(samples, 'mafalda_pipes', { node: 'node-a', from_node: 'node-a', from_worker: '0', to_node: 'node-b', to_worker: '1' })).toBe(1);
		// What belongs to the instance itself carries its own node.
		expect(valueOf(samples, 'mafalda_routers', { node: 'node-a' })).toBe(1);
		expect(valueOf(samples, 'mafalda_placement_duration_seconds_count', { node: 'node-a' })).toBe(1);
		expect(select(samples, 'mafalda_worker_consumers', { worker: '3' })).toEqual([]);
	});
});

function valueOrThrow<T>(value: T | undefined, what: string): T {
	if (value === undefined) throw new Error(`no ${what}`);
	return value;
}
