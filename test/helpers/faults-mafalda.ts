// What the fault tests need to look inside a Mafalda instance: its events in
// order, and what the mediasoup workers themselves say they hold.
import type { Mafalda } from '../../lib/Mafalda';
import type { SupervisorEvents } from '../../lib/types';

export interface RouterDump {
	id: string;
	transportIds: string[];
	rtpObserverIds: string[];
	mapProducerIdConsumerIds: Array<{ key: string; values: string[] }>;
	mapConsumerIdProducerId: Array<{ key: string; value: string }>;
	mapDataProducerIdDataConsumerIds: Array<{ key: string; values: string[] }>;
}

export interface HostDump {
	worker: { pid: number; routerIds: string[]; webRtcServerIds: string[] };
	routers: Array<{ routerId: string; dump: RouterDump }>;
}

/** The mediasoup dump of worker `index`, through its host (not through mafalda's own bookkeeping). */
export async function hostDump(mafalda: Mafalda, index: number): Promise<HostDump> {
	const handle = mafalda.supervisor().handle(index);
	if (!handle) throw new Error(`no worker ${index}`);
	return (await handle.call((host) => host.dump())) as HostDump;
}

/** Everything of worker `index` that mediasoup still holds, counted. */
export async function mediasoupCounts(mafalda: Mafalda, index: number): Promise<{ routers: number; transports: number; producers: number; consumers: number; observers: number }> {
	const dump = await hostDump(mafalda, index);
	let transports = 0;
	let producers = 0;
	let consumers = 0;
	let observers = 0;
	for (const { dump: r } of dump.routers) {
		transports += r.transportIds.length;
		producers += r.mapProducerIdConsumerIds.length;
		consumers += r.mapConsumerIdProducerId.length;
		observers += r.rtpObserverIds.length;
	}
	return { routers: dump.worker.routerIds.length, transports, producers, consumers, observers };
}

export type LoggedEvent = { [K in keyof SupervisorEvents]: { name: K; at: number; info: SupervisorEvents[K][0] } }[keyof SupervisorEvents];

/** Records supervisor events (all but load reports) in order, with their time. */
export class EventLog {
	readonly events: LoggedEvent[] = [];

	constructor(mafalda: Mafalda) {
		const names: Array<keyof SupervisorEvents> = [
			'workerdied', 'workerrestarted', 'workerstarted', 'shardopened', 'shardclosed', 'pipeopened', 'pipeclosed', 'overloaded',
		];
		for (const name of names) {
			// Listening by name in a loop needs the untyped view of the typed emitter.
			(mafalda as unknown as { on(event: string, fn: (info: unknown) => void): void }).on(name, (info) =>
				this.events.push({ name, at: Date.now(), info } as LoggedEvent),
			);
		}
	}

	of<K extends keyof SupervisorEvents>(name: K): Array<SupervisorEvents[K][0]> {
		return this.events.filter((e) => e.name === name).map((e) => e.info as SupervisorEvents[K][0]);
	}

	timesOf(name: keyof SupervisorEvents): number[] {
		return this.events.filter((e) => e.name === name).map((e) => e.at);
	}
}

export const CLOSE_EVENTS = ['routerclose', 'transportclose', 'producerclose', 'dataproducerclose', 'workerclose'] as const;

/** Names of the close-like events an object emitted, recorded from now on. */
export function closeEvents(emitter: object, names: readonly string[] = CLOSE_EVENTS): string[] {
	const seen: string[] = [];
	// Proxies are typed emitters; listening by name needs the untyped view.
	const untyped = emitter as { on(event: string, listener: () => void): unknown };
	for (const name of names) untyped.on(name, () => seen.push(name));
	return seen;
}
