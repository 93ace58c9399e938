import type { types } from 'mediasoup';
import { isWorkerLoss, type Snapshot } from '../../actors/protocol';
import { MafaldaClosedError, TransportClosedError } from '../errors';
import type { SctpNegotiatedCapabilities } from '../mediasoup-compat';
import { requireNumber, requireObject } from '../validate';
import type { Consumer } from './Consumer';
import type { DataConsumer } from './DataConsumer';
import type { DataProducer } from './DataProducer';
import { type ProxyCloseReason, RemoteObject } from './RemoteObject';
import type { Producer } from './Producer';

/**
 * What a transport asks of its MafaldaRouter: producing and consuming involve
 * more than one shard (a consumer's producer may live on another worker), so
 * the router does them.
 */
export interface TransportOwner {
	produce(transport: Transport, options: types.ProducerOptions): Promise<Producer>;
	consume(transport: Transport, options: types.ConsumerOptions): Promise<Consumer>;
	produceData(transport: Transport, options: types.DataProducerOptions): Promise<DataProducer>;
	consumeData(transport: Transport, options: types.DataConsumerOptions): Promise<DataConsumer>;
}

type Events = Omit<types.TransportEvents, '@close' | '@newproducer' | '@producerclose' | '@newdataproducer' | '@dataproducerclose' | '@listenserverclose' | 'listenererror'> &
	Record<string, unknown[]>;

/** mediasoup 3.27's `transport.type` for each kind of transport (3.14 has no such property; mafalda's transports have it with either). */
const TRANSPORT_TYPES = { 'webrtc-transport': 'webrtc', 'plain-transport': 'plain', 'pipe-transport': 'pipe', 'direct-transport': 'direct' } as const;

/** A mediasoup Transport living in a worker host thread. */
export class Transport extends RemoteObject<Events> {
	/** Producers, consumers and data objects made on this transport, by id. */
	readonly children = new Map<string, RemoteObject>();
	owner: TransportOwner | undefined;

	get sctpParameters(): types.SctpParameters | undefined {
		return this.field('sctpParameters');
	}
	get sctpState(): types.SctpState | undefined {
		return this.field('sctpState');
	}
	/** mediasoup 3.20 and later, once SCTP is connected; undefined with 3.14. */
	get sctpNegotiatedCapabilities(): SctpNegotiatedCapabilities | undefined {
		return this.field('sctpNegotiatedCapabilities');
	}
	get type(): (typeof TRANSPORT_TYPES)[keyof typeof TRANSPORT_TYPES] {
		return TRANSPORT_TYPES[this.remoteKind as keyof typeof TRANSPORT_TYPES];
	}

	/** Registers a child so that closing the transport closes it, as in mediasoup. */
	adopt(child: RemoteObject): void {
		child.listIn(this.children);
	}

	override markClosed(reason: ProxyCloseReason): boolean {
		if (!super.markClosed(reason)) return false;
		// A worker's death is passed down as it is: children still emit
		// 'transportclose' (their reasonEvent maps it), but their closeReason
		// stays 'workerdied', so the app can tell a crash from an ordinary close.
		const childReason = isWorkerLoss(reason) ? reason : 'transportclose';
		for (const child of [...this.children.values()]) child.markClosed(childReason);
		return true;
	}

	// As mediasoup's transports on close(), routerClosed() and listenServerClosed().
	protected override closedFields(): Snapshot {
		return this.sctpState ? { sctpState: 'closed' } : {};
	}

	protected override reasonEvent(reason: ProxyCloseReason): string | undefined {
		// A worker's death closes its routers; mediasoup tells a transport that as 'routerclose'.
		return isWorkerLoss(reason) ? 'routerclose' : super.reasonEvent(reason);
	}

	#owner(): TransportOwner {
		if (this.closed || !this.owner) throw this.ctx.mafaldaClosed() ? new MafaldaClosedError() : new TransportClosedError(this.id);
		return this.owner;
	}

	async produce(options: types.ProducerOptions): Promise<Producer> {
		return this.#owner().produce(this, options);
	}
	async consume(options: types.ConsumerOptions): Promise<Consumer> {
		return this.#owner().consume(this, options);
	}
	async produceData(options: types.DataProducerOptions = {}): Promise<DataProducer> {
		return this.#owner().produceData(this, options);
	}
	async consumeData(options: types.DataConsumerOptions): Promise<DataConsumer> {
		return this.#owner().consumeData(this, options);
	}

	async getStats(): Promise<unknown[]> {
		return (await this.call('getStats')) as unknown[];
	}
	async connect(params: Record<string, unknown>): Promise<void> {
		requireObject(params, 'params');
		await this.call('connect', params);
	}
	// mediasoup packs bitrates into 32 bits without checking them ('x' becomes 0): checked here.
	async setMaxIncomingBitrate(bitrate: number): Promise<void> {
		requireNumber(bitrate, 'bitrate', 0, 0xffffffff, true);
		await this.call('setMaxIncomingBitrate', bitrate);
	}
	async setMaxOutgoingBitrate(bitrate: number): Promise<void> {
		requireNumber(bitrate, 'bitrate', 0, 0xffffffff, true);
		await this.call('setMaxOutgoingBitrate', bitrate);
	}
	async setMinOutgoingBitrate(bitrate: number): Promise<void> {
		requireNumber(bitrate, 'bitrate', 0, 0xffffffff, true);
		await this.call('setMinOutgoingBitrate', bitrate);
	}
	async enableTraceEvent(types_: types.TransportTraceEventType[] = []): Promise<void> {
		await this.call('enableTraceEvent', types_);
	}
}
