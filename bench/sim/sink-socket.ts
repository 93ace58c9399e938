import * as dgram from 'node:dgram';
import * as fs from 'node:fs';

/**
 * Where sink receivers' consumers send: a UDP socket that nobody reads. Node
 * starts reading a dgram socket as soon as it is bound, and reading is what
 * costs a Node receiver as much CPU per packet as the worker spends sending
 * it; so the socket's reading is stopped, its small queue fills, and the
 * kernel drops every later datagram on arrival (counted in /proc/net/udp).
 * What was delivered is counted from mediasoup's own counters instead
 * (bench/scenarios/sink-counts.ts), and the kernel's drop count is kept as a
 * cross-check that the packets really left the worker.
 */
export class SinkSocket {
	readonly port: number;
	#closed = false;

	private constructor(private readonly socket: dgram.Socket) {
		this.port = socket.address().port;
	}

	static async bind(host = '127.0.0.1'): Promise<SinkSocket> {
		const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 64 * 1024 });
		await new Promise<void>((resolve, reject) => {
			socket.once('error', reject);
			socket.bind(0, host, () => {
				socket.off('error', reject);
				resolve();
			});
		});
		// Errors on a socket nobody reads are of no interest; they must not crash the run.
		socket.on('error', () => undefined);
		stopReading(socket);
		return new SinkSocket(socket);
	}

	/** Datagrams the kernel dropped on this socket (its queue is full): every arrival after the first few. */
	kernelDrops(byPort = udpDropsByPort()): number | undefined {
		return byPort?.get(this.port);
	}

	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		await new Promise<void>((resolve) => this.socket.close(() => resolve()));
	}
}

/**
 * Stops libuv reading the socket. Node has no public call for it, so this
 * reaches its internal handle; if a Node version moves it, the bench fails
 * here loudly instead of silently reading (and paying for) every packet.
 */
function stopReading(socket: dgram.Socket): void {
	const state = Object.getOwnPropertySymbols(socket)
		.filter((s) => s.description === 'state symbol')
		.map((s) => (socket as unknown as Record<symbol, unknown>)[s])[0] as { handle?: { recvStop?: () => number }; receiving?: boolean } | undefined;
	const handle = state?.handle;
	if (!handle || typeof handle.recvStop !== 'function') throw new Error(`cannot stop reading a UDP socket on Node ${process.version}: sink receivers need it`);
	const rc = handle.recvStop();
	if (rc !== 0) throw new Error(`recvStop() failed with ${rc}`);
	if (state) state.receiving = false;
}

/** The `drops` column of /proc/net/udp for every socket bound to 127.0.0.1, by port (one read); undefined off Linux. */
export function udpDropsByPort(): Map<number, number> | undefined {
	let text: string;
	try {
		text = fs.readFileSync('/proc/net/udp', 'utf8');
	} catch {
		return undefined;
	}
	const drops = new Map<number, number>();
	for (const line of text.split('\n')) {
		const fields = line.trim().split(/\s+/);
		const local = fields[1];
		if (local?.startsWith('0100007F:')) drops.set(parseInt(local.slice(9), 16), Number(fields[fields.length - 1]));
	}
	return drops;
}
