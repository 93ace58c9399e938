import type { Population } from './ramp';
import type { Publisher } from './sim-world';

/** One-to-many: one publisher (video + audio), every receiver consumes both streams. */
export function broadcastPopulation(): Population {
	let publisher: Publisher | undefined;
	return {
		async setUp(world) {
			publisher = await world.addPublisher();
		},
		async grow(world, target, placed) {
			const producerIds = publisher?.handle.producerIds;
			if (!producerIds) throw new Error('broadcast: no publisher');
			const count = target - world.receivers.length;
			if (count > 0) await world.addReceivers(count, () => [...producerIds], placed);
		},
		consumers(world) {
			return world.receivers.length * 2;
		},
	};
}
