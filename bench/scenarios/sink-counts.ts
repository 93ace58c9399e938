/**
 * How delivery to sink receivers is counted: from what mediasoup says it sent
 * them, checked against what the publishers sent. A sink receiver's socket is
 * never read (bench/sim/sink-socket.ts), so nothing on the receiving side can
 * count its packets; mediasoup can, and it is the SFU under test:
 *
 * - a consumer's getStats() holds its outbound-rtp `packetCount` (packets the
 *   worker sent on its transport) and, in the same reply, the inbound-rtp
 *   `packetCount` of the producer stream it forwards on that worker (the
 *   producer itself, or the pipe producer on a pipe-fed worker). Both are read
 *   at one instant, so "sent to this receiver / arrived for it on its worker"
 *   is exact whatever the timing of the reads;
 * - the ingress loss, packets the worker's socket dropped before mediasoup
 *   saw them, is the kernel's drop count at the publisher's transport socket,
 *   read with the origin producer's inbound-rtp `packetCount`
 *   (SimWorld.#streamWindows): a StreamWindow's `sent` is what the producer
 *   received plus those drops. Every consumer of the stream loses them too.
 *
 * So a sink consumer is expected to have sent what arrived for it, scaled up
 * by its stream's ingress loss; what it did not send is lost. A consumer
 * that sent nothing while its stream was sent lost all of it (silent).
 * Drops on a pipe between workers hit every consumer of that stream on the
 * fed worker alike; the measured receivers, spread over every worker, count
 * them from sequence gaps.
 */

export interface ConsumerSample {
	/** outbound-rtp packetCount: packets the worker sent to the receiver. */
	sent: number;
	/** inbound-rtp packetCount of the stream it forwards, on its worker; undefined if the reply had none. */
	arrived: number | undefined;
}

function statsOfType(stats: ReadonlyArray<unknown>, type: string): { packetCount: number } | undefined {
	for (const s of stats) {
		if (typeof s !== 'object' || s === null) continue;
		const fields = s as Record<string, unknown>;
		if (fields.type === type && typeof fields.packetCount === 'number') return { packetCount: fields.packetCount };
	}
	return undefined;
}

/** Reads a consumer's getStats() reply. */
export function consumerSample(stats: ReadonlyArray<unknown>): ConsumerSample {
	return { sent: statsOfType(stats, 'outbound-rtp')?.packetCount ?? 0, arrived: statsOfType(stats, 'inbound-rtp')?.packetCount };
}

/** Reads a producer's getStats() reply: packets it received (inbound-rtp packetCount; simulcast streams summed). */
export function producerReceived(stats: ReadonlyArray<unknown>): number {
	let n = 0;
	for (const s of stats) {
		if (typeof s !== 'object' || s === null) continue;
		const fields = s as Record<string, unknown>;
		if (fields.type === 'inbound-rtp' && typeof fields.packetCount === 'number') n += fields.packetCount;
	}
	return n;
}

/** One producer stream over a window: what reached the producer's socket (received + the kernel's drops there), what the origin producer received. */
export interface StreamWindow {
	sent: number;
	received: number;
}

export interface SinkConsumerWindow {
	producerId: string;
	before: ConsumerSample;
	after: ConsumerSample;
}

export interface SinkWindow {
	consumers: number;
	/** Packets the workers sent to sink receivers. */
	delivered: number;
	/** Packets sink receivers should have got and did not (ingress loss included). */
	lost: number;
	/** Consumers that sent nothing while their stream was sent. */
	silent: number;
	lossPct: number;
}

function pct(part: number, whole: number): number {
	return whole > 0 ? (100 * part) / whole : 0;
}

/** Ingress over every stream: packets that reached the origin producers' sockets, and those the producers received. */
export function ingressOf(streams: Iterable<StreamWindow>): StreamWindow & { lossPct: number } {
	let sent = 0;
	let received = 0;
	for (const s of streams) {
		sent += s.sent;
		received += s.received;
	}
	return { sent, received, lossPct: pct(Math.max(0, sent - received), sent) };
}

export function countSinkWindow(consumers: Iterable<SinkConsumerWindow>, streams: ReadonlyMap<string, StreamWindow>): SinkWindow {
	const out: SinkWindow = { consumers: 0, delivered: 0, lost: 0, silent: 0, lossPct: 0 };
	for (const c of consumers) {
		out.consumers++;
		const stream = streams.get(c.producerId);
		const sentByConsumer = Math.max(0, c.after.sent - c.before.sent);
		if (sentByConsumer === 0) {
			if (stream && stream.sent > 0) {
				out.silent++;
				out.lost += stream.sent;
			}
			continue;
		}
		const arrived = c.after.arrived !== undefined && c.before.arrived !== undefined ? c.after.arrived - c.before.arrived : sentByConsumer;
		// What reached the producer's socket over what it received: 1 when nothing was dropped on the way in.
		const ingress = stream && stream.received > 0 ? Math.max(1, stream.sent / stream.received) : 1;
		const expected = Math.max(sentByConsumer, arrived) * ingress;
		out.delivered += sentByConsumer;
		out.lost += expected - sentByConsumer;
	}
	out.lossPct = pct(out.lost, out.delivered + out.lost);
	return out;
}
