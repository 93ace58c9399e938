import type { types } from 'mediasoup';
import { PLAIN_TRANSPORT_OPTIONS, type StreamParameters } from './codecs';

/** Anything with mediasoup's getStats(): a Consumer or a Producer, mediasoup's or mafalda's. */
export interface StatsSource {
	getStats(): Promise<ReadonlyArray<unknown>>;
}

/**
 * What the benches use of a PlainTransport: a mediasoup one and a mafalda
 * PlainTransport both fit, so publishing and receiving are written once.
 */
export interface PlainTransportLike {
	readonly tuple: { localPort: number };
	connect(params: { ip: string; port: number }): Promise<void>;
	produce(options: types.ProducerOptions): Promise<{ id: string } & StatsSource>;
	consume(options: types.ConsumerOptions): Promise<{ id: string } & StatsSource>;
	close(): void;
}

export interface PlainTransportFactory {
	createPlainTransport(options: types.PlainTransportOptions): Promise<PlainTransportLike>;
}

/** A publisher's transport: connected to the sender's socket, so RTCP (PLI, receiver reports) goes back to it. */
export async function openPublisherTransport(
	router: PlainTransportFactory,
	senderPort: number,
	streams: StreamParameters[],
): Promise<{ transport: PlainTransportLike; producerIds: string[]; producers: StatsSource[] }> {
	const transport = await router.createPlainTransport(PLAIN_TRANSPORT_OPTIONS);
	await transport.connect({ ip: '127.0.0.1', port: senderPort });
	const producerIds: string[] = [];
	const producers: StatsSource[] = [];
	for (const stream of streams) {
		const producer = await transport.produce({ kind: stream.kind, rtpParameters: stream.rtpParameters });
		producerIds.push(producer.id);
		producers.push(producer);
	}
	return { transport, producerIds, producers };
}

/** A receiver's transport, placed by the backend; connected later, once the simulator knows where it sends. */
export async function openReceiverTransport(router: PlainTransportFactory): Promise<PlainTransportLike> {
	return router.createPlainTransport(PLAIN_TRANSPORT_OPTIONS);
}

export async function connectToLocalPort(transport: PlainTransportLike, port: number): Promise<void> {
	await transport.connect({ ip: '127.0.0.1', port });
}
