// The placement rule as it was written before LoadOrder: every worker of the
// cluster walked, filtered and sorted at each shard opening. Kept as the
// reference that test/balancer-load-order.test.ts holds the indexed policy
// to, decision by decision (it records nothing).
import type { LoadTable } from '../../actors/balancer/load-table';
import type { NodeMap } from '../../actors/balancer/node-map';
import type { StreamMap } from '../../actors/balancer/stream-map';
import type { Placement, PlaceTransportRequest } from '../../actors/protocol';

export function sortedPlacement(table: LoadTable, streams: StreamMap, nodes: NodeMap, request: PlaceTransportRequest): Placement {
	const { routerId } = request;
	const excluded = new Set(request.excludeWorkers ?? []);
	const usable = (w: number): boolean => table.has(w) && !excluded.has(w);
	const over = (w: number): boolean => table.isOver(w, request);
	const shards = streams.shardWorkers(routerId);
	const origins = streams.origins(routerId);
	const placement = (workerIndex: number, rule: Placement['rule']): Placement =>
		({ workerIndex, openShard: !shards.has(workerIndex), overloaded: false, rule });
	const byLoadDescending = (workers: number[]): number[] => {
		const loads = new Map(workers.map((w) => [w, table.load(w)]));
		return workers.sort((a, b) => (loads.get(b) ?? 0) - (loads.get(a) ?? 0) || a - b);
	};
	const byNodeLoadDescending = (workers: number[]): number[] => {
		const byNode = new Map<string, { load: number; roomy: boolean; workers: number[] }>();
		for (const w of workers) {
			const nodeId = nodes.nodeOf(w);
			let node = byNode.get(nodeId);
			if (!node) byNode.set(nodeId, (node = { load: 0, roomy: false, workers: [] }));
			node.load += table.load(w);
			node.roomy ||= !over(w);
			node.workers.push(w);
		}
		return [...byNode.entries()]
			.sort(([na, a], [nb, b]) => Number(b.roomy) - Number(a.roomy) || b.load - a.load || (na < nb ? -1 : na > nb ? 1 : 0))
			.flatMap(([, node]) => byLoadDescending(node.workers));
	};

	const streamWorkers = [...origins].filter(([w]) => usable(w)).sort(([wa, na], [wb, nb]) => nb - na || wa - wb).map(([w]) => w);
	for (const w of streamWorkers) if (!over(w)) return placement(w, 'stream-worker');
	const otherShardWorkers = byLoadDescending([...shards].filter((w) => usable(w) && !origins.has(w)));
	for (const w of otherShardWorkers) if (!over(w)) return placement(w, 'router-worker');

	let used = 0;
	for (const w of shards) if (usable(w)) used++;
	const mayOpen = used < Math.max(1, request.maxWorkers);
	const allowed = table.indices().filter((w) => !excluded.has(w) && (mayOpen || shards.has(w)));
	if (allowed.length === 0) throw new Error(`no worker available for router ${routerId} (all workers are dead or excluded)`);
	const spansNodes = nodes.spans(table.indices());
	if (spansNodes) {
		const routerNodes = new Set([...shards].filter(usable).map((w) => nodes.nodeOf(w)));
		const roomy = byLoadDescending(allowed.filter((w) => routerNodes.has(nodes.nodeOf(w)))).find((w) => !over(w));
		if (roomy !== undefined) return placement(roomy, 'router-node');
	}
	const byLoad = spansNodes ? byNodeLoadDescending(allowed) : byLoadDescending(allowed);
	const roomy = byLoad.find((w) => !over(w));
	if (roomy !== undefined) return placement(roomy, 'most-loaded-under-watermark');
	const ownShards = origins.size > 0 ? byLoad.filter((w) => shards.has(w)) : [];
	const leastLoaded = (ownShards.length > 0 ? ownShards : byLoad).reduce((least, w) =>
		table.load(w) < table.load(least) || (table.load(w) === table.load(least) && w < least) ? w : least);
	return { ...placement(leastLoaded, 'least-loaded-overloaded'), overloaded: true };
}
