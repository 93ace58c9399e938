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

	/** Kept as a count, not scanned: a report is built on every change. */
	#idle = 0;

	idleTransports(): number {
		return this.#idle;
	}

	transportPlaced(transportId: string): void {
		this.placedTransports.set(transportId, 0);
		this.#idle++;
	}

	consumerAdded(transportId: string, consumerId: string, pipe: boolean): void {
		(pipe ? this.pipeConsumers : this.consumers).add(consumerId);
		this.#setConsumers(transportId, +1);
	}

	consumerRemoved(transportId: string | undefined, consumerId: string): void {
		const known = this.consumers.delete(consumerId) || this.pipeConsumers.delete(consumerId);
		if (known && transportId !== undefined) this.#setConsumers(transportId, -1);
	}

	transportRemoved(transportId: string): void {
		this.transports.delete(transportId);
		if (this.placedTransports.get(transportId) === 0) this.#idle--;
		this.placedTransports.delete(transportId);
	}

	#setConsumers(transportId: string, delta: number): void {
		const before = this.placedTransports.get(transportId);
		if (before === undefined) return;
		const after = Math.max(0, before + delta);
		this.placedTransports.set(transportId, after);
		if (before === 0 && after > 0) this.#idle--;
		if (before > 0 && after === 0) this.#idle++;
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
