// The placement policy lifted to machines (pure decision logic: no media, no
// Redis). Workers 0-1 are on node A, 2-3 on node B, 4-5 on node C.
import { LoadTable } from '../actors/balancer/load-table';
import { NodeMap } from '../actors/balancer/node-map';
import { PlacementPolicy } from '../actors/balancer/placement-policy';
import { StreamMap } from '../actors/balancer/stream-map';
import type { PlaceTransportRequest, Watermarks } from '../actors/protocol';

const WATERMARKS: Watermarks = { watermarkWorker: 80, maxConsumersPerWorker: 2 };
const NODE_OF = ['a', 'a', 'b', 'b', 'c', 'c'];

function setup(): { table: LoadTable; streams: StreamMap; nodes: NodeMap; policy: PlacementPolicy } {
	const table = new LoadTable();
	const streams = new StreamMap();
	const nodes = new NodeMap();
	NODE_OF.forEach((nodeId, i) => {
		table.addWorker(i);
		nodes.set(i, nodeId);
	});
	return { table, streams, nodes, policy: new PlacementPolicy(table, streams, nodes) };
}

function request(extra: Partial<PlaceTransportRequest> = {}): PlaceTransportRequest {
	return { routerId: 'room', maxWorkers: 1024, ...WATERMARKS, ...extra };
}

describe('placement across nodes', () => {
	test('a router fills the node that carries it (both of its workers) before it opens a shard on another node', () => {
		const { streams, policy } = setup();
		const nodeOf = (w: number): string => NODE_OF[w];
		const placed: string[] = [];
		for (let i = 0; i < 6; i++) {
			const p = policy.placeTransport(request());
			streams.shardOpened('room', p.workerIndex);
			placed.push(nodeOf(p.workerIndex));
		}
		// 2 units per worker, 2 workers per node: 4 placements on the first node, then the next.
		expect(placed).toEqual(['a', 'a', 'a', 'a', 'b', 'b']);
	});

	test('a pipe source on the receiving node wins over a shallower one elsewhere: a stream crosses between two machines once', () => {
		const { streams, policy } = setup();
		streams.streamAdded('room', 'p1', 0, 0); // produced on node A, worker 0
		streams.streamAdded('room', 'p1', 2, 1); // piped to node B, worker 2
		expect(policy.choosePipeSource({ producerId: 'p1', destWorker: 3, ...WATERMARKS }).workerIndex).toBe(2);
		expect(policy.choosePipeSource({ producerId: 'p1', destWorker: 4, ...WATERMARKS }).workerIndex).toBe(0);
	});

	test('workers on one node only: the node rules change nothing', () => {
		const table = new LoadTable();
		const streams = new StreamMap();
		const nodes = new NodeMap();
		for (let i = 0; i < 3; i++) table.addWorker(i);
		expect(nodes.spans(table.indices())).toBe(false);
		const policy = new PlacementPolicy(table, streams, nodes);
		expect(policy.placeTransport(request()).rule).toBe('most-loaded-under-watermark');
	});
});
