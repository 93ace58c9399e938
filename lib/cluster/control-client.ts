import { EventEmitter } from 'eventemitter3';
import * as net from 'node:net';
import {
	type CloseReason,
	CONTROL_PROTOCOL_VERSION,
	type ControlMethod,
	type ControlResponse,
	type HostEvent,
	type Json,
	type NodeFrame,
	type NodeSummary,
} from '../../actors/protocol';
import { ClusterUnavailableError, fromRemote } from '../errors';
import { controllerProof, macMatches, newNonce, nodeProof } from './control-auth';
import { isNodeFrame } from './control-guards';
import { encodeFrame, FrameDecoder } from './frame-codec';

export interface ControlClientEvents {
	event: [worker: number, event: HostEvent];
	node: [NodeSummary];
	closing: [CloseReason];
	/** The connection is gone (the node closed it, died, or the network failed). */
	close: [reason: string];
}

interface Pending {
	resolve(value: unknown): void;
	reject(error: Error): void;
	timer: NodeJS.Timeout;
}

/**
 * A controller's end of the control channel to one node: authenticates with
 * the cluster secret (and checks the node's proof of it, so a stranger at the
 * node's address cannot impersonate it), then sends WorkerHostApi requests
 * and hands on what the node streams back.
 */
export class ControlClient extends EventEmitter<ControlClientEvents> {
	readonly #socket: net.Socket;
	readonly #pending = new Map<number, Pending>();
	#nextId = 1;
	#closed = false;
	/** Frames from the node that failed their checks (dropped). */
	badFrames = 0;

	private constructor(
		socket: net.Socket,
		readonly node: NodeSummary,
		private readonly requestTimeoutMs: number,
		decoder: FrameDecoder,
	) {
		super();
		this.#socket = socket;
		socket.on('data', (chunk) => {
			let frames: Json[];
			try {
				frames = decoder.push(chunk);
			} catch {
				this.#fail('the node sent a broken stream');
				return;
			}
			for (const frame of frames) this.#onFrame(frame);
		});
		socket.on('close', () => this.#fail(`connection to node ${node.nodeId} closed`));
		socket.on('error', (error) => this.#fail(`connection to node ${node.nodeId} failed: ${error.message}`));
	}

	static connect(
		host: string,
		port: number,
		options: { secret: string; controllerId: string; timeoutMs?: number; requestTimeoutMs?: number; expectNodeId?: string },
	): Promise<ControlClient> {
		const timeoutMs = options.timeoutMs ?? 5000;
		return new Promise((resolve, reject) => {
			const socket = net.connect({ host, port });
			socket.setNoDelay(true);
			const decoder = new FrameDecoder();
			const myNonce = newNonce();
			let nodeNonce: string | undefined;
			let nodeId: string | undefined;
			const fail = (message: string): void => {
				clearTimeout(timer);
				socket.removeAllListeners('data');
				socket.destroy();
				reject(new ClusterUnavailableError(`node at ${host}:${port}: ${message}`));
			};
			const timer = setTimeout(() => fail(`no handshake within ${timeoutMs} ms`), timeoutMs);
			socket.once('error', (error) => fail(error.message));
			socket.once('close', () => fail('closed during the handshake'));
			socket.on('data', (chunk) => {
				let frames: Json[];
				try {
					frames = decoder.push(chunk);
				} catch {
					return fail('broken stream during the handshake');
				}
				for (const frame of frames) {
					if (!isNodeFrame(frame)) return fail('unexpected frame during the handshake');
					if (frame.t === 'challenge' && nodeNonce === undefined) {
						if (frame.version !== CONTROL_PROTOCOL_VERSION) return fail(`speaks control protocol ${frame.version}, not ${CONTROL_PROTOCOL_VERSION}`);
						if (options.expectNodeId !== undefined && frame.nodeId !== options.expectNodeId) return fail(`is node ${frame.nodeId}, not ${options.expectNodeId}`);
						nodeNonce = frame.nonce;
						nodeId = frame.nodeId;
						socket.write(encodeFrame({ t: 'auth', controllerId: options.controllerId, nonce: myNonce, mac: controllerProof(options.secret, frame.nonce, myNonce, options.controllerId) }));
					} else if (frame.t === 'welcome' && nodeNonce !== undefined && nodeId !== undefined) {
						if (!macMatches(nodeProof(options.secret, myNonce, nodeNonce, nodeId), frame.mac) || frame.node.nodeId !== nodeId) {
							return fail('could not prove the cluster secret');
						}
						clearTimeout(timer);
						socket.removeAllListeners();
						const client = new ControlClient(socket, frame.node, options.requestTimeoutMs ?? 30_000, decoder);
						resolve(client);
						return;
					} else if (frame.t === 'rejected') {
						return fail(`refused the controller: ${frame.reason}`);
					} else return fail(`unexpected ${frame.t} during the handshake`);
				}
			});
		});
	}

	get closed(): boolean {
		return this.#closed;
	}

	request(worker: number, method: ControlMethod, args: unknown[]): Promise<unknown> {
		if (this.#closed) return Promise.reject(new ClusterUnavailableError(`node ${this.node.nodeId} is not connected`));
		const id = this.#nextId++;
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.#pending.delete(id);
				reject(new ClusterUnavailableError(`node ${this.node.nodeId} did not answer ${method} within ${this.requestTimeoutMs} ms`));
			}, this.requestTimeoutMs);
			this.#pending.set(id, { resolve, reject, timer });
			this.#socket.write(encodeFrame({ t: 'req', id, worker, method, args }));
		});
	}

	close(): void {
		if (this.#closed) return;
		this.#socket.end();
		setTimeout(() => this.#socket.destroy(), 500).unref();
		this.#fail('closed by the controller');
	}

	#onFrame(frame: unknown): void {
		if (!isNodeFrame(frame)) {
			this.badFrames++;
			return;
		}
		switch (frame.t) {
			case 'res':
				return this.#onResponse(frame);
			case 'event':
				this.emit('event', frame.worker, frame.event);
				return;
			case 'node':
				if (frame.node.nodeId === this.node.nodeId) this.emit('node', frame.node);
				return;
			case 'closing':
				this.emit('closing', frame.reason);
				return;
			default:
				// A second challenge or welcome, or a rejection notice: nothing to act on.
				return;
		}
	}

	#onResponse(frame: ControlResponse): void {
		const pending = this.#pending.get(frame.id);
		if (!pending) return;
		this.#pending.delete(frame.id);
		clearTimeout(pending.timer);
		if (frame.ok) pending.resolve(frame.value ?? undefined);
		else pending.reject(fromRemote(frame.error));
	}

	#fail(reason: string): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#socket.destroy();
		const error = new ClusterUnavailableError(reason);
		for (const pending of this.#pending.values()) {
			clearTimeout(pending.timer);
			pending.reject(error);
		}
		this.#pending.clear();
		this.emit('close', reason);
	}
}
