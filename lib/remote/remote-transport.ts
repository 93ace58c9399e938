import type { types } from 'mediasoup';
import { TransportClosedError } from '../errors';
import { requireBuffer, requireNumber, requireObject } from '../validate';
import type { RemoteConsumer } from './remote-consumer';
import type { RemoteDataConsumer, RemoteDataProducer } from './remote-data';
import { type ProxyCloseReason, RemoteObject } from './remote-object';
import type { RemoteProducer } from './remote-producer';

/**
 * What a transport asks of its MafaldaRouter: producing and consuming involve
 * more than one shard (a consumer's producer may live on another worker), so
 * the router does them.
 */
export interface TransportOwner {
	produce(transport: RemoteTransport, options: types.ProducerOptions): Promise<RemoteProducer>;
	consume(transport: RemoteTransport, options: types.ConsumerOptions): Promise<RemoteConsumer>;
	produceData(transport: RemoteTransport, options: types.DataProducerOptions): Promise<RemoteDataProducer>;
	consumeData(transport: RemoteTransport, options: types.DataConsumerOptions): Promise<RemoteDataConsumer>;
}

type Events = Omit<types.TransportEvents, '@close' | '@newproducer' | '@producerclose' | '@newdataproducer' | '@dataproducerclose' | '@listenserverclose' | 'listenererror'> &
	Record<string, unknown[]>;

/** A mediasoup Transport living in a worker host thread. */
export class RemoteTransport extends RemoteObject<Events> {
	/** Producers, consumers and data objects made on this transport, by id. */
	readonly children = new Map<string, RemoteObject>();
	owner: TransportOwner | undefined;

	get sctpParameters(): types.SctpParameters | undefined {
		return this.field('sctpParameters');
	}
	get sctpState(): types.SctpState | undefined {
		return this.field('sctpState');
	}

	/** Registers a child so that closing the transport closes it, as in mediasoup. */
	adopt(child: RemoteObject): void {
		this.children.set(child.id, child);
		child.onClosed(() => this.children.delete(child.id));
	}

	override markClosed(reason: ProxyCloseReason): boolean {
		if (!super.markClosed(reason)) return false;
		// A worker's death is passed down as it is: children still emit
		// 'transportclose' (their reasonEvent maps it), but their closeReason
		// stays 'workerdied', so the app can tell a crash from an ordinary close.
		const childReason = reason === 'workerdied' ? 'workerdied' : 'transportclose';
		for (const child of [...this.children.values()]) child.markClosed(childReason);
		return true;
	}

	protected override reasonEvent(reason: ProxyCloseReason): string | undefined {
		// A worker's death closes its routers; mediasoup tells a transport that as 'routerclose'.
		return reason === 'workerdied' ? 'routerclose' : super.reasonEvent(reason);
	}

	#owner(): TransportOwner {
		if (this.closed || !this.owner) throw new TransportClosedError(this.id);
		return this.owner;
	}

	async produce(options: types.ProducerOptions): Promise<RemoteProducer> {
		return this.#owner().produce(this, options);
	}
	async consume(options: types.ConsumerOptions): Promise<RemoteConsumer> {
		return this.#owner().consume(this, options);
	}
	async produceData(options: types.DataProducerOptions = {}): Promise<RemoteDataProducer> {
		return this.#owner().produceData(this, options);
	}
	async consumeData(options: types.DataConsumerOptions): Promise<RemoteDataConsumer> {
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

export class RemoteWebRtcTransport extends RemoteTransport {
	get iceRole(): 'controlled' {
		return this.field('iceRole');
	}
	get iceParameters(): types.IceParameters {
		return this.field('iceParameters');
	}
	get iceCandidates(): types.IceCandidate[] {
		return this.field('iceCandidates');
	}
	get iceState(): types.IceState {
		return this.field('iceState');
	}
	get iceSelectedTuple(): types.TransportTuple | undefined {
		return this.field('iceSelectedTuple');
	}
	get dtlsParameters(): types.DtlsParameters {
		return this.field('dtlsParameters');
	}
	get dtlsState(): types.DtlsState {
		return this.field('dtlsState');
	}
	get dtlsRemoteCert(): string | undefined {
		return this.field('dtlsRemoteCert');
	}
	async restartIce(): Promise<types.IceParameters> {
		return (await this.call('restartIce')) as types.IceParameters;
	}
}

export class RemotePlainTransport extends RemoteTransport {
	get tuple(): types.TransportTuple {
		return this.field('tuple');
	}
	get rtcpTuple(): types.TransportTuple | undefined {
		return this.field('rtcpTuple');
	}
	get srtpParameters(): types.SrtpParameters | undefined {
		return this.field('srtpParameters');
	}
}

export class RemotePipeTransport extends RemoteTransport {
	get tuple(): types.TransportTuple {
		return this.field('tuple');
	}
	get srtpParameters(): types.SrtpParameters | undefined {
		return this.field('srtpParameters');
	}
}

export class RemoteDirectTransport extends RemoteTransport {
	sendRtcp(rtcpPacket: Buffer): void {
		// Checked here: the call runs in the background, so its error would reach nobody.
		requireBuffer(rtcpPacket, 'rtcpPacket');
		this.notify('sendRtcp', rtcpPacket);
	}
}
