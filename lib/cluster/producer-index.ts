import type Redis from 'ioredis';
import type { ObjectRef, ProducerIndexEntry } from '../../actors/protocol';
import type { RedisKeys } from './redis-keys';

const isRec = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseEntry(value: string | null): ProducerIndexEntry | undefined {
	if (value === null) return undefined;
	try {
		const e: unknown = JSON.parse(value);
		if (!isRec(e) || !isRec(e.ref)) return undefined;
		const ok = typeof e.producerId === 'string' && typeof e.routerId === 'string' && typeof e.nodeId === 'string' &&
			Number.isInteger(e.worker) && typeof e.shardId === 'string' && typeof e.ref.id === 'string' && e.ref.kind === 'producer' && isRec(e.ref.snapshot);
		return ok ? (e as unknown as ProducerIndexEntry) : undefined;
	} catch {
		return undefined;
	}
}

/**
 * The cluster's producer index (producer id -> node, worker, shard), as
 * Mafalda's swarm design maps producer ids, and the set of workers serving
 * each router id. Nodes write it, since they own what it describes: an entry
 * exists before the produce() that made it answers, and goes with its producer.
 */
export class ProducerIndex {
	constructor(
		private readonly redis: Redis,
		private readonly keys: RedisKeys,
	) {}

	/** The entry, and its id in the node's own list (what a controller takes out if the node dies). */
	async put(entry: ProducerIndexEntry): Promise<void> {
		await this.redis.multi()
			.set(this.keys.producer(entry.producerId), JSON.stringify(entry))
			.sadd(this.keys.nodeProducers(entry.nodeId), entry.producerId)
			.exec();
	}

	async remove(nodeId: string, producerIds: string[]): Promise<void> {
		if (producerIds.length === 0) return;
		await this.redis.multi()
			.del(...producerIds.map((id) => this.keys.producer(id)))
			.srem(this.keys.nodeProducers(nodeId), ...producerIds)
			.exec();
	}

	/** One GET. */
	async get(producerId: string): Promise<ProducerIndexEntry | undefined> {
		return parseEntry(await this.redis.get(this.keys.producer(producerId)));
	}

	async routerWorkerAdded(routerId: string, nodeId: string, worker: number): Promise<void> {
		await this.redis.multi()
			.sadd(this.keys.routerWorkers(routerId), `${nodeId}/${worker}`)
			.sadd(this.keys.nodeRouters(nodeId), `${worker}/${routerId}`)
			.exec();
	}

	async routerWorkersRemoved(entries: Array<{ routerId: string; nodeId: string; worker: number }>): Promise<void> {
		if (entries.length === 0) return;
		const multi = this.redis.multi();
		for (const e of entries) {
			multi.srem(this.keys.routerWorkers(e.routerId), `${e.nodeId}/${e.worker}`);
			multi.srem(this.keys.nodeRouters(e.nodeId), `${e.worker}/${e.routerId}`);
		}
		await multi.exec();
	}

	/** Workers (as nodeId and index) that serve the router, in no order. */
	async routerWorkers(routerId: string): Promise<Array<{ nodeId: string; worker: number }>> {
		const members = await this.redis.smembers(this.keys.routerWorkers(routerId));
		const out: Array<{ nodeId: string; worker: number }> = [];
		for (const member of members) {
			const slash = member.lastIndexOf('/');
			const worker = Number(member.slice(slash + 1));
			if (slash > 0 && Number.isInteger(worker)) out.push({ nodeId: member.slice(0, slash), worker });
		}
		return out;
	}
}

export type { ObjectRef };
