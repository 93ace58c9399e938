import * as Comlink from 'comlink';
import { threadCpuMs } from './thread-cpu';
import nodeEndpoint from 'comlink/dist/umd/node-adapter';
import { RtpReceiver } from '../media/udp-peers';
import { newHistogram, record } from './latency-histogram';
import type { GroupWindow, ReceiverApi, ReceiverTask, ReceiverTotals } from './session-api';

interface Tracked {
	receiver: RtpReceiver;
	group: string;
	/** Counters at the last mark(), so a window reads only its own packets. */
	markPackets: number;
	markLost: number;
}

const UNGROUPED = 'all';

/** A group of receivers in one pool thread: one UDP socket per consumer transport. */
class ReceiverSession implements ReceiverApi {
	readonly #receivers: Tracked[] = [];
	readonly #byPort = new Map<number, Tracked>();
	#closed = false;

	constructor(
		private readonly task: ReceiverTask,
		private readonly onClosed: () => void,
	) {}

	async add(count: number): Promise<number[]> {
		const ports: number[] = [];
		for (let i = 0; i < count; i++) {
			const receiver = await RtpReceiver.bind();
			receiver.codecFor(this.task.videoPayloadType, 'vp8').codecFor(this.task.audioPayloadType, 'opus');
			const tracked: Tracked = { receiver, group: UNGROUPED, markPackets: 0, markLost: 0 };
			this.#receivers.push(tracked);
			this.#byPort.set(receiver.port, tracked);
			ports.push(receiver.port);
		}
		return ports;
	}

	async setGroups(assignments: Array<[number, string]>): Promise<void> {
		for (const [port, group] of assignments) {
			const tracked = this.#byPort.get(port);
			if (tracked) tracked.group = group;
		}
	}

	async mark(): Promise<void> {
		for (const t of this.#receivers) {
			t.markPackets = t.receiver.packets;
			t.markLost = t.receiver.totalLost;
			// Latencies are drained at each mark and read, so they never pile up.
			t.receiver.latencies.length = 0;
		}
	}

	async read(): Promise<Record<string, GroupWindow>> {
		const groups: Record<string, GroupWindow> = {};
		for (const t of this.#receivers) {
			const g = (groups[t.group] ??= { receivers: 0, packets: 0, lost: 0, silent: 0, latency: newHistogram() });
			const packets = t.receiver.packets - t.markPackets;
			g.receivers++;
			g.packets += packets;
			// Late packets credit back losses counted before the mark; a window never gains packets.
			g.lost += Math.max(0, t.receiver.totalLost - t.markLost);
			if (packets === 0) g.silent++;
			for (const ms of t.receiver.latencies) record(g.latency, ms);
			t.receiver.latencies.length = 0;
		}
		return Comlink.transfer(groups, Object.values(groups).map((g) => g.latency.buffer as ArrayBuffer));
	}

	async totals(): Promise<ReceiverTotals> {
		const totals: ReceiverTotals = { receivers: this.#receivers.length, packets: 0, lost: 0, rtcpPackets: 0, probationPackets: 0, socketErrors: 0 };
		for (const { receiver } of this.#receivers) {
			totals.packets += receiver.packets;
			totals.lost += receiver.totalLost;
			totals.rtcpPackets += receiver.rtcpPackets;
			totals.probationPackets += receiver.probationPackets;
			totals.socketErrors += receiver.socketErrors;
		}
		return totals;
	}

	async cpuMs(): Promise<number | undefined> {
		return threadCpuMs();
	}

	async close(): Promise<ReceiverTotals> {
		const totals = await this.totals();
		if (this.#closed) return totals;
		this.#closed = true;
		await Promise.all(this.#receivers.map((t) => t.receiver.close()));
		this.onClosed();
		return totals;
	}
}

/** Piscina task: runs a receiver session until the main thread closes it. */
export async function runReceiverTask(task: ReceiverTask): Promise<void> {
	await new Promise<void>((resolve) => {
		Comlink.expose(new ReceiverSession(task, resolve), nodeEndpoint(task.port));
	});
}
