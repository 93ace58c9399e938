// The order of workers that shard openings read (LoadOrder), and the indexed
// placement policy held to the sort-based rule it replaced: pure decision
// logic, no media.
import { LoadOrder } from '../actors/balancer/load-order';
import { LoadTable } from '../actors/balancer/load-table';
import { NodeMap } from '../actors/balancer/node-map';
import { PlacementPolicy } from '../actors/balancer/placement-policy';
import { StreamMap } from '../actors/balancer/stream-map';
import type { Placement, PlaceTransportRequest, Watermarks } from '../actors/protocol';
import { report } from './helpers/balancer-tables';
import { sortedPlacement } from './helpers/sorted-placement';

/** A small seeded generator (mulberry32): the same cases on every run. */
function random(seed: number): () => number {
	let a = seed;
	return () => {
		a = (a + 0x6d2b79f5) | 0;
		let t = Math.imul(a ^ (a >>> 15), 1 | a);
		t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** Machines and workers as the order holds them, against the table's own loads, sorted from scratch. */
function expectInStep(order: LoadOrder, table: LoadTable, nodes: NodeMap): void {
	const byNode = new Map<string, number[]>();
	for (const w of table.indices()) {
		expect(order.loadOf(w)).toBe(table.load(w));
		const id = nodes.nodeOf(w);
		byNode.set(id, [...(byNode.get(id) ?? []), w]);
	}
	const expected = [...byNode.entries()]
		.map(([nodeId, workers]) => ({
			nodeId,
			load: workers.reduce((sum, w) => sum + table.load(w), 0),
			workers: [...workers].sort((a, b) => table.load(b) - table.load(a) || a - b),
		}))
		.sort((a, b) => b.load - a.load || (a.nodeId < b.nodeId ? -1 : 1));
	expect(order.nodes.map((n) => ({ nodeId: n.nodeId, load: n.load, workers: [...n.workers] }))).toEqual(expected);
	expect(order.nodeCount).toBe(byNode.size);
}

describe('LoadOrder', () => {
	test('keeps machines and their workers most loaded first through placements, reports, restarts, removals and node moves', () => {
		const table = new LoadTable();
		const nodes = new NodeMap();
		for (let w = 0; w < 6; w++) {
			table.addWorker(w);
			nodes.set(w, ['a', 'b', 'c'][w % 3]);
		}
		const order = new LoadOrder(table, nodes);
		expectInStep(order, table, nodes);
		expect(order.nodes.map((n) => n.nodeId)).toEqual(['a', 'b', 'c']);

		table.recordPlacement(5);
		table.recordPlacement(5);
		table.recordPlacement(1);
		expectInStep(order, table, nodes);
		expect(order.nodes.map((n) => [n.nodeId, n.load])).toEqual([['c', 2], ['b', 1], ['a', 0]]);
		expect(order.node('c')?.workers).toEqual([5, 2]);

		table.ingest(report(0, 1, { consumers: 7 }));
		table.releasePlacement(5);
		expectInStep(order, table, nodes);
		expect(order.nodes[0]).toMatchObject({ nodeId: 'a', load: 7, workers: [0, 3] });

		// A restarted worker starts empty; a removed one leaves its machine (and an empty machine leaves the order).
		table.addWorker(0);
		table.removeWorker(2);
		table.removeWorker(5);
		expectInStep(order, table, nodes);
		expect(order.node('c')).toBeUndefined();
		expect(order.nodeCount).toBe(2);

		// A worker moved to another machine, or back to the local one ('').
		nodes.set(3, 'b');
		nodes.remove(4);
		expectInStep(order, table, nodes);
		expect(order.node('')?.workers).toEqual([4]);
	});

	test('built over a table and node map that already hold workers', () => {
		const table = new LoadTable();
		const nodes = new NodeMap();
		for (let w = 0; w < 4; w++) table.addWorker(w);
		table.ingest(report(2, 1, { consumers: 3, pipeConsumers: 1 }));
		nodes.set(0, 'x');
		const order = new LoadOrder(table, nodes);
		expectInStep(order, table, nodes);
		expect(order.nodes.map((n) => n.nodeId)).toEqual(['', 'x']);
	});

	test('stays in step through a long random sequence of changes', () => {
		const next = random(7);
		const table = new LoadTable();
		const nodes = new NodeMap();
		const order = new LoadOrder(table, nodes);
		const seq = new Map<number, number>();
		for (let step = 0; step < 3000; step++) {
			const w = Math.floor(next() * 12);
			const r = next();
			if (!table.has(w) || r < 0.03) {
				table.addWorker(w);
				seq.set(w, 0);
			} else if (r < 0.06) table.removeWorker(w);
			else if (r < 0.12) nodes.set(w, `n${Math.floor(next() * 4)}`);
			else if (r < 0.6) table.recordPlacement(w);
			else if (r < 0.75) table.releasePlacement(w);
			else {
				seq.set(w, (seq.get(w) ?? 0) + 1);
				table.ingest(report(w, seq.get(w) ?? 0, { consumers: Math.floor(next() * 20), placedTransports: Math.floor(next() * 5) }));
			}
			if (step % 50 === 0) expectInStep(order, table, nodes);
		}
		expectInStep(order, table, nodes);
	});
});

describe('the indexed policy decides as the sort-based rule did', () => {
	const WATERMARKS: Watermarks = { watermarkWorker: 60, maxConsumersPerWorker: 6 };

	test.each([1, 2, 3, 4, 5, 6, 7, 8])('random cluster, seed %i: every decision the same', (seed) => {
		const next = random(seed);
		const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
		const table = new LoadTable();
		const streams = new StreamMap();
		const nodes = new NodeMap();
		// Some seeds keep every worker on the controller's machine (no node rules), others spread them over machines.
		const machines = seed % 3 === 0 ? 0 : 2 + (seed % 4);
		const workers = 4 + Math.floor(next() * 12);
		for (let w = 0; w < workers; w++) {
			table.addWorker(w);
			if (machines > 0) nodes.set(w, `node-${w % machines}`);
		}
		const policy = new PlacementPolicy(table, streams, nodes);
		const seq = new Map<number, number>();
		const rules = new Set<string>();
		let producers = 0;
		for (let step = 0; step < 600; step++) {
			const r = next();
			const alive = table.indices();
			if (r < 0.6 && alive.length > 0) {
				const excludeWorkers = next() < 0.15 ? alive.filter(() => next() < 0.3) : undefined;
				const request: PlaceTransportRequest = {
					routerId: `room-${Math.floor(next() * 6)}`,
					maxWorkers: pick([0, 1, 2, 3, 8, 1024]),
					...WATERMARKS,
					...(excludeWorkers ? { excludeWorkers } : {}),
				};
				let expected: Placement;
				try {
					expected = sortedPlacement(table, streams, nodes, request);
				} catch (error) {
					expect(() => policy.placeTransport(request)).toThrow((error as Error).message);
					continue;
				}
				const placement = policy.placeTransport(request);
				expect(placement).toEqual(expected);
				rules.add(placement.rule);
				streams.shardOpened(request.routerId, placement.workerIndex);
				if (next() < 0.2) streams.streamAdded(request.routerId, `p${producers++}`, placement.workerIndex, 0);
			} else if (r < 0.8 && alive.length > 0) {
				const w = pick(alive);
				seq.set(w, (seq.get(w) ?? 0) + 1);
				const cpuSample = next() < 0.5;
				table.ingest(report(w, seq.get(w) ?? 0, {
					consumers: Math.floor(next() * 8),
					cpuPercent: Math.floor(next() * 90),
					placedTransports: Math.floor(next() * 3),
					...(cpuSample ? { cpuSampleSeq: seq.get(w), cpuLoad: 10 + Math.floor(next() * 10) } : {}),
				}));
			} else if (r < 0.9 && alive.length > 0) {
				table.releasePlacement(pick(alive));
			} else if (r < 0.95) {
				// A worker restarts (empty), or one dies.
				const w = Math.floor(next() * workers);
				if (next() < 0.5) {
					table.addWorker(w);
					seq.set(w, 0);
				} else table.removeWorker(w);
				streams.removeWorker(w);
			} else if (machines > 0) {
				nodes.set(Math.floor(next() * workers), `node-${Math.floor(next() * machines)}`);
			}
		}
		// The cases reached the policy's rules, not only its first one.
		expect(rules.size).toBeGreaterThanOrEqual(3);
	});

	test('opening a shard on 1,000 machines of 16 workers reads a few workers, not all 16,000', () => {
		const table = new LoadTable();
		const streams = new StreamMap();
		const nodes = new NodeMap();
		for (let w = 0; w < 16_000; w++) {
			table.addWorker(w);
			nodes.set(w, `node-${String(Math.floor(w / 16)).padStart(4, '0')}`);
		}
		const policy = new PlacementPolicy(table, streams, nodes);
		const request = (routerId: string): PlaceTransportRequest => ({ routerId, maxWorkers: 1024, ...WATERMARKS });
		// Fill 100 machines to their watermarks: the ones a decision must skip.
		for (let i = 0; i < 100 * 16 * WATERMARKS.maxConsumersPerWorker; i++) policy.placeTransport(request(`filler-${i}`));
		const isOver = jest.spyOn(table, 'isOver');
		const load = jest.spyOn(table, 'load');
		const reads = (): number => isOver.mock.calls.length + load.mock.calls.length;
		const placement = policy.placeTransport(request('new-room'));
		expect(placement).toMatchObject({ workerIndex: 100 * 16, rule: 'most-loaded-under-watermark' });
		// The indexed rule reads a handful of workers (the placement's own bookkeeping included)...
		expect(reads()).toBeLessThan(20);
		isOver.mockClear();
		load.mockClear();
		// ...where the sort-based one read every worker's load, some of them twice.
		expect(sortedPlacement(table, streams, nodes, request('another-room')).workerIndex).toBe(100 * 16);
		expect(reads()).toBeGreaterThanOrEqual(16_000);
		isOver.mockRestore();
		load.mockRestore();
	});
});
