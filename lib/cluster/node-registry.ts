import type Redis from 'ioredis';
import type { NodeSummary } from '../../actors/protocol';
import { ClusterUnavailableError } from '../errors';
import { isNodeSummary } from './control-guards';
import type { NodeEventMessage, RedisKeys } from './redis-keys';

/**
 * The node registry in Redis, LiveKit-style: each node keeps a key with a
 * TTL alive (its heartbeat) and lists itself in a set; a node whose key
 * expired is gone, whoever notices first prunes it from the set. No
 * consensus of our own: the key's TTL is the lease.
 */
export class NodeRegistry {
	constructor(
		private readonly redis: Redis,
		private readonly keys: RedisKeys,
		readonly ttlMs: number,
	) {}

	/** First registration: SET NX, so two live nodes can never share an id. */
	async register(summary: NodeSummary): Promise<void> {
		const ok = await this.redis.set(this.keys.node(summary.nodeId), JSON.stringify(summary), 'PX', this.ttlMs, 'NX');
		if (ok !== 'OK') throw new ClusterUnavailableError(`node id "${summary.nodeId}" is already registered by a live node`);
		await this.redis.multi().sadd(this.keys.nodes, summary.nodeId).publish(this.keys.events, event('joined', summary.nodeId)).exec();
	}

	/**
	 * A heartbeat: the summary, renewed with its TTL, and the node's member of
	 * the set again (one round trip), so that a Redis that restarted empty
	 * lists the node again at its next beat. False when the key was gone: it
	 * expired (a node frozen past its TTL) or Redis lost it, and a controller
	 * may have forgotten what the node wrote: the node writes it back.
	 */
	async heartbeat(summary: NodeSummary): Promise<boolean> {
		const results = await this.redis.multi()
			.set(this.keys.node(summary.nodeId), JSON.stringify(summary), 'PX', this.ttlMs, 'GET')
			.sadd(this.keys.nodes, summary.nodeId)
			.exec();
		const [error, previous] = results?.[0] ?? [null, null];
		if (error) throw error;
		return previous !== null;
	}

	async announce(type: NodeEventMessage['type'], nodeId: string): Promise<void> {
		await this.redis.publish(this.keys.events, event(type, nodeId));
	}

	async deregister(nodeId: string): Promise<void> {
		await this.redis.multi().del(this.keys.node(nodeId)).srem(this.keys.nodes, nodeId).publish(this.keys.events, event('left', nodeId)).exec();
	}

	/** Every live node (two commands, whatever the cluster's size: SMEMBERS, MGET). */
	async liveNodes(): Promise<NodeSummary[]> {
		const ids = await this.redis.smembers(this.keys.nodes);
		if (ids.length === 0) return [];
		const values = await this.redis.mget(ids.map((id) => this.keys.node(id)));
		const live: NodeSummary[] = [];
		const gone: string[] = [];
		values.forEach((value, i) => {
			const summary = parseSummary(value);
			if (summary && summary.nodeId === ids[i]) live.push(summary);
			else if (value === null) gone.push(ids[i]);
		});
		await Promise.all(gone.map((nodeId) => this.forget(nodeId)));
		return live;
	}

	/**
	 * Takes a node whose key expired out of the cluster's sets, with what it
	 * wrote there (its router-set members, its producer entries): a killed node
	 * cannot do it, and a controller that saw it die knows only its own
	 * routers. One Lua script, so that it is all or nothing, and a no-op if
	 * the node's key is back (it beat again meanwhile). Returns whether it did.
	 */
	async forget(nodeId: string): Promise<boolean> {
		const [routerHead, routerTail] = this.keys.routerWorkers('\u0000').split('\u0000');
		const done = await this.redis.eval(
			FORGET_NODE,
			4,
			this.keys.node(nodeId), this.keys.nodes, this.keys.nodeRouters(nodeId), this.keys.nodeProducers(nodeId),
			nodeId, routerHead, routerTail, this.keys.producer(''),
		);
		return done === 1;
	}
}

/**
 * KEYS: the node's key, the nodes set, its router-set members, its producer ids.
 * ARGV: node id, a router set's key before and after the router id, a producer's key before its id.
 * Router sets and producer entries are found from the node's own lists, never by scanning.
 */
const FORGET_NODE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local node = ARGV[1]
for _, member in ipairs(redis.call('SMEMBERS', KEYS[3])) do
	local slash = string.find(member, '/', 1, true)
	if slash then
		redis.call('SREM', ARGV[2] .. string.sub(member, slash + 1) .. ARGV[3], node .. '/' .. string.sub(member, 1, slash - 1))
	end
end
for _, producerId in ipairs(redis.call('SMEMBERS', KEYS[4])) do
	local key = ARGV[4] .. producerId
	local value = redis.call('GET', key)
	if value then
		local ok, entry = pcall(cjson.decode, value)
		if ok and type(entry) == 'table' and entry.nodeId == node then redis.call('DEL', key) end
	end
end
redis.call('DEL', KEYS[3], KEYS[4])
redis.call('SREM', KEYS[2], node)
return 1
`;

function event(type: NodeEventMessage['type'], nodeId: string): string {
	return JSON.stringify({ type, nodeId });
}

function parseSummary(value: string | null): NodeSummary | undefined {
	if (value === null) return undefined;
	try {
		const parsed: unknown = JSON.parse(value);
		return isNodeSummary(parsed) ? parsed : undefined;
	} catch {
		return undefined;
	}
}
