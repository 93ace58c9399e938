import * as net from 'node:net';
import { CONTROL_PROTOCOL_VERSION, type ControlMethod, type Json, type NodeFrame, type NodeSummary } from '../../actors/protocol';
import { controllerProof, macMatches, newNonce, nodeProof } from './control-auth';
import { checkControllerFrame } from './control-guards';
import { encodeFrame, FrameDecoder, FrameError } from './frame-codec';

/** How long a connection may take to authenticate before the node drops it. */
const AUTH_TIMEOUT_MS = 5000;

/** One authenticated controller connection. */
export class ControlSession {
	controllerId = '';
	authenticated = false;
	constructor(
		readonly id: number,
		readonly socket: net.Socket,
	) {}

	send(frame: NodeFrame): void {
		if (this.socket.destroyed || !this.socket.writable) return;
		this.socket.write(encodeFrame(frame));
	}
}

export interface ControlServerHandler {
	readonly nodeId: string;
	welcome(): NodeSummary;
	request(session: ControlSession, worker: number, method: ControlMethod, args: Json[]): Promise<unknown>;
	sessionClosed(session: ControlSession): void;
}

/** What the node counts of what it refused (for tests, dumps and logs). */
export interface ControlServerStats {
	connections: number;
	authFailures: number;
	badFrames: number;
	requests: number;
	failedRequests: number;
}

/**
 * The node's end of the control channel: a TCP server that lets in only
 * controllers proving the cluster secret, then runs their WorkerHostApi
 * requests. Bad input is answered (a request with an id) or dropped with
 * the connection (a broken stream, a wrong proof), and counted; never thrown.
 */
export class ControlServer {
	readonly stats: ControlServerStats = { connections: 0, authFailures: 0, badFrames: 0, requests: 0, failedRequests: 0 };
	readonly #sessions = new Set<ControlSession>();
	readonly #server: net.Server;
	#nextSession = 1;

	constructor(
		private readonly secret: string,
		private readonly handler: ControlServerHandler,
	) {
		this.#server = net.createServer((socket) => this.#accept(socket));
		this.#server.on('error', () => undefined);
	}

	listen(host: string, port: number): Promise<{ host: string; port: number }> {
		return new Promise((resolve, reject) => {
			this.#server.once('error', reject);
			this.#server.listen(port, host, () => {
				this.#server.off('error', reject);
				const address = this.#server.address() as net.AddressInfo;
				resolve({ host, port: address.port });
			});
		});
	}

	sessions(): ControlSession[] {
		return [...this.#sessions].filter((s) => s.authenticated);
	}

	broadcast(frame: NodeFrame): void {
		if (this.#sessions.size === 0) return;
		const bytes = encodeFrame(frame);
		for (const session of this.#sessions) {
			if (session.authenticated && !session.socket.destroyed) session.socket.write(bytes);
		}
	}

	async close(): Promise<void> {
		for (const session of this.#sessions) session.socket.end();
		await new Promise<void>((resolve) => {
			const timer = setTimeout(() => {
				for (const session of this.#sessions) session.socket.destroy();
			}, 1000);
			this.#server.close(() => {
				clearTimeout(timer);
				resolve();
			});
		});
	}

	#accept(socket: net.Socket): void {
		this.stats.connections++;
		socket.setNoDelay(true);
		const session = new ControlSession(this.#nextSession++, socket);
		this.#sessions.add(session);
		const decoder = new FrameDecoder();
		const nonce = newNonce();
		const drop = (counter: 'authFailures' | 'badFrames', reason: string): void => {
			this.stats[counter]++;
			session.send({ t: 'rejected', reason });
			socket.end();
			setTimeout(() => socket.destroy(), 200).unref();
		};
		const authTimer = setTimeout(() => drop('authFailures', 'no authentication in time'), AUTH_TIMEOUT_MS);
		authTimer.unref();
		socket.on('data', (chunk) => {
			let frames: Json[];
			try {
				frames = decoder.push(chunk);
			} catch (error) {
				// A stream that is not frames cannot be resynchronised: drop it.
				drop('badFrames', error instanceof FrameError ? error.message : 'bad stream');
				return;
			}
			for (const raw of frames) {
				if (socket.destroyed) return;
				const checked = checkControllerFrame(raw);
				if ('problem' in checked) {
					if (!session.authenticated) return drop('authFailures', `before authentication: ${checked.problem}`);
					this.stats.badFrames++;
					if (checked.id !== undefined) {
						session.send({ t: 'res', id: checked.id, ok: false, error: { name: 'TypeError', message: checked.problem, code: 'ERR_MAFALDA_INVALID_ARGUMENT' } });
					} else session.send({ t: 'rejected', reason: checked.problem });
					continue;
				}
				const frame = checked.frame;
				if (frame.t === 'auth') {
					if (session.authenticated) {
						this.stats.badFrames++;
						continue;
					}
					if (!macMatches(controllerProof(this.secret, nonce, frame.nonce, frame.controllerId), frame.mac)) {
						return drop('authFailures', 'wrong cluster secret');
					}
					clearTimeout(authTimer);
					session.authenticated = true;
					session.controllerId = frame.controllerId;
					session.send({ t: 'welcome', mac: nodeProof(this.secret, frame.nonce, nonce, this.handler.nodeId), node: this.handler.welcome() });
					continue;
				}
				if (!session.authenticated) return drop('authFailures', 'request before authentication');
				this.stats.requests++;
				this.handler.request(session, frame.worker, frame.method, frame.args).then(
					(value) => session.send({ t: 'res', id: frame.id, ok: true, value: (value ?? null) as Json }),
					(error: unknown) => {
						this.stats.failedRequests++;
						const e = (error ?? {}) as { name?: unknown; message?: unknown; code?: unknown };
						session.send({
							t: 'res',
							id: frame.id,
							ok: false,
							error: {
								name: typeof e.name === 'string' ? e.name : 'Error',
								message: typeof e.message === 'string' ? e.message : String(error),
								...(typeof e.code === 'string' ? { code: e.code } : {}),
							},
						});
					},
				);
			}
		});
		socket.on('error', () => undefined);
		socket.on('close', () => {
			clearTimeout(authTimer);
			this.#sessions.delete(session);
			if (session.authenticated) this.handler.sessionClosed(session);
		});
		session.send({ t: 'challenge', nodeId: this.handler.nodeId, nonce, version: CONTROL_PROTOCOL_VERSION });
	}
}
