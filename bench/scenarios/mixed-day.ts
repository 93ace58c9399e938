import type { Population } from './ramp';
import type { Publisher, SimWorld } from './sim-world';

export interface MixedDayOptions {
	/** Receivers of the large broadcast, there from the start. */
	broadcastReceivers: number;
	/** Its viewers joining per second. */
	joinPerSecond: number;
	/** New meetings per second. */
	meetingsPerSecond: number;
}

/** Meetings of 5 and 6 participants in turn. */
export function meetingSize(meeting: number): number {
	return meeting % 2 === 0 ? 5 : 6;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A day on a shared SFU: one large broadcast, then small meetings (5 or 6
 * participants, everybody publishing video + audio and receiving everybody
 * else) arriving over time. Each meeting is a room: its own Router on
 * mafalda, the pool's shared routers on mediasoup. A step's size is the
 * number of meetings.
 */
export function mixedDayPopulation(options: MixedDayOptions): Population {
	let meetings = 0;
	let consumers = 0;
	return {
		unit: 'meetings',
		async setUp(world) {
			const broadcaster = await world.addPublisher('main');
			const ids = broadcaster.handle.producerIds;
			await world.addReceivers(options.broadcastReceivers, () => [...ids], undefined, { perSecond: options.joinPerSecond || undefined });
			consumers += options.broadcastReceivers * ids.length;
		},
		async grow(world, target, placed) {
			const t0 = performance.now();
			for (let k = 0; meetings < target; k++) {
				const wait = t0 + (1000 * k) / options.meetingsPerSecond - performance.now();
				if (wait > 0) await sleep(wait);
				consumers += await addMeeting(world, `meeting-${meetings}`, meetingSize(meetings), placed);
				meetings++;
			}
		},
		consumers() {
			return consumers;
		},
		size() {
			return meetings;
		},
	};
}

/** A meeting: its publishers, then one receiver per participant consuming the others. Returns its consumers. */
async function addMeeting(world: SimWorld, room: string, participants: number, placed: Parameters<Population['grow']>[2]): Promise<number> {
	const publishers: Publisher[] = [];
	for (let i = 0; i < participants; i++) publishers.push(await world.addPublisher(room));
	const first = world.receivers.length;
	const othersOf = (index: number): string[] => publishers.filter((_, k) => k !== index - first).flatMap((p) => p.handle.producerIds);
	await world.addReceivers(participants, othersOf, placed, { room: () => room });
	return participants * (participants - 1) * 2;
}
