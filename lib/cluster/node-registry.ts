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
	 * lists the node again at its next beat.
	 */
	async heartbeat(summary: NodeSummary): Promise<void> {
		await this.redis.multi().set(this.keys.node(summary.nodeId), JSON.stringify(summary), 'PX', this.ttlMs).sadd(this.keys.nodes, summary.nodeId).exec();
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
		if (gone.length > 0) await this.redis.srem(this.keys.nodes, ...gone);
		return live;
	}
}

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
