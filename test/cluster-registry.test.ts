// What a dead node wrote in Redis is taken out by whoever sees its key
// expire: its router-set members (of every router, not only those the
// observing controller knows) and its producer entries, in one Lua script,
// and never while the node's key is alive. A real redis-server on a free
// port, started and stopped by the test; the registry and index classes the
// nodes and controllers use, no node processes (test/cluster.test.ts kills a
// real one).
import Redis from 'ioredis';
import { CONTROL_PROTOCOL_VERSION, type NodeSummary, type ObjectRef, type ProducerIndexEntry } from '../actors/protocol';
import { NodeRegistry } from '../lib/cluster/node-registry';
import { ProducerIndex } from '../lib/cluster/producer-index';
import { RedisKeys } from '../lib/cluster/redis-keys';
import { type RedisServer, startRedis } from '../bench/cluster/hosts';
import { waitFor } from './helpers/mafalda-media';

const keys = new RedisKeys(`mafalda-registry-test-${process.pid}:`);
let redis: RedisServer;
let client: Redis;

function summary(nodeId: string): NodeSummary {
	return {
		nodeId, controlHost: '127.0.0.1', controlPort: 1, listenIp: '127.0.0.1', announcedIp: '127.0.0.1',
		workers: [], draining: false, startedAt: Date.now(), at: Date.now(), version: CONTROL_PROTOCOL_VERSION,
	};
}

function entry(producerId: string, nodeId: string, routerId: string): ProducerIndexEntry {
	const ref = { id: producerId, kind: 'producer', snapshot: {} } as unknown as ObjectRef;
	return { producerId, routerId, nodeId, worker: 0, shardId: `shard-${producerId}`, ref };
}

beforeAll(async () => {
	redis = await startRedis();
	client = new Redis(redis.url);
});

afterAll(async () => {
	client?.disconnect();
	await redis?.stop();
});

describe('a node whose key expired', () => {
	test('its router-set members and producer entries go, with its own lists; a live node keeps all of its', async () => {
		const index = new ProducerIndex(client, keys);
		const dying = new NodeRegistry(client, keys, 300);
		const alive = new NodeRegistry(client, keys, 60_000);
		await dying.register(summary('node-x'));
		await alive.register(summary('node-y'));
		// node-x serves two routers, one of them shared with node-y; it made two producers.
		await index.routerWorkerAdded('room-1', 'node-x', 0);
		await index.routerWorkerAdded('room-2', 'node-x', 1);
		await index.routerWorkerAdded('room-1', 'node-y', 0);
		await index.put(entry('px1', 'node-x', 'room-1'));
		await index.put(entry('px2', 'node-x', 'room-2'));
		await index.put(entry('py1', 'node-y', 'room-1'));
		// A producer and a shard node-x closed itself are already out of its lists.
		await index.put(entry('px3', 'node-x', 'room-1'));
		await index.remove('node-x', ['px3']);
		expect(redis.cli('smembers', keys.nodeProducers('node-x')).split('\n').sort()).toEqual(['px1', 'px2']);
		expect(redis.cli('smembers', keys.nodeRouters('node-x')).split('\n').sort()).toEqual(['0/room-1', '1/room-2']);

		// While its key lives, nothing is forgotten, whoever asks.
		expect(await alive.forget('node-x')).toBe(false);
		expect(redis.cli('exists', keys.producer('px1'))).toBe('1');

		await waitFor(() => redis.cli('exists', keys.node('node-x')) === '0', 'node-x key expired', 3000);
		// A controller's registry read finds it gone and forgets it.
		const controller = new NodeRegistry(client, keys, 3000);
		expect((await controller.liveNodes()).map((n) => n.nodeId)).toEqual(['node-y']);

		expect(redis.cli('smembers', keys.nodes)).toBe('node-y');
		expect(redis.cli('smembers', keys.routerWorkers('room-1'))).toBe('node-y/0');
		expect(redis.cli('exists', keys.routerWorkers('room-2'))).toBe('0');
		expect(redis.cli('exists', keys.producer('px1'), keys.producer('px2'))).toBe('0');
		expect(redis.cli('exists', keys.nodeRouters('node-x'), keys.nodeProducers('node-x'))).toBe('0');
		expect((await index.get('py1'))?.nodeId).toBe('node-y');
		expect(redis.cli('smembers', keys.nodeProducers('node-y'))).toBe('py1');
	});

	test("a heartbeat says when the node's key was gone, so that the node writes back what a controller may have forgotten", async () => {
		const registry = new NodeRegistry(client, keys, 200);
		await registry.register(summary('node-z'));
		expect(await registry.heartbeat(summary('node-z'))).toBe(true);
		await waitFor(() => redis.cli('exists', keys.node('node-z')) === '0', 'node-z key expired', 3000);
		expect(await registry.heartbeat(summary('node-z'))).toBe(false);
		expect(await registry.heartbeat(summary('node-z'))).toBe(true);
		await registry.deregister('node-z');
	});

	test('a producer id that another node wrote since is not taken out with the dead one', async () => {
		const index = new ProducerIndex(client, keys);
		const registry = new NodeRegistry(client, keys, 60_000);
		await index.put(entry('moved', 'node-w', 'room-3'));
		await index.put(entry('moved', 'node-v', 'room-3'));
		// node-w never registered (or its key is long gone): forgetting it leaves node-v's entry.
		expect(await registry.forget('node-w')).toBe(true);
		expect((await index.get('moved'))?.nodeId).toBe('node-v');
	});
});
