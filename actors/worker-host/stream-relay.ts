import type { types } from 'mediasoup';

/** RTCP payload-specific feedback (RFC 4585): PLI is its FMT 1, FIR (RFC 5104) its FMT 4. */
const RTCP_PSFB = 206;
const FMT_PLI = 1;
const FMT_FIR = 4;

interface RelayedStream {
	/** The relay producer's SSRC for this encoding (what its consumers were made for). */
	readonly ssrc: number;
	/** The last sequence number sent into the relay producer. */
	lastSeq: number | undefined;
	/** Added to the current feeder's sequence numbers; undefined until its first packet. */
	offset: number | undefined;
}

/**
 * A producer that outlives the pipe feeding it. A mediasoup consumer is bound
 * to its producer, and a PipeTransport takes RTP only from the tuple it was
 * connected to, once: the consumers of a pipe producer die with its pipe. So
 * the stream of a pipe producer is consumed (every encoding, as a pipe
 * consumer does) on a DirectTransport of the same router and sent again into a
 * producer of that transport, which the app's consumers use. When the pipe
 * dies (the relay upstream of it died, or the link to it), the controller
 * opens another pipe and `feed()` swaps its producer in: the consumers keep
 * their producer, ids and SSRCs; sequence numbers go on where they stopped.
 *
 * The price: every packet crosses from the mediasoup worker into this thread
 * and back (bench/README.md, "cluster-faults", has the CPU per packet).
 */
export class StreamRelay {
	#feeder: types.Consumer | undefined;
	/** Feeder SSRC -> the relayed stream of that encoding. */
	#byFeederSsrc = new Map<number, RelayedStream>();
	readonly #streams: RelayedStream[];

	private constructor(
		private readonly router: types.Router,
		private readonly transport: types.DirectTransport,
		readonly producer: types.Producer,
	) {
		this.#streams = producer.rtpParameters.encodings!.map((e) => ({ ssrc: e.ssrc!, lastSeq: undefined, offset: undefined }));
		// What the relay producer's consumers ask for (a key frame) is asked of the current feeder.
		transport.on('rtcp', (packet: Buffer) => {
			if (asksKeyFrame(packet)) void this.#feeder?.requestKeyFrame().catch(() => undefined);
		});
		producer.observer.once('close', () => transport.close());
	}

	get transportId(): string {
		return this.transport.id;
	}

	/** Makes relay producer `id` on `router`, fed by `sourceProducerId` (a producer of the same router). */
	static async open(router: types.Router, sourceProducerId: string, id: string): Promise<StreamRelay> {
		const transport = await router.createDirectTransport();
		try {
			const feeder = await consumeAll(router, transport, sourceProducerId);
			let producer: types.Producer;
			try {
				producer = await transport.produce({ id, kind: feeder.kind, rtpParameters: feeder.rtpParameters, paused: feeder.producerPaused });
			} catch (error) {
				feeder.close();
				throw error;
			}
			const relay = new StreamRelay(router, transport, producer);
			relay.#attach(feeder);
			return relay;
		} catch (error) {
			transport.close();
			throw error;
		}
	}

	/** Feeds the relay producer from `sourceProducerId` from now on (the previous feeder is closed). */
	async feed(sourceProducerId: string): Promise<void> {
		const feeder = await consumeAll(this.router, this.transport, sourceProducerId);
		if (feeder.kind !== this.producer.kind || feeder.rtpParameters.encodings!.length !== this.#streams.length) {
			feeder.close();
			throw new TypeError(`producer ${sourceProducerId} is not the stream relay ${this.producer.id} carries (kind or encodings differ)`);
		}
		const previous = this.#feeder;
		this.#attach(feeder);
		previous?.close();
		if (feeder.producerPaused !== this.producer.paused) await (feeder.producerPaused ? this.producer.pause() : this.producer.resume());
		// The pipe consumer upstream asked for one when it was made; the app's consumers need it at once.
		await feeder.requestKeyFrame().catch(() => undefined);
	}

	#attach(feeder: types.Consumer): void {
		this.#feeder = feeder;
		this.#byFeederSsrc = new Map(feeder.rtpParameters.encodings!.map((e, i) => [e.ssrc!, this.#streams[i]]));
		for (const stream of this.#streams) stream.offset = undefined;
		feeder.on('rtp', (packet: Buffer) => {
			if (this.#feeder === feeder) this.#forward(packet);
		});
		// The pipe producer pauses when the producer does (lib/pipe-manager.ts): so does the relay.
		feeder.on('producerpause', () => {
			if (this.#feeder === feeder) void this.producer.pause().catch(() => undefined);
		});
		feeder.on('producerresume', () => {
			if (this.#feeder === feeder) void this.producer.resume().catch(() => undefined);
		});
	}

	#forward(packet: Buffer): void {
		if (packet.length < 12 || this.producer.closed) return;
		const stream = this.#byFeederSsrc.get(packet.readUInt32BE(8));
		if (!stream) return;
		const seq = packet.readUInt16BE(2);
		// A new feeder numbers its packets from wherever its pipe consumer started:
		// carry on from the last number sent, so the relay producer sees no jump
		// (a jump of more than 3000 makes mediasoup drop the packet that made it).
		stream.offset ??= stream.lastSeq === undefined ? 0 : (stream.lastSeq + 1 - seq) & 0xffff;
		const out = (seq + stream.offset) & 0xffff;
		if (stream.lastSeq === undefined || ((out - stream.lastSeq) & 0xffff) < 0x8000) stream.lastSeq = out;
		if (stream.offset !== 0) packet.writeUInt16BE(out, 2);
		if (packet.readUInt32BE(8) !== stream.ssrc) packet.writeUInt32BE(stream.ssrc, 8);
		this.producer.send(packet);
	}
}

/** A consumer of every encoding of the producer, as a pipe consumer (no RTX: the pipes carry none either). */
function consumeAll(router: types.Router, transport: types.DirectTransport, producerId: string): Promise<types.Consumer> {
	return transport.consume({ producerId, rtpCapabilities: router.rtpCapabilities, pipe: true, enableRtx: false } as types.ConsumerOptions);
}

/** Whether a (compound) RTCP packet holds a PLI or a FIR. */
function asksKeyFrame(packet: Buffer): boolean {
	for (let at = 0; at + 4 <= packet.length; ) {
		const fmt = packet[at] & 0x1f;
		const type = packet[at + 1];
		if (type === RTCP_PSFB && (fmt === FMT_PLI || fmt === FMT_FIR)) return true;
		at += (packet.readUInt16BE(at + 2) + 1) * 4;
	}
	return false;
}
