import { type LatencySummary, mergeInto, newHistogram, summarize } from '../sim/latency-histogram';
import type { GroupWindow } from '../sim/session-api';

export interface GroupStats {
	receivers: number;
	packets: number;
	lost: number;
	lossPct: number;
	latency: LatencySummary;
}

export interface MergedWindow {
	groups: Record<string, GroupStats>;
	received: number;
	lost: number;
	silent: number;
	/** Every group's latencies together. */
	histogram: Uint32Array;
}

export function pct(part: number, whole: number): number {
	return whole > 0 ? (100 * part) / whole : 0;
}

/**
 * Merges what each receiver thread measured in a window, group by group. A
 * receiver that got nothing lost everything its producers sent: counted as
 * `expectedPerReceiver` packets, since a group's receivers consume alike.
 */
export function mergeGroupWindows(windows: Array<Record<string, GroupWindow>>, expectedPerReceiver: number): MergedWindow {
	const merged = new Map<string, GroupWindow>();
	for (const w of windows) {
		for (const [name, g] of Object.entries(w)) {
			const m = merged.get(name);
			if (!m) {
				merged.set(name, { ...g, latency: new Uint32Array(g.latency) });
				continue;
			}
			m.receivers += g.receivers;
			m.packets += g.packets;
			m.lost += g.lost;
			m.silent += g.silent;
			mergeInto(m.latency, g.latency);
		}
	}
	const out: MergedWindow = { groups: {}, received: 0, lost: 0, silent: 0, histogram: newHistogram() };
	for (const [name, g] of [...merged].sort(([a], [b]) => a.localeCompare(b))) {
		const lost = g.lost + g.silent * expectedPerReceiver;
		out.groups[name] = { receivers: g.receivers, packets: g.packets, lost, lossPct: pct(lost, g.packets + lost), latency: summarize(g.latency) };
		out.received += g.packets;
		out.lost += lost;
		out.silent += g.silent;
		mergeInto(out.histogram, g.latency);
	}
	return out;
}
