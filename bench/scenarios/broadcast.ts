import type { Population } from './ramp';
import type { Publisher } from './sim-world';

export interface BroadcastOptions {
	/** Viewers joining per second while media flows (0: as fast as the control plane goes). */
	joinPerSecond: number;
}

/** One-to-many: one publisher (video + audio), every receiver consumes both streams, joining over time. */
export function broadcastPopulation(options: BroadcastOptions): Population {
	let publisher: Publisher | undefined;
	return {
		unit: 'receivers',
		async setUp(world) {
			publisher = await world.addPublisher();
		},
		async grow(world, target, placed) {
			const producerIds = publisher?.handle.producerIds;
			if (!producerIds) throw new Error('broadcast: no publisher');
			const count = target - world.receivers.length;
			if (count > 0) await world.addReceivers(count, () => [...producerIds], placed, { perSecond: options.joinPerSecond || undefined });
		},
		shrink(world, target) {
			world.removeLastSinks(world.receivers.length - target);
		},
		consumers(world) {
			return world.receivers.length * 2;
		},
		size(world) {
			return world.receivers.length;
		},
	};
}
