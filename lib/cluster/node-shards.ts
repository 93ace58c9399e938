import type { ObjectRef } from '../../actors/protocol';

interface SharedShard {
	key: string;
	worker: number;
	routerId: string;
	ref: ObjectRef;
	/** Sessions (controllers) using this shard. */
	holders: Set<number>;
}

/**
 * Router shards on a node are shared by every controller of the same
 * MafaldaRouter id: the first createRouter of a router id on a worker opens
 * it, later ones get the same shard, so all controllers' transports of one
 * room on one worker meet on one mediasoup Router (no pipe between them).
 * A controller releasing the shard (closing its MafaldaRouter, or its
 * connection closing) closes what it made there; the last one closes the shard.
 */
export class NodeShards {
	readonly #byKey = new Map<string, SharedShard>();
	readonly #byShardId = new Map<string, SharedShard>();
	readonly #opening = new Map<string, Promise<SharedShard>>();
	/** Session -> shard id -> transports and observers it made there. */
	readonly #made = new Map<number, Map<string, Set<string>>>();

	async acquire(session: number, worker: number, routerId: string, open: () => Promise<ObjectRef>): Promise<{ ref: ObjectRef; opened: boolean }> {
		const key = `${worker}/${routerId}`;
		let shard = this.#byKey.get(key);
		let opened = false;
		if (!shard) {
			let opening = this.#opening.get(key);
			if (!opening) {
				opened = true;
				opening = open().then((ref) => {
					const created: SharedShard = { key, worker, routerId, ref, holders: new Set() };
					this.#byKey.set(key, created);
					this.#byShardId.set(ref.id, created);
					return created;
				});
				opening.finally(() => this.#opening.delete(key)).catch(() => undefined);
				this.#opening.set(key, opening);
			}
			shard = await opening;
		}
		shard.holders.add(session);
		return { ref: shard.ref, opened };
	}

	/** Router ids with a shard open on this node (the node's `mafalda_routers`). */
	routerCount(): number {
		return new Set([...this.#byKey.values()].map((s) => s.routerId)).size;
	}

	isShard(objectId: string): boolean {
		return this.#byShardId.has(objectId);
	}

	shardInfo(shardId: string): { worker: number; routerId: string } | undefined {
		const shard = this.#byShardId.get(shardId);
		return shard ? { worker: shard.worker, routerId: shard.routerId } : undefined;
	}

	/** A transport or observer `session` made on a shard: it goes when the session lets go of the shard. */
	made(session: number, shardId: string, objectId: string): void {
		let shards = this.#made.get(session);
		if (!shards) this.#made.set(session, (shards = new Map()));
		let objects = shards.get(shardId);
		if (!objects) shards.set(shardId, (objects = new Set()));
		objects.add(objectId);
	}

	/** An object is gone (closed by anyone): forget it. */
	objectClosed(objectId: string): { worker: number; routerId: string; shardId: string } | undefined {
		for (const shards of this.#made.values()) for (const objects of shards.values()) objects.delete(objectId);
		const shard = this.#byShardId.get(objectId);
		if (!shard) return undefined;
		this.#byShardId.delete(objectId);
		if (this.#byKey.get(shard.key) === shard) this.#byKey.delete(shard.key);
		return { worker: shard.worker, routerId: shard.routerId, shardId: objectId };
	}

	/**
	 * `session` lets go of a shard. Returns what to close: the session's own
	 * objects there, and the shard itself when nobody else holds it.
	 */
	release(session: number, shardId: string): { objects: string[]; closeShard: boolean } {
		const shard = this.#byShardId.get(shardId);
		const objects = [...(this.#made.get(session)?.get(shardId) ?? [])];
		this.#made.get(session)?.delete(shardId);
		if (!shard) return { objects, closeShard: false };
		shard.holders.delete(session);
		return { objects, closeShard: shard.holders.size === 0 };
	}

	/** Shards a session holds (to release them all when it goes). */
	heldBy(session: number): string[] {
		const out: string[] = [];
		for (const [shardId, shard] of this.#byShardId) if (shard.holders.has(session)) out.push(shardId);
		return out;
	}

	sessionGone(session: number): void {
		this.#made.delete(session);
	}

	/** Worker of every shard, for a worker's death. */
	shardsOn(worker: number): string[] {
		return [...this.#byShardId.values()].filter((s) => s.worker === worker).map((s) => s.ref.id);
	}
}
