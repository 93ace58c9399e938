import type { Population } from './ramp';
import type { Publisher } from './sim-world';

/**
 * Many-to-many: every participant publishes video + audio and receives
 * everybody else's. Growing to `target` participants adds their publishers,
 * gives each new one a receiver of all the others, and makes everyone already
 * there consume the newcomers. Receiver i belongs to publisher i.
 */
export function meetingPopulation(): Population {
	return {
		unit: 'participants',
		async setUp() {
			// Nobody before the first step.
		},
		async grow(world, target, placed) {
			const before = world.publishers.length;
			if (target <= before) return;
			const joined: Publisher[] = [];
			for (let i = before; i < target; i++) joined.push(await world.addPublisher());
			const othersOf = (index: number): string[] =>
				world.publishers.filter((p) => p.index !== index).flatMap((p) => p.handle.producerIds);
			const veterans = world.receivers.slice();
			await world.addReceivers(target - before, othersOf, placed);
			await world.consumeMore(veterans, () => joined.flatMap((p) => p.handle.producerIds));
		},
		consumers(world) {
			return world.receivers.reduce((n, r) => n + r.producerIds.length, 0);
		},
		size(world) {
			return world.publishers.length;
		},
	};
}
