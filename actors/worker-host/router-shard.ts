import type { types } from 'mediasoup';
import type { ShardLoad } from '../protocol';

/**
 * The router shard actor: one mediasoup Router of a logical MafaldaRouter, on
 * this host's Worker. It owns the shard's transports, producers and consumers
 * and keeps the counts its load reports are made of.
 */
export class RouterShard {
	readonly transports = new Set<string>();
	readonly producers = new Set<string>();
	readonly consumers = new Set<string>();
	readonly pipeConsumers = new Set<string>();
	/** Transports the balancer placed here, with their number of consumers. */
	readonly placedTransports = new Map<string, number>();

	constructor(
		readonly shardId: string,
		readonly routerId: string,
		readonly router: types.Router,
	) {}

	idleTransports(): number {
		let idle = 0;
		for (const consumers of this.placedTransports.values()) if (consumers === 0) idle++;
		return idle;
	}

	consumerAdded(transportId: string, consumerId: string, pipe: boolean): void {
		(pipe ? this.pipeConsumers : this.consumers).add(consumerId);
		const n = this.placedTransports.get(transportId);
		if (n !== undefined) this.placedTransports.set(transportId, n + 1);
	}

	consumerRemoved(transportId: string | undefined, consumerId: string): void {
		this.consumers.delete(consumerId);
		this.pipeConsumers.delete(consumerId);
		const n = transportId === undefined ? undefined : this.placedTransports.get(transportId);
		if (transportId !== undefined && n !== undefined) this.placedTransports.set(transportId, Math.max(0, n - 1));
	}

	transportRemoved(transportId: string): void {
		this.transports.delete(transportId);
		this.placedTransports.delete(transportId);
	}

	load(): ShardLoad {
		return {
			shardId: this.shardId,
			routerId: this.routerId,
			transports: this.transports.size,
			producers: this.producers.size,
			consumers: this.consumers.size,
			pipeConsumers: this.pipeConsumers.size,
		};
	}
}
