// The merge of a MafaldaRouter's shard dumps into one mediasoup Router dump
// (pure logic: the shard dumps are written out here in mediasoup's shape).
import type { types } from 'mediasoup';
import { type DumpView, mergeRouterDumps } from '../lib/router-dump';

function shardDump(partial: Partial<types.RouterDump>): types.RouterDump {
	return {
		id: 'shard',
		transportIds: [],
		rtpObserverIds: [],
		mapProducerIdConsumerIds: [],
		mapConsumerIdProducerId: [],
		mapProducerIdObserverIds: [],
		mapDataProducerIdDataConsumerIds: [],
		mapDataConsumerIdDataProducerId: [],
		...partial,
	};
}

// Worker 0 has the producer P, its transport T0 and mafalda's pipe transport
// and pipe consumer; worker 1 has mafalda's pipe transport, the pipe producer
// (whose id there is the alias P') and the app's consumer C1 and transport T1.
const internal = new Set(['pipeT0', 'pipeC', 'pipeT1', "P'"]);
const view: DumpView = {
	isPublic: (_worker, id) => !internal.has(id) && !id.startsWith('unknown'),
	producerId: (localId) => (localId === 'P' || localId === "P'" ? 'P' : undefined),
	dataProducerId: (localId) => (localId === 'D' ? 'D' : undefined),
};

test('ids are the app\'s, merged over shards, with mafalda\'s pipe ends left out', () => {
	const dump = mergeRouterDumps('room', [
		{
			workerIndex: 0,
			dump: shardDump({
				transportIds: ['T0', 'pipeT0'],
				rtpObserverIds: ['O'],
				mapProducerIdConsumerIds: [{ key: 'P', values: ['pipeC', 'C0'] }],
				mapConsumerIdProducerId: [{ key: 'pipeC', value: 'P' }, { key: 'C0', value: 'P' }],
				mapProducerIdObserverIds: [{ key: 'P', values: ['O'] }],
				mapDataProducerIdDataConsumerIds: [{ key: 'D', values: [] }],
			}),
		},
		{
			workerIndex: 1,
			dump: shardDump({
				transportIds: ['pipeT1', 'T1'],
				mapProducerIdConsumerIds: [{ key: "P'", values: ['C1'] }, { key: 'other-router-producer', values: ['X'] }],
				mapConsumerIdProducerId: [{ key: 'C1', value: "P'" }],
			}),
		},
	], view);
	expect(dump).toEqual({
		id: 'room',
		transportIds: ['T0', 'T1'],
		rtpObserverIds: ['O'],
		mapProducerIdConsumerIds: [{ key: 'P', values: ['C0', 'C1'] }],
		mapConsumerIdProducerId: [{ key: 'C0', value: 'P' }, { key: 'C1', value: 'P' }],
		mapProducerIdObserverIds: [{ key: 'P', values: ['O'] }],
		mapDataProducerIdDataConsumerIds: [{ key: 'D', values: [] }],
		mapDataConsumerIdDataProducerId: [],
	});
});
