/**
 * Every Redis key and channel of a cluster, in one place (docs/CLUSTER.md
 * lists them). `prefix` lets several clusters share one Redis.
 */
export class RedisKeys {
	constructor(readonly prefix = 'mafalda:') {}

	/** A node's summary (JSON NodeSummary); its TTL is the node's heartbeat. */
	node(nodeId: string): string {
		return `${this.prefix}node:${nodeId}`;
	}
	/** Set of node ids that registered; a member whose node key expired is gone. */
	get nodes(): string {
		return `${this.prefix}nodes`;
	}
	/** Pub/sub channel of node changes ({ type: 'joined' | 'left' | 'draining', nodeId }), so controllers need not wait for a poll. */
	get events(): string {
		return `${this.prefix}events`;
	}
	/** A producer's entry (JSON ProducerIndexEntry): where it lives, for controllers that did not make it. */
	producer(producerId: string): string {
		return `${this.prefix}producer:${producerId}`;
	}
	/** Set of `nodeId/workerIndex` serving a MafaldaRouter id (a shard of it is open there). */
	routerWorkers(routerId: string): string {
		return `${this.prefix}router:${routerId}:workers`;
	}
	/** Set of `workerIndex/routerId`: the router-set members a node wrote, to take out if it dies. */
	nodeRouters(nodeId: string): string {
		return `${this.prefix}node-routers:${nodeId}`;
	}
	/** Set of the producer ids a node put in the index, to take out if it dies. */
	nodeProducers(nodeId: string): string {
		return `${this.prefix}node-producers:${nodeId}`;
	}
}

export type NodeEventMessage = { type: 'joined' | 'left' | 'draining'; nodeId: string };

export function parseNodeEvent(message: string): NodeEventMessage | undefined {
	try {
		const value = JSON.parse(message) as { type?: unknown; nodeId?: unknown };
		if ((value.type === 'joined' || value.type === 'left' || value.type === 'draining') && typeof value.nodeId === 'string') {
			return { type: value.type, nodeId: value.nodeId };
		}
	} catch {
		// Someone else's message on our channel: not ours to act on.
	}
	return undefined;
}

/** ioredis's retryStrategy of nodes and controllers: reconnect soon after Redis is back (ioredis's default waits up to 2 s between tries). */
export function redisRetry(times: number): number {
	return Math.min(times * 50, 500);
}

/**
 * The ioredis options of nodes and controllers. A refused connection fails a
 * command after two reconnect tries; a Redis that stops answering (a frozen
 * server, dropped packets) fails it after commandTimeout, so that no call
 * waits for Redis without bound.
 */
export const REDIS_CLIENT_OPTIONS = { lazyConnect: true, maxRetriesPerRequest: 2, retryStrategy: redisRetry, commandTimeout: 2000 } as const;
