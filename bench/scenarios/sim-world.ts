import * as os from 'node:os';
import type { PublisherHandle, ReceiverHandle, SfuBackend, WorkerRow } from '../sfu/backend';
import { consumerPayloadTypes, publisherStreams } from '../sfu/codecs';
import { machineCpuTicks } from '../report/machine';
import { type LatencySummary, mergeInto, newHistogram, summarize } from '../sim/latency-histogram';
import { DEFAULT_PROFILE, type MediaProfile, publisherSsrcs } from '../sim/media-profile';
import { type Session, SimPool } from '../sim/pool';
import type { ReceiverApi, ReceiverTotals, SenderApi, SentCounters } from '../sim/session-api';
import { type GroupStats, mergeGroupWindows, pct } from './window-groups';

export interface WorldOptions {
	/** Threads of the simulator pool: one sender session, the rest receiver sessions. */
	threads: number;
	/** Receivers being created at once (control-plane calls in flight). */
	concurrency: number;
	profile?: MediaProfile;
}

export interface Publisher {
	index: number;
	handle: PublisherHandle;
}

export interface Receiver {
	index: number;
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

export interface WindowResult {
	durationMs: number;
	receivers: number;
	/** Packets the publishers sent during the window. */
	sentPackets: number;
	receivedPackets: number;
	lostPackets: number;
	lossPct: number;
	silentReceivers: number;
	latency: LatencySummary;
	groups: Record<string, GroupStats>;
	workers: WorkerWindow[];
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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A simulated population on one backend: publishers in a sender thread,
 * receivers spread over receiver threads, each behind a PlainTransport of the
 * backend. Scenarios add publishers and receivers and measure windows.
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
	readonly #runHistogram = newHistogram();

	constructor(backend: SfuBackend, options: WorldOptions) {
		this.#backend = backend;
		this.profile = options.profile ?? DEFAULT_PROFILE;
		this.#concurrency = Math.max(1, options.concurrency);
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

	async addPublisher(): Promise<Publisher> {
		const index = this.publishers.length;
		const ssrcs = publisherSsrcs(index);
		const senderPort = await this.#sender.api.addPublisher({ index, videoSsrc: ssrcs.video, audioSsrc: ssrcs.audio });
		const handle = await this.#backend.addPublisher(senderPort, publisherStreams(this.profile, ssrcs));
		await this.#sender.api.start(index, handle.transportPort);
		const publisher = { index, handle };
		this.publishers.push(publisher);
		return publisher;
	}

	/**
	 * Adds `count` receivers, each consuming what `producersOf` names for it,
	 * `concurrency` at a time; `onEach` runs after every one (progress).
	 */
	async addReceivers(count: number, producersOf: (index: number) => string[], onEach?: (r: Receiver) => void): Promise<Receiver[]> {
		const first = this.receivers.length;
		// Balanced over the receiver threads, continuing where the last call stopped.
		const perSession = this.#sessions.map((_, s) => {
			let n = 0;
			for (let i = first; i < first + count; i++) if (i % this.#sessions.length === s) n++;
			return n;
		});
		const ports = await Promise.all(this.#sessions.map((s, i) => (perSession[i] > 0 ? s.api.add(perSession[i]) : Promise.resolve([]))));
		const cursors = ports.map(() => 0);
		const slots: Array<{ index: number; session: number; port: number }> = [];
		for (let i = first; i < first + count; i++) {
			const session = i % this.#sessions.length;
			slots.push({ index: i, session, port: ports[session][cursors[session]++] });
		}
		const added: Receiver[] = new Array(slots.length);
		let next = 0;
		const lane = async (): Promise<void> => {
			while (next < slots.length) {
				const k = next++;
				const slot = slots[k];
				const handle = await this.#backend.addReceiver(slot.port);
				const producerIds = producersOf(slot.index);
				await this.#backend.consume(handle, producerIds);
				const receiver: Receiver = { ...slot, handle, producerIds, group: `w${handle.workerIndex}` };
				added[k] = receiver;
				onEach?.(receiver);
			}
		};
		await Promise.all(Array.from({ length: Math.min(this.#concurrency, slots.length) }, lane));
		this.receivers.push(...added);
		await this.regroup(added);
		return added;
	}

	/** Makes existing receivers consume more producers (a new publisher joined). */
	async consumeMore(receivers: Receiver[], producerIds: (r: Receiver) => string[]): Promise<void> {
		let next = 0;
		const lane = async (): Promise<void> => {
			while (next < receivers.length) {
				const r = receivers[next++];
				const ids = producerIds(r);
				await this.#backend.consume(r.handle, ids);
				r.producerIds.push(...ids);
			}
		};
		await Promise.all(Array.from({ length: Math.min(this.#concurrency, receivers.length) }, lane));
	}

	/** Tells the receiver threads the group of each receiver (after a scenario changed them). */
	async regroup(receivers: Receiver[]): Promise<void> {
		const bySession = this.#sessions.map(() => [] as Array<[number, string]>);
		for (const r of receivers) bySession[r.session].push([r.port, r.group]);
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
	 * Measures one window of `durationMs`: loss from sequence gaps (and, for a
	 * receiver that got nothing, everything its producers sent), one-way latency
	 * from the probes, CPU of each worker, of this process and of the machine.
	 */
	async measure(durationMs: number, onTick?: (elapsedMs: number) => void): Promise<WindowResult> {
		const cpu0 = await this.#backend.workerCpuMs();
		const sent0 = await this.#sender.api.counters();
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
		const sent1 = await this.#sender.api.counters();
		const proc1 = process.cpuUsage(proc0);
		const machine1 = machineCpuTicks();
		const cpu1 = await this.#backend.workerCpuMs();
		const rows = await this.#backend.workers();

		const sentBy = new Map<number, number>();
		let lateFrames = 0;
		for (const c of sent1) {
			const before = sent0.find((b) => b.index === c.index);
			sentBy.set(c.index, c.videoPackets + c.audioPackets - (before ? before.videoPackets + before.audioPackets : 0));
			lateFrames += c.lateFrames - (before?.lateFrames ?? 0);
		}
		const sentPackets = [...sentBy.values()].reduce((a, b) => a + b, 0);
		// A silent receiver lost what its producers sent; receivers of a group
		// consume about the same, so the group's average stands in for each.
		const expectedPerReceiver = this.#expectedPerReceiver(sentBy);

		const merged = mergeGroupWindows(windows, expectedPerReceiver);
		mergeInto(this.#runHistogram, merged.histogram);
		const nodeProcessCpuPct = (100 * (proc1.user + proc1.system)) / 1000 / elapsed;
		const machineBusyPct = machine0 && machine1 ? pct(machine1.busy - machine0.busy, machine1.total - machine0.total) : undefined;
		const workers = rows.map((row) => ({
			...row,
			cpuPct: (100 * ((cpu1.get(row.workerIndex) ?? 0) - (cpu0.get(row.workerIndex) ?? 0))) / elapsed,
		}));
		return {
			durationMs: elapsed,
			receivers: this.receivers.length,
			sentPackets,
			receivedPackets: merged.received,
			lostPackets: merged.lost,
			lossPct: pct(merged.lost, merged.received + merged.lost),
			silentReceivers: merged.silent,
			latency: summarize(merged.histogram),
			groups: merged.groups,
			workers,
			nodeProcessCpuPct,
			machineBusyPct,
			otherProcessesPct:
				machineBusyPct === undefined
					? undefined
					: Math.max(0, machineBusyPct - (nodeProcessCpuPct + workers.reduce((n, w) => n + w.cpuPct, 0)) / os.availableParallelism()),
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
	}

	#expectedPerReceiver(sentBy: Map<number, number>): number {
		if (this.receivers.length === 0) return 0;
		let total = 0;
		for (const r of this.receivers) {
			for (const p of this.publishers) if (r.producerIds.includes(p.handle.producerIds[0])) total += sentBy.get(p.index) ?? 0;
		}
		return total / this.receivers.length;
	}
}
