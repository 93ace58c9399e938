import type { types } from 'mediasoup';
import { PLAIN_TRANSPORT_OPTIONS, type StreamParameters } from './codecs';

/**
 * What the benches use of a PlainTransport: a mediasoup one and a mafalda
 * PlainTransport both fit, so publishing and receiving are written once.
 */
export interface PlainTransportLike {
	readonly tuple: { localPort: number };
	connect(params: { ip: string; port: number }): Promise<void>;
	produce(options: types.ProducerOptions): Promise<{ id: string }>;
	consume(options: types.ConsumerOptions): Promise<{ id: string }>;
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
): Promise<{ transport: PlainTransportLike; producerIds: string[] }> {
	const transport = await router.createPlainTransport(PLAIN_TRANSPORT_OPTIONS);
	await transport.connect({ ip: '127.0.0.1', port: senderPort });
	const producerIds: string[] = [];
	for (const stream of streams) producerIds.push((await transport.produce({ kind: stream.kind, rtpParameters: stream.rtpParameters })).id);
	return { transport, producerIds };
}

export async function openReceiverTransport(router: PlainTransportFactory, receiverPort: number): Promise<PlainTransportLike> {
	const transport = await router.createPlainTransport(PLAIN_TRANSPORT_OPTIONS);
	await transport.connect({ ip: '127.0.0.1', port: receiverPort });
	return transport;
}
