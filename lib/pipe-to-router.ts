import type { types } from 'mediasoup';
import { InvalidArgumentError, InvalidStateError, RouterClosedError, UnknownDataProducerError, UnknownProducerError } from './errors';
import type { MafaldaRouter } from './MafaldaRouter';
import type { NumSctpStreams } from './mediasoup-compat';
import type { Consumer } from './remote/Consumer';
import type { DataConsumer } from './remote/DataConsumer';
import type { DataProducer } from './remote/DataProducer';
import type { PipeTransport } from './remote/PipeTransport';
import type { Producer } from './remote/Producer';
import type { RemoteObject } from './remote/RemoteObject';
import { optionalBoolean, optionalObject, optionalString, requireObject } from './validate';

/** mediasoup's PipeToRouterOptions, with a MafaldaRouter as the destination. */
export interface PipeToRouterOptions {
	producerId?: string;
	dataProducerId?: string;
	router: MafaldaRouter;
	/** Default `{ protocol: 'udp', ip: '127.0.0.1' }`, as mediasoup's. */
	listenInfo?: types.TransportListenInfo;
	listenIp?: types.TransportListenIp | string;
	enableSctp?: boolean;
	/** mediasoup < 3.20 only (usrsctp); later versions ignore it. */
	numSctpStreams?: NumSctpStreams;
	enableRtx?: boolean;
	enableSrtp?: boolean;
	/**
	 * As in newer mediasoup: whether the pipe producer keeps the producer's id
	 * (default true). Ids are unique within a Mafalda, as within a mediasoup
	 * Worker, so piping to a MafaldaRouter of the same Mafalda needs `false`.
	 */
	keepId?: boolean;
}

export interface PipeToRouterResult {
	pipeConsumer?: Consumer;
	pipeProducer?: Producer;
	pipeDataConsumer?: DataConsumer;
	pipeDataProducer?: DataProducer;
}

/** Two connected PipeTransports, by the id of the MafaldaRouter each belongs to. */
export type PipeTransportPair = Readonly<Record<string, PipeTransport>>;

/** What pipeToRouter needs of the MafaldaRouters at both ends. */
export interface PipeEndpoint {
	readonly id: string;
	readonly closed: boolean;
	/** The Mafalda instance this router belongs to (the id space of its producers). */
	readonly idSpace: object;
	/** PipeTransport pairs to other routers, by the other router's id (shared by both routers). */
	readonly pipeTransportPairs: Map<string, Promise<PipeTransportPair>>;
	createPipeTransport(options: types.PipeTransportOptions): Promise<PipeTransport>;
	producerById(id: string): Producer | undefined;
	dataProducerById(id: string): DataProducer | undefined;
}

/**
 * mediasoup's router.pipeToRouter(), between two MafaldaRouters, done as
 * mediasoup does it and through their public API: one PipeTransport pair per
 * pair of routers (made by whichever call comes first, in either direction),
 * a pipe consumer here, a pipe producer there with the producer's id. The two
 * routers may belong to one Mafalda or to two (then the pair is what connects
 * their workers), and each side spreads over its own shards as usual.
 */
export async function pipeToRouter(from: PipeEndpoint, options: PipeToRouterOptions): Promise<PipeToRouterResult> {
	const o = requireObject(options, 'options');
	const to = o.router as PipeEndpoint | undefined;
	const producerId = optionalString(o.producerId, 'options.producerId');
	const dataProducerId = optionalString(o.dataProducerId, 'options.dataProducerId');
	if (o.listenInfo !== undefined && o.listenIp !== undefined) {
		throw new InvalidArgumentError('options.listenInfo', 'and options.listenIp cannot both be given');
	}
	if (producerId === undefined && dataProducerId === undefined) throw new InvalidArgumentError('options.producerId', 'or options.dataProducerId is required');
	if (producerId !== undefined && dataProducerId !== undefined) {
		throw new InvalidArgumentError('options.producerId', 'and options.dataProducerId cannot both be given');
	}
	if (!isEndpoint(to)) throw new InvalidArgumentError('options.router', 'must be a MafaldaRouter');
	if (to === from) throw new InvalidArgumentError('options.router', 'cannot be this MafaldaRouter');
	if (to.closed) throw new RouterClosedError(to.id);
	const keepId = optionalBoolean(o.keepId, 'options.keepId') ?? true;
	if (keepId && to.idSpace === from.idSpace) {
		// As two Routers of one mediasoup Worker: the pipe producer's id is taken there.
		throw new InvalidArgumentError(
			'options.router',
			'belongs to the same Mafalda, where the producer\'s id is taken: pass keepId: false, or share the producer with pipeToMafaldaRouter()',
		);
	}
	const producer = producerId === undefined ? undefined : from.producerById(producerId);
	const dataProducer = dataProducerId === undefined ? undefined : from.dataProducerById(dataProducerId);
	if (producerId !== undefined && !producer) throw new UnknownProducerError(producerId, `MafaldaRouter "${from.id}"`);
	if (dataProducerId !== undefined && !dataProducer) throw new UnknownDataProducerError(dataProducerId, `MafaldaRouter "${from.id}"`);

	// No await before this point: two calls in opposite directions must find each other's pair.
	const pair = await pairWith(from, to, pipeTransportOptions(o));
	const local = pair[from.id];
	const remote = pair[to.id];
	if (producer) return pipeProducer(producer, local, remote, keepId);
	return pipeDataProducer(dataProducer!, local, remote, keepId);
}

function isEndpoint(value: unknown): value is PipeEndpoint {
	return typeof value === 'object' && value !== null && (value as Partial<PipeEndpoint>).pipeTransportPairs instanceof Map;
}

function pipeTransportOptions(o: Record<string, unknown>): types.PipeTransportOptions & { numSctpStreams?: NumSctpStreams } {
	let listenInfo = optionalObject(o.listenInfo, 'options.listenInfo') as types.TransportListenInfo | undefined;
	if (o.listenIp !== undefined) {
		const ip = typeof o.listenIp === 'string' ? { ip: o.listenIp } : (requireObject(o.listenIp, 'options.listenIp') as types.TransportListenIp);
		listenInfo = { protocol: 'udp', ip: ip.ip, announcedAddress: ip.announcedIp };
	}
	return {
		listenInfo: listenInfo ?? { protocol: 'udp', ip: '127.0.0.1' },
		enableSctp: optionalBoolean(o.enableSctp, 'options.enableSctp') ?? true,
		numSctpStreams: (optionalObject(o.numSctpStreams, 'options.numSctpStreams') as NumSctpStreams | undefined) ?? { OS: 1024, MIS: 1024 },
		enableRtx: optionalBoolean(o.enableRtx, 'options.enableRtx') ?? false,
		enableSrtp: optionalBoolean(o.enableSrtp, 'options.enableSrtp') ?? false,
	};
}

/** The routers' PipeTransport pair, made once and registered on both. */
function pairWith(from: PipeEndpoint, to: PipeEndpoint, options: types.PipeTransportOptions): Promise<PipeTransportPair> {
	const existing = from.pipeTransportPairs.get(to.id);
	if (existing) return existing;
	const making = makePair(from, to, options);
	from.pipeTransportPairs.set(to.id, making);
	to.pipeTransportPairs.set(from.id, making);
	const forget = (): void => {
		if (from.pipeTransportPairs.get(to.id) === making) from.pipeTransportPairs.delete(to.id);
		if (to.pipeTransportPairs.get(from.id) === making) to.pipeTransportPairs.delete(from.id);
	};
	making.then((pair) => {
		for (const transport of Object.values(pair)) transport.observer.once('close', forget);
	}, forget);
	return making;
}

async function makePair(from: PipeEndpoint, to: PipeEndpoint, options: types.PipeTransportOptions): Promise<PipeTransportPair> {
	const [a, b] = await Promise.allSettled([from.createPipeTransport(options), to.createPipeTransport(options)]);
	if (a.status === 'rejected' || b.status === 'rejected') {
		if (a.status === 'fulfilled') a.value.close();
		if (b.status === 'fulfilled') b.value.close();
		throw a.status === 'rejected' ? a.reason : (b as PromiseRejectedResult).reason;
	}
	const [local, remote] = [a.value, b.value];
	// One end closing (its router closed, say) closes the other, as in mediasoup.
	local.observer.once('close', () => remote.close());
	remote.observer.once('close', () => local.close());
	try {
		await Promise.all([
			local.connect({ ip: remote.tuple.localAddress, port: remote.tuple.localPort, srtpParameters: remote.srtpParameters }),
			remote.connect({ ip: local.tuple.localAddress, port: local.tuple.localPort, srtpParameters: local.srtpParameters }),
		]);
	} catch (error) {
		local.close();
		throw error;
	}
	return { [from.id]: local, [to.id]: remote };
}

function pipeProducer(producer: Producer, local: PipeTransport, remote: PipeTransport, keepId: boolean): Promise<PipeToRouterResult> {
	return pipeEnds(
		producer,
		'original Producer closed',
		() => local.consume({ producerId: producer.id } as types.ConsumerOptions),
		(pipeConsumer) =>
			remote.produce({
				...(keepId ? { id: producer.id } : {}),
				kind: pipeConsumer.kind,
				rtpParameters: pipeConsumer.rtpParameters,
				paused: pipeConsumer.producerPaused,
				appData: producer.appData,
			} as types.ProducerOptions),
		async (pipeConsumer, pipeProducer) => {
			// The producer paused or resumed meanwhile: the pipe producer follows.
			if (pipeProducer.paused !== producer.paused) await (producer.paused ? pipeProducer.pause() : pipeProducer.resume());
			pipeConsumer.observer.on('pause', () => void pipeProducer.pause().catch(() => undefined));
			pipeConsumer.observer.on('resume', () => void pipeProducer.resume().catch(() => undefined));
		},
	).then(([pipeConsumer, pipeProducer]) => ({ pipeConsumer, pipeProducer }));
}

function pipeDataProducer(dataProducer: DataProducer, local: PipeTransport, remote: PipeTransport, keepId: boolean): Promise<PipeToRouterResult> {
	return pipeEnds(
		dataProducer,
		'original DataProducer closed',
		() => local.consumeData({ dataProducerId: dataProducer.id }),
		(pipeDataConsumer) =>
			remote.produceData({
				...(keepId ? { id: dataProducer.id } : {}),
				sctpStreamParameters: pipeDataConsumer.sctpStreamParameters,
				label: pipeDataConsumer.label,
				protocol: pipeDataConsumer.protocol,
				appData: dataProducer.appData,
			} as types.DataProducerOptions),
	).then(([pipeDataConsumer, pipeDataProducer]) => ({ pipeDataConsumer, pipeDataProducer }));
}

/**
 * A pipe consumer on this side and its pipe producer on the other, closing
 * together from then on; neither is left behind if making them fails.
 */
async function pipeEnds<C extends RemoteObject, P extends RemoteObject>(
	original: RemoteObject,
	closedMessage: string,
	consume: () => Promise<C>,
	produce: (consumerEnd: C) => Promise<P>,
	link?: (consumerEnd: C, producerEnd: P) => Promise<void>,
): Promise<[C, P]> {
	let consumerEnd: C | undefined;
	let producerEnd: P | undefined;
	try {
		consumerEnd = await consume();
		producerEnd = await produce(consumerEnd);
		if (original.closed) throw new InvalidStateError(closedMessage);
		await link?.(consumerEnd, producerEnd);
		const [c, p] = [consumerEnd, producerEnd];
		c.observer.on('close', () => p.close());
		p.observer.on('close', () => c.close());
		return [c, p];
	} catch (error) {
		consumerEnd?.close();
		producerEnd?.close();
		throw error;
	}
}
