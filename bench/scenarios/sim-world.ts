import * as os from 'node:os';
import type { ConsumerHandle, PublisherHandle, ReceiverHandle, SfuBackend, WorkerRow } from '../sfu/backend';
import { consumerPayloadTypes, publisherStreams } from '../sfu/codecs';
import { machineCpuTicks } from '../report/machine';
import { type LatencySummary, mergeInto, newHistogram, summarize } from '../sim/latency-histogram';
import { DEFAULT_PROFILE, type MediaProfile, publisherSsrcs } from '../sim/media-profile';
import { type Session, SimPool } from '../sim/pool';
import type { ReceiverApi, ReceiverTotals, SenderApi, SentCounters } from '../sim/session-api';
import { SinkSocket, udpDropsByPort } from '../sim/sink-socket';
import { LATE, within } from './deadline';
import { type ConsumerSample, consumerSample, countSinkWindow, ingressOf, producerReceived, type SinkWindow, type StreamWindow } from './sink-counts';
import { type GroupStats, mergeGroupWindows, pct } from './window-groups';

export interface WorldOptions {
	/** Threads of the simulator pool: one sender session, the rest receiver sessions. */
	threads: number;
	/** Receivers being created at once (control-plane calls in flight). */
	concurrency: number;
	profile?: MediaProfile;
	/** Every receiver measured in Node (no sinks): for benches that compare groups of receivers. */
	measureAll?: boolean;
}

export interface Publisher {
	index: number;
	room: string;
	handle: PublisherHandle;
}

export interface Receiver {
	index: number;
	room: string;
	/** Read in Node (loss from sequence gaps, latency from probes), or a sink counted from mediasoup's stats. */
	measured: boolean;
	/** Receiver session (pool thread) of a measured receiver; -1 for a sink. */
	session: number;
	port: number;
	handle: ReceiverHandle;
	/** Producers it consumes. */
	producerIds: string[];
	/** What it reports under: the worker that serves it, unless a scenario says otherwise. */
	group: string;
}

export interface WorkerWindow extends WorkerRow {
	/** CPU of the worker's mediasoup process over the window, % of one core. */
	cpuPct: number;
}

/**
 * Who spent what per packet in a window. Worker: every mediasoup worker's CPU
 * over the packets its consumers sent to receivers. Simulator: the sender's
 * and the measured receivers' threads (sinks cost no thread anything) over
 * the packets delivered to every receiver, measured or sink.
 */
export interface PacketCosts {
	forwardedPerSecond: number;
	deliveredPerSecond: number;
	workerCpuPct: number;
	senderCpuPct: number | undefined;
	receiverThreadsCpuPct: number | undefined;
	workerUsPerForwarded: number;
	simulatorUsPerDelivered: number | undefined;
	/** simulatorUsPerDelivered / workerUsPerForwarded: the target is 0.2 or less. */
	simulatorToWorker: number | undefined;
	/** CPU of the busiest worker, % of one core. */
	busiestWorkerCpuPct: number;
}

export interface WindowResult {
	durationMs: number;
	receivers: number;
	measuredReceivers: number;
	sinkReceivers: number;
	/** Packets the publishers sent during the window. */
	sentPackets: number;
	/** Measured receivers' packets plus what the workers sent to sinks. */
	receivedPackets: number;
	lostPackets: number;
	/** All receivers' loss: measured and sinks together. */
	lossPct: number;
	/** What the thresholds judge: the worse of the measured receivers' and the sinks' loss. */
	judgedLossPct: number;
	/**
	 * The measured receivers: `lost` from sequence gaps, of which `socketDrops`
	 * the kernel dropped at their own sockets (the simulator's thread late);
	 * `sfuLossPct` is the rest, what the thresholds judge.
	 */
	measured: { received: number; lost: number; lossPct: number; socketDrops: number; sfuLossPct: number; silent: number };
	sink: SinkWindow & { kernelDrops: number | undefined };
	/**
	 * Simulator -> origin producers: `received` by the producers, `sent` that
	 * plus what the kernel dropped at their transports' sockets. `senderSent`
	 * is the sender thread's own count over the window, a cross-check only: it
	 * is read at another instant than the producers' stats, and at a stream's
	 * 50 to 128 packets a second 30 ms between the two is 1% of a window.
	 */
	ingress: StreamWindow & { lossPct: number; senderSent: number };
	silentReceivers: number;
	latency: LatencySummary;
	groups: Record<string, GroupStats>;
	workers: WorkerWindow[];
	costs: PacketCosts;
	/** Time to read every consumer's stats at the start of the window (done outside the CPU window). */
	statsReadMs: number;
	/** This Node process (driver, simulator threads and, for mafalda, its threads), % of one core. */
	nodeProcessCpuPct: number;
	/** The whole machine, % of all cores; undefined off Linux. */
	machineBusyPct: number | undefined;
	/**
	 * What neither this process nor the workers used of the machine, % of all
	 * cores: other processes (a test suite, a compiler) that took CPU from the run.
	 */
	otherProcessesPct: number | undefined;
	/** Frames the sender sent late by more than a frame interval: the simulator itself lagged. */
	senderLateFrames: number;
	/** The window's latency histogram, for merging into run totals. */
	histogram: Uint32Array;
}

/** The SFU did not answer in time: its step fails as an overload (OVERLOAD_LIMIT_MS). */
export class OverloadedError extends Error {
	override readonly name = 'OverloadedError';
}

/** The measured sample: at least this many receivers in all, and on each worker in use, and this share of each worker's. */
export const MEASURED_MIN_TOTAL = 20;
export const MEASURED_MIN_PER_WORKER = 10;
export const MEASURED_SHARE = 0.05;

const STATS_IN_FLIGHT = 64;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function inLanes<T>(items: readonly T[], lanes: number, each: (item: T, index: number) => Promise<void>): Promise<void> {
	let next = 0;
	const lane = async (): Promise<void> => {
		while (next < items.length) {
			const k = next++;
			await each(items[k], k);
		}
	};
	await Promise.all(Array.from({ length: Math.min(lanes, items.length) }, lane));
}

interface Snapshot {
	at: number;
	sent: SentCounters[];
	producers: Map<string, number>;
	consumers: ConsumerSample[];
	drops: number | undefined;
	/** Datagrams the kernel dropped at the measured receivers' own sockets (their thread did not read in time). */
	measuredDrops: number | undefined;
	/** Datagrams the kernel dropped at each publisher's transport socket (the worker did not read in time), by publisher index. */
	ingressDrops: Map<number, number> | undefined;
}

/**
 * A simulated population on one backend: publishers in a sender thread;
 * receivers behind PlainTransports of the backend, a measured sample of them
 * read by receiver threads, the rest sinks counted from mediasoup's stats.
 * Scenarios add publishers and receivers and measure windows.
 */
export class SimWorld {
	readonly profile: MediaProfile;
	readonly publishers: Publisher[] = [];
	readonly receivers: Receiver[] = [];
	readonly #pool: SimPool;
	readonly #sender: Session<SenderApi>;
	readonly #sessions: Array<Session<ReceiverApi>>;
	readonly #backend: SfuBackend;
	readonly #concurrency: number;
	readonly #measureAll: boolean;
	readonly #runHistogram = newHistogram();
	readonly #sinks = new Map<number, Promise<SinkSocket>>();
	readonly #perWorker = new Map<number, { total: number; measured: number }>();
	#measuredTotal = 0;
	#nextSession = 0;
	/** Producer id -> publisher index and stream kind, to find what the sender sent on it. */
	readonly #streams = new Map<string, { publisher: number; kind: 'video' | 'audio' }>();

	constructor(backend: SfuBackend, options: WorldOptions) {
		this.#backend = backend;
		this.profile = options.profile ?? DEFAULT_PROFILE;
		this.#concurrency = Math.max(1, options.concurrency);
		this.#measureAll = options.measureAll ?? false;
		const threads = Math.max(2, options.threads);
		this.#pool = new SimPool(threads);
		this.#sender = this.#pool.openSender(this.profile);
		const pts = consumerPayloadTypes(backend.rtpCapabilities);
		this.#sessions = Array.from({ length: threads - 1 }, () => this.#pool.openReceivers(pts.video, pts.audio));
	}

	get backend(): SfuBackend {
		return this.#backend;
	}

	/** Latency over every window measured so far. */
	get runLatency(): LatencySummary {
		return summarize(this.#runHistogram);
	}

	get runHistogram(): Uint32Array {
		return this.#runHistogram;
	}

	async addPublisher(room = 'main'): Promise<Publisher> {
		const index = this.publishers.length;
		const ssrcs = publisherSsrcs(index);
		const senderPort = await this.#sender.api.addPublisher({ index, videoSsrc: ssrcs.video, audioSsrc: ssrcs.audio });
		const handle = await this.#backend.addPublisher(room, senderPort, publisherStreams(this.profile, ssrcs));
		// publisherStreams() lists video, then audio.
		this.#streams.set(handle.producerIds[0], { publisher: index, kind: 'video' });
		this.#streams.set(handle.producerIds[1], { publisher: index, kind: 'audio' });
		await this.#sender.api.start(index, handle.transportPort);
		const publisher = { index, room, handle };
		this.publishers.push(publisher);
		return publisher;
	}

	/**
	 * Adds `count` receivers, each consuming what `producersOf` names for it,
	 * `concurrency` at a time and, with `perSecond`, no faster than that (viewers
	 * joining over time while media flows); `onEach` runs after every one.
	 */
	async addReceivers(
		count: number,
		producersOf: (index: number) => string[],
		onEach?: (r: Receiver) => void,
		options: { room?: (index: number) => string; perSecond?: number } = {},
	): Promise<Receiver[]> {
		const first = this.receivers.length;
		const added: Receiver[] = new Array(count);
		const t0 = performance.now();
		await inLanes(Array.from({ length: count }, (_, k) => k), this.#concurrency, async (k) => {
			if (options.perSecond) {
				const due = t0 + (1000 * k) / options.perSecond;
				const wait = due - performance.now();
				if (wait > 0) await sleep(wait);
			}
			const index = first + k;
			const room = options.room?.(index) ?? 'main';
			const handle = await this.#backend.addReceiver(room);
			const measured = this.#takeMeasured(handle.workerIndex);
			const { session, port } = measured ? await this.#measuredPort() : { session: -1, port: (await this.#sink(handle.workerIndex)).port };
			await this.#backend.connectReceiver(handle, port);
			const producerIds = producersOf(index);
			await this.#backend.consume(handle, producerIds);
			const receiver: Receiver = { index, room, measured, session, port, handle, producerIds: [...producerIds], group: `w${handle.workerIndex}` };
			added[k] = receiver;
			onEach?.(receiver);
		});
		this.receivers.push(...added);
		await this.regroup(added);
		return added;
	}

	/**
	 * The last `count` sink receivers to join leave (their transports close):
	 * what is left is placed as the first joiners were. Measured receivers
	 * stay, so the sample keeps its size.
	 */
	removeLastSinks(count: number): void {
		for (let i = this.receivers.length - 1; i >= 0 && count > 0; i--) {
			const r = this.receivers[i];
			if (r.measured) continue;
			this.#backend.closeReceiver(r.handle);
			this.receivers.splice(i, 1);
			const w = this.#perWorker.get(r.handle.workerIndex);
			if (w) w.total--;
			count--;
		}
	}

	/** Makes existing receivers consume more producers (a new publisher joined). */
	async consumeMore(receivers: Receiver[], producerIds: (r: Receiver) => string[]): Promise<void> {
		await inLanes(receivers, this.#concurrency, async (r) => {
			const ids = producerIds(r);
			await this.#backend.consume(r.handle, ids);
			r.producerIds.push(...ids);
		});
	}

	/** Tells the receiver threads the group of each measured receiver (after a scenario changed them). */
	async regroup(receivers: Receiver[]): Promise<void> {
		const bySession = this.#sessions.map(() => [] as Array<[number, string]>);
		for (const r of receivers) if (r.measured) bySession[r.session].push([r.port, r.group]);
		await Promise.all(this.#sessions.map((s, i) => (bySession[i].length > 0 ? s.api.setGroups(bySession[i]) : Promise.resolve())));
	}

	async sentCounters(): Promise<SentCounters[]> {
		return this.#sender.api.counters();
	}

	async receiverTotals(): Promise<ReceiverTotals> {
		const all = await Promise.all(this.#sessions.map((s) => s.api.totals()));
		return all.reduce((a, b) => ({
			receivers: a.receivers + b.receivers,
			packets: a.packets + b.packets,
			lost: a.lost + b.lost,
			rtcpPackets: a.rtcpPackets + b.rtcpPackets,
			probationPackets: a.probationPackets + b.probationPackets,
			socketErrors: a.socketErrors + b.socketErrors,
		}));
	}

	/**
	 * Measures one window of `durationMs`. Every consumer's and producer's
	 * stats are read just before and just after it (outside the CPU window:
	 * reading them costs the workers and this thread), sinks are counted from
	 * them (sink-counts.ts), the measured receivers from their packets; CPU of
	 * each worker, of the simulator's threads, of this process and of the machine.
	 * A snapshot of the stats that takes longer than `statsLimitMs` throws
	 * OverloadedError (see OVERLOAD_LIMIT_MS).
	 */
	async measure(durationMs: number, onTick?: (elapsedMs: number) => void, statsLimitMs = Number.POSITIVE_INFINITY): Promise<WindowResult> {
		const consumers = this.receivers.flatMap((r) => r.handle.consumers.map((c) => ({ receiver: r, consumer: c })));
		const statsStart = performance.now();
		const before = await this.#snapshotWithin(consumers.map((c) => c.consumer), statsLimitMs);
		const statsReadMs = performance.now() - statsStart;

		const cpu0 = await this.#backend.workerCpuMs();
		const threads0 = await this.#threadCpu();
		const proc0 = process.cpuUsage();
		const machine0 = machineCpuTicks();
		await Promise.all(this.#sessions.map((s) => s.api.mark()));
		const t0 = performance.now();
		while (performance.now() - t0 < durationMs) {
			await sleep(Math.min(250, durationMs - (performance.now() - t0)));
			onTick?.(performance.now() - t0);
		}
		const windows = await Promise.all(this.#sessions.map((s) => s.api.read()));
		const elapsed = performance.now() - t0;
		const threads1 = await this.#threadCpu();
		const proc1 = process.cpuUsage(proc0);
		const machine1 = machineCpuTicks();
		const cpu1 = await this.#backend.workerCpuMs();
		const rows = await this.#backend.workers();

		const after = await this.#snapshotWithin(consumers.map((c) => c.consumer), statsLimitMs);
		const statsWindowMs = after.at - before.at;

		// Streams: what reached each origin producer and what it received between the two snapshots; the sender's own count beside them.
		const sentOf = (snap: Snapshot, producerId: string): number => {
			const s = this.#streams.get(producerId);
			const c = s && snap.sent.find((x) => x.index === s.publisher);
			return !s || !c ? 0 : s.kind === 'video' ? c.videoPackets : c.audioPackets;
		};
		const senderSentOf = (producerId: string): number => sentOf(after, producerId) - sentOf(before, producerId);
		const streams = this.#streamWindows(before, after, senderSentOf);
		let senderSent = 0;
		for (const producerId of this.#streams.keys()) senderSent += senderSentOf(producerId);
		let lateFrames = 0;
		for (const c of after.sent) lateFrames += c.lateFrames - (before.sent.find((b) => b.index === c.index)?.lateFrames ?? 0);
		const ingress = { ...ingressOf(streams.values()), senderSent };

		let forwarded = 0;
		const sinkConsumers = [];
		for (const [k, { receiver, consumer }] of consumers.entries()) {
			forwarded += Math.max(0, after.consumers[k].sent - before.consumers[k].sent);
			if (!receiver.measured) sinkConsumers.push({ producerId: consumer.producerId, before: before.consumers[k], after: after.consumers[k] });
		}
		const sink = countSinkWindow(sinkConsumers, streams);

		// Measured receivers: a silent one lost what its producers sent (the group's average stands in for each).
		const measuredReceivers = this.receivers.filter((r) => r.measured);
		const merged = mergeGroupWindows(windows, this.#expectedPer(measuredReceivers, streams));
		mergeInto(this.#runHistogram, merged.histogram);
		// What the kernel dropped at a measured receiver's own socket, because the
		// simulator's thread did not read it in time, is the load generator's
		// loss, not the SFU's: counted apart, and out of the judged loss.
		const socketDrops = before.measuredDrops === undefined || after.measuredDrops === undefined ? 0 : Math.max(0, after.measuredDrops - before.measuredDrops);
		const measuredLossPct = pct(merged.lost, merged.received + merged.lost);
		const measuredSfuLossPct = pct(Math.max(0, merged.lost - socketDrops), merged.received + merged.lost);

		const nodeProcessCpuPct = (100 * (proc1.user + proc1.system)) / 1000 / elapsed;
		const machineBusyPct = machine0 && machine1 ? pct(machine1.busy - machine0.busy, machine1.total - machine0.total) : undefined;
		const workers = rows.map((row) => ({
			...row,
			cpuPct: (100 * ((cpu1.get(row.workerIndex) ?? 0) - (cpu0.get(row.workerIndex) ?? 0))) / elapsed,
		}));
		const workerCpuPct = workers.reduce((n, w) => n + w.cpuPct, 0);
		const received = merged.received + sink.delivered;
		const lost = merged.lost + sink.lost;
		const costs = packetCosts({
			busiestWorkerCpuPct: Math.max(0, ...workers.map((w) => w.cpuPct)),
			elapsedMs: elapsed,
			statsWindowMs,
			forwarded,
			measuredDelivered: merged.received,
			sinkDelivered: sink.delivered,
			workerCpuPct,
			sender: threads0.sender !== undefined && threads1.sender !== undefined ? threads1.sender - threads0.sender : undefined,
			receivers: threads0.receivers !== undefined && threads1.receivers !== undefined ? threads1.receivers - threads0.receivers : undefined,
		});
		return {
			durationMs: elapsed,
			receivers: this.receivers.length,
			measuredReceivers: measuredReceivers.length,
			sinkReceivers: this.receivers.length - measuredReceivers.length,
			sentPackets: ingress.sent,
			receivedPackets: received,
			lostPackets: lost,
			lossPct: pct(lost, received + lost),
			judgedLossPct: Math.max(measuredSfuLossPct, sink.lossPct),
			measured: { received: merged.received, lost: merged.lost, lossPct: measuredLossPct, socketDrops, sfuLossPct: measuredSfuLossPct, silent: merged.silent },
			sink: { ...sink, kernelDrops: before.drops !== undefined && after.drops !== undefined ? after.drops - before.drops : undefined },
			ingress,
			silentReceivers: merged.silent + sink.silent,
			latency: summarize(merged.histogram),
			groups: merged.groups,
			workers,
			costs,
			statsReadMs,
			nodeProcessCpuPct,
			machineBusyPct,
			otherProcessesPct: machineBusyPct === undefined ? undefined : Math.max(0, machineBusyPct - (nodeProcessCpuPct + workerCpuPct) / os.availableParallelism()),
			senderLateFrames: lateFrames,
			histogram: merged.histogram,
		};
	}

	/**
	 * Other processes' share of the machine over `ms`, % of all cores: the
	 * machine's busy time less this process' and the workers'. Undefined off Linux.
	 */
	async otherProcessesPct(ms = 1000): Promise<number | undefined> {
		const cpu0 = await this.#backend.workerCpuMs();
		const proc0 = process.cpuUsage();
		const machine0 = machineCpuTicks();
		const t0 = performance.now();
		await sleep(ms);
		const machine1 = machineCpuTicks();
		const proc1 = process.cpuUsage(proc0);
		const cpu1 = await this.#backend.workerCpuMs();
		const elapsed = performance.now() - t0;
		if (!machine0 || !machine1) return undefined;
		let oursMs = (proc1.user + proc1.system) / 1000;
		for (const [index, ms1] of cpu1) oursMs += ms1 - (cpu0.get(index) ?? ms1);
		const busy = pct(machine1.busy - machine0.busy, machine1.total - machine0.total);
		return Math.max(0, busy - (100 * oursMs) / elapsed / os.availableParallelism());
	}

	async close(): Promise<void> {
		await this.#pool.close();
		for (const sink of this.#sinks.values()) await (await sink).close();
		this.#sinks.clear();
	}

	/** Whether the next receiver on this worker joins the measured sample. */
	#takeMeasured(workerIndex: number): boolean {
		let w = this.#perWorker.get(workerIndex);
		if (!w) this.#perWorker.set(workerIndex, (w = { total: 0, measured: 0 }));
		w.total++;
		const measured =
			this.#measureAll || this.#measuredTotal < MEASURED_MIN_TOTAL || w.measured < MEASURED_MIN_PER_WORKER || w.measured < Math.ceil(w.total * MEASURED_SHARE);
		if (measured) {
			w.measured++;
			this.#measuredTotal++;
		}
		return measured;
	}

	async #measuredPort(): Promise<{ session: number; port: number }> {
		const session = this.#nextSession++ % this.#sessions.length;
		const [port] = await this.#sessions[session].api.add(1);
		return { session, port };
	}

	#sink(workerIndex: number): Promise<SinkSocket> {
		let sink = this.#sinks.get(workerIndex);
		if (!sink) this.#sinks.set(workerIndex, (sink = SinkSocket.bind()));
		return sink;
	}

	async #snapshotWithin(consumers: ConsumerHandle[], limitMs: number): Promise<Snapshot> {
		const snapshot = await within(this.#snapshot(consumers), limitMs);
		if (snapshot === LATE) throw new OverloadedError(`the stats of ${consumers.length} consumers took more than ${limitMs / 1000} s to read`);
		return snapshot;
	}

	async #snapshot(consumers: ConsumerHandle[]): Promise<Snapshot> {
		const at = performance.now();
		const sent = await this.#sender.api.counters();
		const producers = new Map<string, number>();
		await Promise.all(
			this.publishers.flatMap((p) => p.handle.producers.map(async (producer, i) => producers.set(p.handle.producerIds[i], producerReceived(await producer.getStats())))),
		);
		// Right after the producers' counts, before the consumers' (seconds of reads on a loaded backend).
		const ingressByPort = udpDropsByPort();
		const ingressDrops = ingressByPort && new Map(this.publishers.map((p) => [p.index, ingressByPort.get(p.handle.transportPort) ?? 0]));
		const samples: ConsumerSample[] = new Array(consumers.length);
		await inLanes(consumers, STATS_IN_FLIGHT, async (c, k) => {
			samples[k] = consumerSample(await c.stats.getStats());
		});
		const byPort = udpDropsByPort();
		let drops: number | undefined = 0;
		for (const sink of this.#sinks.values()) {
			const d = (await sink).kernelDrops(byPort);
			drops = d === undefined || drops === undefined ? undefined : drops + d;
		}
		const measuredDrops = byPort && this.receivers.reduce((n, r) => (r.measured ? n + (byPort.get(r.port) ?? 0) : n), 0);
		return { at, sent, producers, consumers: samples, drops, measuredDrops, ingressDrops };
	}

	async #threadCpu(): Promise<{ sender: number | undefined; receivers: number | undefined }> {
		const sender = await this.#sender.api.cpuMs();
		let receivers: number | undefined = 0;
		for (const s of this.#sessions) {
			const ms = await s.api.cpuMs();
			receivers = ms === undefined || receivers === undefined ? undefined : receivers + ms;
		}
		return { sender, receivers };
	}

	/**
	 * Each producer stream over the window: what its producer received, and
	 * what it should have (that plus the kernel's drops at its publisher's
	 * transport socket, shared between the publisher's streams in proportion
	 * to what each received). Both counters are read at one moment of each
	 * snapshot, so the figure does not depend on when the snapshot ran.
	 * Without /proc/net/udp: the sender thread's own count.
	 */
	#streamWindows(before: Snapshot, after: Snapshot, senderSentOf: (producerId: string) => number): Map<string, StreamWindow> {
		const received = (producerId: string): number => (after.producers.get(producerId) ?? 0) - (before.producers.get(producerId) ?? 0);
		const streams = new Map<string, StreamWindow>();
		for (const p of this.publishers) {
			const ids = p.handle.producerIds;
			const drops = before.ingressDrops && after.ingressDrops ? Math.max(0, (after.ingressDrops.get(p.index) ?? 0) - (before.ingressDrops.get(p.index) ?? 0)) : undefined;
			const total = ids.reduce((n, id) => n + received(id), 0);
			for (const id of ids) {
				const got = received(id);
				const share = total > 0 ? got / total : 1 / ids.length;
				streams.set(id, { sent: drops === undefined ? senderSentOf(id) : got + drops * share, received: got });
			}
		}
		return streams;
	}

	#expectedPer(receivers: Receiver[], streams: ReadonlyMap<string, StreamWindow>): number {
		if (receivers.length === 0) return 0;
		let total = 0;
		for (const r of receivers) for (const id of r.producerIds) total += streams.get(id)?.sent ?? 0;
		return total / receivers.length;
	}
}

function packetCosts(w: {
	busiestWorkerCpuPct: number;
	elapsedMs: number;
	statsWindowMs: number;
	forwarded: number;
	measuredDelivered: number;
	sinkDelivered: number;
	workerCpuPct: number;
	sender: number | undefined;
	receivers: number | undefined;
}): PacketCosts {
	// Packet counts span the stats window, CPU the measured window inside it: compare rates.
	const forwardedPerSecond = (1000 * w.forwarded) / w.statsWindowMs;
	const deliveredPerSecond = (1000 * w.measuredDelivered) / w.elapsedMs + (1000 * w.sinkDelivered) / w.statsWindowMs;
	const senderCpuPct = w.sender === undefined ? undefined : (100 * w.sender) / w.elapsedMs;
	const receiverThreadsCpuPct = w.receivers === undefined ? undefined : (100 * w.receivers) / w.elapsedMs;
	// % of a core = 10,000 µs per second.
	const workerUsPerForwarded = forwardedPerSecond > 0 ? (w.workerCpuPct * 10_000) / forwardedPerSecond : Number.NaN;
	const simulatorPct = senderCpuPct === undefined || receiverThreadsCpuPct === undefined ? undefined : senderCpuPct + receiverThreadsCpuPct;
	const simulatorUsPerDelivered = simulatorPct === undefined || deliveredPerSecond <= 0 ? undefined : (simulatorPct * 10_000) / deliveredPerSecond;
	return {
		forwardedPerSecond,
		deliveredPerSecond,
		workerCpuPct: w.workerCpuPct,
		senderCpuPct,
		receiverThreadsCpuPct,
		workerUsPerForwarded,
		simulatorUsPerDelivered,
		simulatorToWorker: simulatorUsPerDelivered === undefined ? undefined : simulatorUsPerDelivered / workerUsPerForwarded,
		busiestWorkerCpuPct: w.busiestWorkerCpuPct,
	};
}
