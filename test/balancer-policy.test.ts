import { LoadTable } from '../actors/balancer/load-table';
import { PlacementPolicy } from '../actors/balancer/placement-policy';
import { StreamMap } from '../actors/balancer/stream-map';
import { NodeMap } from '../actors/balancer/node-map';
import { report, setup } from './helpers/balancer-tables';
import { sortedPlacement } from './helpers/sorted-placement';
import type { LoadReport, Placement, PlaceTransportRequest, ShardLoad, Watermarks } from '../actors/protocol';

const WATERMARKS: Watermarks = { watermarkWorker: 80, maxConsumersPerWorker: 10 };


function request(routerId: string, extra: Partial<PlaceTransportRequest> = {}): PlaceTransportRequest {
	return { routerId, maxWorkers: 8, ...WATERMARKS, ...extra };
}

describe('LoadTable', () => {
	test('a worker is over by CPU or by count, whichever comes first', () => {
		const { table } = setup(3);
		table.ingest(report(0, 1, { cpuPercent: 80, consumers: 1 }));
		table.ingest(report(1, 1, { cpuPercent: 10, consumers: 6, pipeConsumers: 3, idleTransports: 1 }));
		table.ingest(report(2, 1, { cpuPercent: 79.9, consumers: 9 }));
		expect(table.isOver(0, WATERMARKS)).toBe(true);
		expect(table.isOver(1, WATERMARKS)).toBe(true);
		expect(table.load(1)).toBe(10);
		expect(table.isOver(2, WATERMARKS)).toBe(false);
		table.recordPlacement(2);
		expect(table.isOver(2, WATERMARKS)).toBe(true);
	});

	test('placements stay pending until a report includes them; stale reports are ignored', () => {
		const { table } = setup(1);
		for (let i = 0; i < 3; i++) table.recordPlacement(0);
		expect(table.pending(0)).toBe(3);
		expect(table.load(0)).toBe(3);

		expect(table.ingest(report(0, 5, { placedTransports: 2, idleTransports: 2 }))).toBe(true);
		expect(table.pending(0)).toBe(1);
		expect(table.load(0)).toBe(3);

		expect(table.ingest(report(0, 4, { placedTransports: 0, consumers: 100 }))).toBe(false);
		expect(table.ingest(report(0, 5, { placedTransports: 0, consumers: 100 }))).toBe(false);
		expect(table.view()[0]).toMatchObject({ consumers: 0, pending: 1, lastReportSeq: 5 });

		table.ingest(report(0, 6, { placedTransports: 3, consumers: 3 }));
		expect(table.view()[0]).toMatchObject({ consumers: 3, pending: 0, idleTransports: 0, load: 3, lastReportSeq: 6 });
		// A host that counts more than the balancer placed never makes pending negative.
		table.ingest(report(0, 7, { placedTransports: 9 }));
		expect(table.pending(0)).toBe(0);
	});

	test('re-adding a restarted worker resets its counts and its seq', () => {
		const { table } = setup(1);
		table.recordPlacement(0);
		table.ingest(report(0, 40, { consumers: 7, placedTransports: 0 }));
		table.removeWorker(0);
		expect(table.has(0)).toBe(false);
		expect(table.ingest(report(0, 41))).toBe(false);
		table.addWorker(0);
		expect(table.view()).toEqual([expect.objectContaining({ workerIndex: 0, consumers: 0, pending: 0, lastReportSeq: 0 })]);
		expect(table.ingest(report(0, 1, { consumers: 2 }))).toBe(true);
		expect(table.load(0)).toBe(2);
	});

	test('unknown workers are a clear error', () => {
		const { table } = setup(1);
		expect(() => table.load(4)).toThrow(/no worker 4/);
		expect(() => table.recordPlacement(4)).toThrow(/no worker 4/);
	});
});

describe('StreamMap', () => {
	test('tracks shards, carriers with depth and origins per router', () => {
		const streams = new StreamMap();
		streams.shardOpened('r1', 0);
		streams.streamAdded('r1', 'p1', 0, 0);
		streams.streamAdded('r1', 'p2', 0, 0);
		streams.streamAdded('r1', 'p3', 1, 0);
		streams.streamAdded('r1', 'p1', 2, 1);
		expect([...streams.shardWorkers('r1')].sort()).toEqual([0, 1, 2]);
		expect([...streams.origins('r1')]).toEqual(expect.arrayContaining([[0, 2], [1, 1]]));
		expect(streams.origins('r1').has(2)).toBe(false);
		expect([...(streams.carriers('p1') ?? [])]).toEqual([[0, 0], [2, 1]]);
		expect(streams.routerOf('p1')).toBe('r1');

		streams.shardClosed('r1', 0);
		expect(streams.origins('r1').has(0)).toBe(false);
		expect([...(streams.carriers('p1') ?? [])]).toEqual([[2, 1]]);
		expect(streams.carriers('p2')).toBeUndefined();

		streams.routerClosed('r1');
		expect(streams.shardWorkers('r1').size).toBe(0);
		expect(streams.origins('r1').size).toBe(0);
		expect(streams.carriers('p1')).toBeUndefined();
		expect(streams.carriers('p3')).toBeUndefined();
	});

	test('removing a worker drops its shards and carriers of every router, only there', () => {
		const streams = new StreamMap();
		streams.streamAdded('r1', 'p1', 0, 0);
		streams.streamAdded('r1', 'p1', 1, 1);
		streams.streamAdded('r2', 'q1', 1, 0);
		streams.removeWorker(1);
		expect([...streams.shardWorkers('r1')]).toEqual([0]);
		expect(streams.shardWorkers('r2').size).toBe(0);
		expect([...(streams.carriers('p1') ?? [])]).toEqual([[0, 0]]);
		expect(streams.carriers('q1')).toBeUndefined();
	});

	test('rejects a producer moving router and a bad depth', () => {
		const streams = new StreamMap();
		streams.streamAdded('r1', 'p1', 0, 0);
		expect(() => streams.streamAdded('r2', 'p1', 1, 1)).toThrow(/p1.*r1/);
		expect(() => streams.streamAdded('r1', 'p2', 1, -1)).toThrow(/depth -1.*p2/);
	});
});

describe('PlacementPolicy.placeTransport', () => {
	test("fills the producer's worker up to its watermark before another worker gets anything", () => {
		const { table, streams, policy } = setup(4);
		table.ingest(report(3, 1, { consumers: 5 }));
		streams.streamAdded('room', 'mic', 1, 0);
		const placed: number[] = [];
		for (let i = 0; i < WATERMARKS.maxConsumersPerWorker; i++) {
			const placement = policy.placeTransport(request('room'));
			expect(placement).toEqual({ workerIndex: 1, openShard: false, overloaded: false, rule: 'stream-worker' });
			placed.push(placement.workerIndex);
		}
		expect(placed.every((w) => w === 1)).toBe(true);
		expect(table.view().map((v) => v.load)).toEqual([0, 10, 0, 5]);

		// Worker 1 is full: the next goes to the most loaded worker with room, on a new shard.
		expect(policy.placeTransport(request('room'))).toEqual({
			workerIndex: 3, openShard: true, overloaded: false, rule: 'most-loaded-under-watermark',
		});
	});

	test('a CPU watermark stops filling before the count does', () => {
		const { table, streams, policy } = setup(2);
		streams.streamAdded('room', 'cam', 0, 0);
		table.ingest(report(0, 1, { cpuPercent: 85, consumers: 1 }));
		expect(policy.placeTransport(request('room'))).toMatchObject({ workerIndex: 1, rule: 'most-loaded-under-watermark', openShard: true });
		table.ingest(report(0, 2, { cpuPercent: 20, consumers: 1 }));
		expect(policy.placeTransport(request('room'))).toMatchObject({ workerIndex: 0, rule: 'stream-worker' });
	});

	test('stream workers with most producers come first', () => {
		const { streams, policy } = setup(3);
		streams.streamAdded('room', 'a', 2, 0);
		streams.streamAdded('room', 'b', 1, 0);
		streams.streamAdded('room', 'c', 1, 0);
		expect(policy.placeTransport(request('room'))).toMatchObject({ workerIndex: 1, rule: 'stream-worker' });
		streams.streamRemoved('c', 1);
		// Equal producers: the lower index wins.
		expect(policy.placeTransport(request('room'))).toMatchObject({ workerIndex: 1, rule: 'stream-worker' });
		streams.streamRemoved('b', 1);
		expect(policy.placeTransport(request('room'))).toMatchObject({ workerIndex: 2, rule: 'stream-worker' });
	});

	test("then the router's other shard workers, most loaded first", () => {
		const { table, streams, policy } = setup(4);
		streams.streamAdded('room', 'mic', 0, 0);
		streams.streamAdded('room', 'mic', 2, 1);
		streams.shardOpened('room', 3);
		table.ingest(report(0, 1, { consumers: 10 }));
		table.ingest(report(1, 1, { consumers: 8 }));
		table.ingest(report(2, 1, { consumers: 4 }));
		table.ingest(report(3, 1, { consumers: 6 }));
		expect(policy.placeTransport(request('room'))).toEqual({
			workerIndex: 3, openShard: false, overloaded: false, rule: 'router-worker',
		});
		table.ingest(report(3, 2, { consumers: 10 }));
		expect(policy.placeTransport(request('room'))).toMatchObject({ workerIndex: 2, rule: 'router-worker' });
	});

	test('a new router goes to the most loaded worker under its watermarks, ties to the lower index', () => {
		const { table, policy } = setup(4);
		table.ingest(report(0, 1, { consumers: 3 }));
		table.ingest(report(1, 1, { consumers: 7 }));
		table.ingest(report(2, 1, { consumers: 12 }));
		table.ingest(report(3, 1, { consumers: 7 }));
		expect(policy.placeTransport(request('new'))).toEqual({
			workerIndex: 1, openShard: true, overloaded: false, rule: 'most-loaded-under-watermark',
		});
		// The placement is pending on worker 1, which is now the single most loaded one.
		expect(policy.placeTransport(request('other'))).toMatchObject({ workerIndex: 1 });
	});

	test('pending placements count until a report includes them', () => {
		const { table, policy } = setup(2);
		table.ingest(report(0, 1, { consumers: 8 }));
		expect(policy.placeTransport(request('a'))).toMatchObject({ workerIndex: 0 });
		expect(policy.placeTransport(request('b'))).toMatchObject({ workerIndex: 0 });
		// 8 consumers + 2 pending reaches 10: without the pending count it would still take more.
		expect(policy.placeTransport(request('c'))).toMatchObject({ workerIndex: 1 });
		expect(table.pending(0)).toBe(2);
		table.ingest(report(0, 2, { consumers: 8, idleTransports: 2, placedTransports: 2 }));
		expect(table.pending(0)).toBe(0);
		expect(table.load(0)).toBe(10);
		// The two transports consumed nothing in the end and were closed: room again.
		table.ingest(report(0, 3, { consumers: 8, idleTransports: 0, placedTransports: 2 }));
		expect(policy.placeTransport(request('d'))).toMatchObject({ workerIndex: 0 });
	});

	test('maxWorkers keeps a router on its workers, overloaded, even when others are free', () => {
		const { table, streams, policy } = setup(4);
		streams.streamAdded('room', 'mic', 0, 0);
		streams.shardOpened('room', 1);
		table.ingest(report(0, 1, { consumers: 15 }));
		table.ingest(report(1, 1, { consumers: 12 }));
		expect(policy.placeTransport(request('room', { maxWorkers: 2 }))).toEqual({
			workerIndex: 1, openShard: false, overloaded: true, rule: 'least-loaded-overloaded',
		});
		expect(policy.placeTransport(request('room', { maxWorkers: 3 }))).toEqual({
			workerIndex: 2, openShard: true, overloaded: false, rule: 'most-loaded-under-watermark',
		});
	});

	test('a router with no shard still gets one worker when maxWorkers is 0', () => {
		const { table, policy } = setup(2);
		table.ingest(report(0, 1, { consumers: 4 }));
		expect(policy.placeTransport(request('room', { maxWorkers: 0 }))).toMatchObject({ workerIndex: 0, openShard: true });
	});

	test('when every allowed worker is over, the least loaded takes it, ties to the lower index', () => {
		const { table, policy } = setup(3);
		table.ingest(report(0, 1, { consumers: 14 }));
		table.ingest(report(1, 1, { consumers: 11, cpuPercent: 95 }));
		table.ingest(report(2, 1, { consumers: 11 }));
		expect(policy.placeTransport(request('room'))).toEqual({
			workerIndex: 1, openShard: true, overloaded: true, rule: 'least-loaded-overloaded',
		});
		expect(policy.placeTransport(request('room'))).toMatchObject({ workerIndex: 2, overloaded: true });
	});

	test('when every allowed worker is over, a router with streams stays on its least loaded shard instead of piping to another', () => {
		const { table, streams, policy } = setup(2);
		// A meeting whose producers are on worker 0; worker 1 is less loaded but also over.
		streams.streamAdded('meeting', 'cam', 0, 0);
		table.ingest(report(0, 1, { consumers: 14 }));
		table.ingest(report(1, 1, { consumers: 11 }));
		expect(policy.placeTransport(request('meeting'))).toEqual({
			workerIndex: 0, openShard: false, overloaded: true, rule: 'least-loaded-overloaded',
		});
		// A broadcast with shards on both: the least loaded of them.
		streams.streamAdded('webinar', 'cam2', 0, 0);
		streams.shardOpened('webinar', 1);
		expect(policy.placeTransport(request('webinar'))).toMatchObject({ workerIndex: 1, overloaded: true });
		// A router with no stream yet spreads: nothing to pipe.
		expect(policy.placeTransport(request('new-room'))).toMatchObject({ workerIndex: 1, openShard: true, overloaded: true });
	});

	test('dead and excluded workers are skipped, and do not count against maxWorkers', () => {
		const { table, streams, policy } = setup(3);
		streams.streamAdded('room', 'mic', 0, 0);
		table.ingest(report(1, 1, { consumers: 2 }));
		table.ingest(report(2, 1, { consumers: 5 }));
		expect(policy.placeTransport(request('room', { maxWorkers: 1, excludeWorkers: [0] }))).toMatchObject({
			workerIndex: 2, openShard: true, rule: 'most-loaded-under-watermark',
		});
		table.removeWorker(2);
		streams.removeWorker(2);
		expect(policy.placeTransport(request('room', { maxWorkers: 1, excludeWorkers: [0] }))).toMatchObject({ workerIndex: 1 });
		table.removeWorker(0);
		expect(policy.placeTransport(request('room', { maxWorkers: 1 }))).toMatchObject({ workerIndex: 1, rule: 'most-loaded-under-watermark' });
	});

	test('no alive, allowed worker is a clear error that records nothing', () => {
		const { table, policy } = setup(2);
		expect(() => policy.placeTransport(request('room', { excludeWorkers: [0, 1] }))).toThrow(/no worker.*room/);
		expect(table.view().map((v) => v.pending)).toEqual([0, 0]);
		const empty = new PlacementPolicy(new LoadTable(), new StreamMap());
		expect(() => empty.placeTransport(request('room'))).toThrow(/no worker/);
	});
});

describe('routers growing side by side', () => {
	test("a router with streams opens its next shard on a worker no other router spills to, and shares one only when there is none", () => {
		const { table, streams, policy } = setup(4);
		streams.streamAdded('a', 'pa', 0, 0);
		streams.streamAdded('b', 'pb', 0, 0);
		table.ingest(report(0, 1, { consumers: 10 }));
		expect(policy.placeTransport(request('a'))).toMatchObject({ workerIndex: 1, openShard: true, rule: 'most-loaded-under-watermark' });
		streams.streamAdded('a', 'pa', 1, 1);
		// Worker 1 is the most loaded with room, but a's stream is piped into it: b takes a worker of its own.
		expect(policy.placeTransport(request('b'))).toMatchObject({ workerIndex: 2, openShard: true, rule: 'most-loaded-under-watermark' });
		streams.streamAdded('b', 'pb', 2, 1);
		// A router without streams pays no pipe: it fills the most loaded worker as before.
		expect(policy.placeTransport(request('new'))).toMatchObject({ workerIndex: 1, rule: 'most-loaded-under-watermark' });
		// Every worker with room has another router's stream piped in: share the most loaded.
		streams.streamAdded('b', 'pb', 3, 1);
		streams.streamAdded('c', 'pc', 0, 0);
		expect(policy.placeTransport(request('c'))).toMatchObject({ workerIndex: 1, rule: 'most-loaded-under-watermark' });
	});

	/** Eight rooms, each producer placed first, then 25 viewers each joining in rounds (one per room), pipes as the balancer opens them. */
	function fillSideBySide(place: (fixture: ReturnType<typeof setup>, request: PlaceTransportRequest) => Placement): { pipes: number; widest: number } {
		const fixture = setup(32);
		const { table, streams, policy } = fixture;
		const ROOMS = 8;
		for (let r = 0; r < ROOMS; r++) {
			const p = place(fixture, request(`room-${r}`, { maxWorkers: 32 }));
			streams.streamAdded(`room-${r}`, `p${r}`, p.workerIndex, 0);
		}
		let pipes = 0;
		for (let v = 0; v < 25; v++) {
			for (let r = 0; r < ROOMS; r++) {
				const p = place(fixture, request(`room-${r}`, { maxWorkers: 32 }));
				if (streams.carriers(`p${r}`)?.has(p.workerIndex)) continue;
				const source = policy.choosePipeSource({ producerId: `p${r}`, destWorker: p.workerIndex, ...WATERMARKS });
				streams.streamAdded(`room-${r}`, `p${r}`, p.workerIndex, source.depth + 1);
				// The pipe's consumer is a unit of its source's load.
				table.recordPlacement(source.workerIndex);
				pipes++;
			}
		}
		let widest = 0;
		for (let r = 0; r < ROOMS; r++) widest = Math.max(widest, streams.shardWorkers(`room-${r}`).size);
		return { pipes, widest };
	}

	test('eight rooms filling at once each reach a few workers, where the sort-based rule spread each over most of them', () => {
		const indexed = fillSideBySide(({ policy }, r) => policy.placeTransport(r));
		const sorted = fillSideBySide(({ table, streams }, r) => {
			const p = sortedPlacement(table, streams, new NodeMap(), r);
			table.recordPlacement(p.workerIndex);
			return p;
		});
		// 26 units a room at 10 a worker: 3 workers at best, 4 with its first worker shared with the other producers.
		expect(indexed.widest).toBeLessThanOrEqual(4);
		expect(indexed.pipes).toBeLessThanOrEqual(8 * 3);
		// The sort-based rule put every room on 21 of the 32 workers: 160 pipes, where 24 do.
		expect(sorted.widest).toBeGreaterThan(10);
		expect(sorted.pipes).toBeGreaterThan(4 * indexed.pipes);
	});
});

describe('PlacementPolicy.choosePipeSource', () => {
	function tree(): ReturnType<typeof setup> {
		const fixture = setup(5);
		// Producer on 0; a chain 0 -> 1 -> 2 exists; 2 is the least loaded.
		fixture.streams.streamAdded('room', 'cam', 0, 0);
		fixture.streams.streamAdded('room', 'cam', 1, 1);
		fixture.streams.streamAdded('room', 'cam', 2, 2);
		fixture.table.ingest(report(0, 1, { consumers: 9 }));
		fixture.table.ingest(report(1, 1, { consumers: 5 }));
		fixture.table.ingest(report(2, 1, { consumers: 1 }));
		return fixture;
	}

	test('prefers the shallowest carrier, so pipes form a tree and not a chain', () => {
		const { policy } = tree();
		expect(policy.choosePipeSource({ producerId: 'cam', destWorker: 3, ...WATERMARKS })).toEqual({ workerIndex: 0, depth: 0 });
	});

	test('skips a carrier over its watermarks, then the next depth, then lower load', () => {
		const { table, streams, policy } = tree();
		table.ingest(report(0, 2, { consumers: 9, cpuPercent: 90 }));
		expect(policy.choosePipeSource({ producerId: 'cam', destWorker: 3, ...WATERMARKS })).toEqual({ workerIndex: 1, depth: 1 });
		streams.streamAdded('room', 'cam', 4, 1);
		table.ingest(report(4, 1, { consumers: 3 }));
		expect(policy.choosePipeSource({ producerId: 'cam', destWorker: 3, ...WATERMARKS })).toEqual({ workerIndex: 4, depth: 1 });
		// All over: the shallowest over one still serves rather than nothing.
		for (const w of [1, 2, 4]) table.ingest(report(w, 2, { cpuPercent: 99 }));
		expect(policy.choosePipeSource({ producerId: 'cam', destWorker: 3, ...WATERMARKS })).toEqual({ workerIndex: 0, depth: 0 });
	});

	test('never sources from the destination, nor from a dead worker', () => {
		const { table, policy } = tree();
		expect(policy.choosePipeSource({ producerId: 'cam', destWorker: 0, ...WATERMARKS })).toEqual({ workerIndex: 1, depth: 1 });
		table.removeWorker(1);
		expect(policy.choosePipeSource({ producerId: 'cam', destWorker: 0, ...WATERMARKS })).toEqual({ workerIndex: 2, depth: 2 });
	});

	test('a producer no other worker carries is a clear error naming it', () => {
		const { streams, policy } = setup(2);
		expect(() => policy.choosePipeSource({ producerId: 'ghost', destWorker: 1, ...WATERMARKS })).toThrow(/ghost/);
		streams.streamAdded('room', 'solo', 1, 0);
		expect(() => policy.choosePipeSource({ producerId: 'solo', destWorker: 1, ...WATERMARKS })).toThrow(/solo/);
	});
});

describe('decision cost', () => {
	const WORKERS = 16;
	const ROUTERS = 1000;
	const DECISIONS = 2000;

	/** A table whose reports carry `consumers` in total, with 1,000 routers each producing on one worker. */
	function loaded(consumers: number): ReturnType<typeof setup> {
		const world = setup(WORKERS);
		const { table, streams } = world;
		const shards: ShardLoad[][] = Array.from({ length: WORKERS }, () => []);
		for (let r = 0; r < ROUTERS; r++) {
			const origin = r % WORKERS;
			streams.streamAdded(`router-${r}`, `producer-${r}`, origin, 0);
			streams.streamAdded(`router-${r}`, `producer-${r}`, (origin + 1) % WORKERS, 1);
			shards[origin].push({
				shardId: `shard-${r}`, routerId: `router-${r}`, transports: 1, producers: 1,
				consumers: Math.floor(consumers / ROUTERS), pipeConsumers: 0,
			});
		}
		for (let w = 0; w < WORKERS; w++) {
			// Odd workers are over by CPU, so half the decisions walk past the stream worker.
			table.ingest(report(w, 1, {
				consumers: Math.floor(consumers / WORKERS), cpuPercent: w % 2 ? 95 : 10,
				routers: shards[w].length, producers: shards[w].length, shards: shards[w],
			}));
		}
		return world;
	}

	/**
	 * The work a run of decisions does, counted as reads of the load table and
	 * the stream map. Counted rather than timed: a count is the same on any
	 * machine and under any load, and time is the benches' business
	 * (bench/comparisons/cost-growth.ts times the same decision).
	 */
	function workOf({ table, streams, policy }: ReturnType<typeof setup>): { reads: number; placements: string[] } {
		let reads = 0;
		const spies = [
			...(['has', 'load', 'isOver', 'indices', 'cpuPercent', 'pending'] as const).map((m) => jest.spyOn(table, m)),
			...(['shardWorkers', 'origins', 'carriers'] as const).map((m) => jest.spyOn(streams, m)),
		];
		const watermarks = { watermarkWorker: 80, maxConsumersPerWorker: 1_000_000 };
		const placements: string[] = [];
		for (let i = 0; i < DECISIONS; i++) {
			const p = policy.placeTransport({ routerId: `router-${i % ROUTERS}`, maxWorkers: 4, ...watermarks });
			placements.push(`${p.workerIndex}:${p.rule}`);
		}
		for (const spy of spies) {
			reads += spy.mock.calls.length;
			spy.mockRestore();
		}
		return { reads, placements };
	}

	test('the work of a decision does not grow with the number of consumers (10k vs 100k)', () => {
		const small = loaded(10_000);
		const large = loaded(100_000);
		expect(small.policy.placeTransport({ routerId: 'router-1', maxWorkers: 4, ...WATERMARKS, maxConsumersPerWorker: 1e6 }))
			.toMatchObject({ rule: 'router-worker', workerIndex: 2 });
		const workSmall = workOf(loaded(10_000));
		const workLarge = workOf(large);
		expect(workSmall.reads).toBeGreaterThan(0);
		// Same decisions, same number of reads: nothing in a decision walks consumers.
		expect(workLarge.placements).toEqual(workSmall.placements);
		expect(workLarge.reads).toBe(workSmall.reads);
		// And a bounded number per decision: a few reads per worker, whatever the table holds.
		expect(workLarge.reads / DECISIONS).toBeLessThanOrEqual(10 * WORKERS);
	});
});
