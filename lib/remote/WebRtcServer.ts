import { EventEmitter } from 'eventemitter3';
import type { types } from 'mediasoup';
import type { WorkerHandle } from '../../actors/supervisor/worker-handle';
import { MafaldaClosedError, ObjectClosedError, WebRtcServerListenError } from '../errors';
import { mergeWebRtcServerDumps } from '../mediasoup-compat';
import type { ResolvedWebRtcServerOptions } from '../options';
import type { AppData } from '../types';
import type { WebRtcTransport } from './WebRtcTransport';

export interface WebRtcServerEvents {
	workerclose: [];
	'@close': [];
}

export interface WebRtcServerObserverEvents {
	close: [];
	webrtctransporthandled: [WebRtcTransport];
	webrtctransportunhandled: [WebRtcTransport];
}

/**
 * A mediasoup WebRtcServer over every worker of a Mafalda: each worker runs
 * its own mediasoup WebRtcServer (a port per worker: the given port plus the
 * worker index, or its entry of `ports`), made when the worker starts, and a
 * WebRtcTransport using this server listens through the one of the worker it
 * is placed on.
 */
export class WebRtcServer extends EventEmitter<WebRtcServerEvents> {
	readonly id: string;
	appData: AppData;
	readonly observer = new EventEmitter<WebRtcServerObserverEvents>();
	#closed = false;
	/** Closed because its Mafalda closed: calls then fail as on a closed mediasoup Worker's server. */
	#closedByWorker = false;
	readonly #options: ResolvedWebRtcServerOptions;
	/** The workers whose own server runs (or is being made), by index. */
	readonly #opened = new Map<number, { handle: WorkerHandle; opening: Promise<void> }>();
	readonly #transports = new Map<string, WebRtcTransport>();

	/** @internal Use mafalda.createWebRtcServer(). */
	constructor(id: string, options: ResolvedWebRtcServerOptions) {
		super();
		this.id = id;
		this.#options = options;
		this.appData = options.appData;
	}

	get closed(): boolean {
		return this.#closed;
	}

	/** The WebRtcTransports listening through this server, as mediasoup's private getter. */
	get webRtcTransportsForTesting(): Map<string, WebRtcTransport> {
		return this.#transports;
	}

	/** Indices of the workers this server listens on. */
	workerIndices(): number[] {
		return [...this.#opened.entries()].filter(([, o]) => o.handle.alive).map(([index]) => index);
	}

	/** @internal What the server on a worker listens on. */
	listenInfosFor(workerIndex: number): Array<Record<string, unknown>> {
		return this.#options.listenInfosFor(workerIndex);
	}

	/** @internal Makes this worker's server (once, however many callers). */
	openOn(handle: WorkerHandle): Promise<void> {
		const existing = this.#opened.get(handle.index);
		if (existing?.handle === handle) return existing.opening;
		const listenInfos = this.listenInfosFor(handle.index);
		const opening = handle.call((host) => host.createWebRtcServer(this.id, { listenInfos })).then(
			() => {
				// Closed while it was being made: the server on that worker must go too.
				if (this.#closed) void handle.call((host) => host.closeWebRtcServer(this.id)).catch(() => undefined);
			},
			(error: Error) => {
				if (this.#opened.get(handle.index)?.opening === opening) this.#opened.delete(handle.index);
				throw new WebRtcServerListenError(handle.index, listenInfos as Array<{ protocol: string; ip: string; port?: number }>, error.message);
			},
		);
		this.#opened.set(handle.index, { handle, opening });
		return opening;
	}

	/** @internal Whether a transport placed on this worker can use the server. */
	runsOn(workerIndex: number): boolean {
		const opened = this.#opened.get(workerIndex);
		return opened !== undefined && opened.handle.alive;
	}

	/** @internal The worker died: its server went with it (a restarted worker makes a new one). */
	workerGone(workerIndex: number): void {
		this.#opened.delete(workerIndex);
	}

	/** @internal A WebRtcTransport was made through this server. */
	handleTransport(transport: WebRtcTransport): void {
		this.#transports.set(transport.id, transport);
		this.observer.emit('webrtctransporthandled', transport);
		transport.onClosed(() => {
			if (!this.#transports.delete(transport.id)) return;
			this.observer.emit('webrtctransportunhandled', transport);
		});
	}

	/** As mediasoup's: synchronous; every transport using the server closes with 'listenserverclose'. */
	close(): void {
		if (this.#closed) return;
		this.#closed = true;
		for (const { handle } of this.#opened.values()) {
			void handle.call((host) => host.closeWebRtcServer(this.id)).catch(() => undefined);
		}
		this.#opened.clear();
		for (const transport of [...this.#transports.values()]) transport.markClosed('listenserverclose');
		this.emit('@close');
		this.observer.emit('close');
	}

	/** @internal Its Mafalda closed, and every worker with it. */
	workerClosed(): void {
		if (this.#closed) return;
		this.#closed = true;
		this.#closedByWorker = true;
		this.#opened.clear();
		this.#transports.clear();
		this.emit('workerclose');
		this.observer.emit('close');
	}

	/**
	 * mediasoup's WebRtcServer dump, merged over the workers: this server's id,
	 * and the sockets, transports and ICE fragments of every worker's server.
	 */
	async dump(): Promise<types.WebRtcServerDump> {
		if (this.#closed) throw this.#closedByWorker ? new MafaldaClosedError() : new ObjectClosedError('webrtc-server', this.id);
		const dumps = await Promise.all(
			[...this.#opened.values()].map(async ({ handle, opening }) => {
				await opening;
				return (await handle.call((host) => host.dumpWebRtcServer(this.id))) as types.WebRtcServerDump;
			}),
		);
		return mergeWebRtcServerDumps(this.id, dumps);
	}
}
