import type { types } from 'mediasoup';

/** What merging the shards' dumps needs to know about the ids it finds in them. */
export interface DumpView {
	/** Whether an object id seen on a worker is one of the app's objects (not one of mafalda's pipe ends). */
	isPublic(workerIndex: number, id: string): boolean;
	/** The app's producer id for a producer id seen on a shard, if that producer is consumable in this router. */
	producerId(localId: string): string | undefined;
	/** The same for data producers. */
	dataProducerId(localId: string): string | undefined;
}

export interface ShardDump {
	workerIndex: number;
	dump: types.RouterDump;
}

type KeyValues = Array<{ key: string; values: string[] }>;
type KeyValue = Array<{ key: string; value: string }>;

/**
 * One logical router's dump, in mediasoup's shape, from its shards' dumps:
 * ids are the app's (a producer piped to a shard appears under its own id),
 * and mafalda's pipe transports, pipe consumers and pipe data consumers are
 * left out, so the dump shows what the app made, as a mediasoup Router's does.
 */
export function mergeRouterDumps(routerId: string, shards: readonly ShardDump[], view: DumpView): types.RouterDump {
	const transportIds: string[] = [];
	const rtpObserverIds: string[] = [];
	const consumersOf = new Map<string, Set<string>>();
	const producerOf = new Map<string, string>();
	const observersOf = new Map<string, Set<string>>();
	const dataConsumersOf = new Map<string, Set<string>>();
	const dataProducerOf = new Map<string, string>();

	for (const { workerIndex, dump } of shards) {
		const isPublic = (id: string): boolean => view.isPublic(workerIndex, id);
		transportIds.push(...dump.transportIds.filter(isPublic));
		rtpObserverIds.push(...dump.rtpObserverIds.filter(isPublic));
		mergeKeyValues(consumersOf, dump.mapProducerIdConsumerIds, view.producerId, isPublic);
		mergeKeyValue(producerOf, dump.mapConsumerIdProducerId, view.producerId, isPublic);
		mergeKeyValues(observersOf, dump.mapProducerIdObserverIds, view.producerId, isPublic);
		mergeKeyValues(dataConsumersOf, dump.mapDataProducerIdDataConsumerIds, view.dataProducerId, isPublic);
		mergeKeyValue(dataProducerOf, dump.mapDataConsumerIdDataProducerId, view.dataProducerId, isPublic);
	}
	return {
		id: routerId,
		transportIds,
		rtpObserverIds,
		mapProducerIdConsumerIds: toKeyValues(consumersOf),
		mapConsumerIdProducerId: toKeyValue(producerOf),
		mapProducerIdObserverIds: toKeyValues(observersOf),
		mapDataProducerIdDataConsumerIds: toKeyValues(dataConsumersOf),
		mapDataConsumerIdDataProducerId: toKeyValue(dataProducerOf),
	};
}

/** Producer id -> ids: keyed by the app's producer id, public values only, merged over shards. */
function mergeKeyValues(
	into: Map<string, Set<string>>,
	entries: KeyValues,
	publicKey: (localId: string) => string | undefined,
	isPublic: (id: string) => boolean,
): void {
	for (const { key, values } of entries) {
		const id = publicKey(key);
		if (id === undefined) continue;
		let set = into.get(id);
		if (!set) into.set(id, (set = new Set()));
		for (const value of values) if (isPublic(value)) set.add(value);
	}
}

/** Consumer id -> producer id: public consumers only, with the app's producer id. */
function mergeKeyValue(
	into: Map<string, string>,
	entries: KeyValue,
	publicValue: (localId: string) => string | undefined,
	isPublic: (id: string) => boolean,
): void {
	for (const { key, value } of entries) {
		const id = publicValue(value);
		if (id !== undefined && isPublic(key)) into.set(key, id);
	}
}

function toKeyValues(map: Map<string, Set<string>>): KeyValues {
	return [...map].map(([key, values]) => ({ key, values: [...values] }));
}

function toKeyValue(map: Map<string, string>): KeyValue {
	return [...map].map(([key, value]) => ({ key, value }));
}
