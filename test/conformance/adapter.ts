// A Worker-level bridge from mediasoup's API to mafalda, so that mediasoup's own
// test suites can run through MafaldaRouter. Each adapter Worker is one Mafalda
// (WORKERS_PER_MAFALDA mediasoup Workers); its createRouter() is
// createMafaldaRouter(). Everything a Router does, and everything below it, is
// mafalda's own: nothing Router-level is emulated here.
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as Mediasoup from 'mediasoup';
import { Mafalda, MafaldaClosedError, type MafaldaRouter, type WebRtcServer, type WebRtcServerOptions } from '../../lib';
import { MAX_CONSUMERS_PER_WORKER, WORKERS_PER_MAFALDA } from './suites';

type MediasoupModule = typeof Mediasoup;

export class AdapterWorker extends EventEmitter {
	readonly observer = new EventEmitter();
	readonly mafalda: Mafalda;
	appData: Record<string, unknown>;
	closed = false;
	died = false;
	subprocessClosed = false;
	readonly #routers = new Set<MafaldaRouter>();
	readonly #slotDir: string;

	constructor(mediasoup: MediasoupModule, appData: Record<string, unknown> | undefined) {
		super();
		// Each adapter Worker stands for a whole machine's share: its own CPU slot
		// folder, so that the two Workers of the PipeTransport suite can both run
		// WORKERS_PER_MAFALDA mediasoup Workers on a 2-core machine.
		this.#slotDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mafalda-conformance-slots-'));
		this.mafalda = new Mafalda(mediasoup, { numWorkers: WORKERS_PER_MAFALDA, cpuSlotDir: this.#slotDir });
		this.appData = appData ?? {};
	}

	/** mediasoup's worker.pid: this process, whose threads drive the Mafalda's workers. */
	get pid(): number {
		return process.pid;
	}

	/** mediasoup's private worker.routersForTesting. */
	get routersForTesting(): Set<MafaldaRouter> {
		return this.#routers;
	}

	async createRouter(options: Mediasoup.types.RouterOptions = {}): Promise<MafaldaRouter> {
		// mediasoup's error for a closed Worker, whichever its version (InvalidStateError, WorkerClosedError).
		if (this.closed) throw new MafaldaClosedError();
		const { mediaCodecs, appData } = options;
		const router = await this.mafalda.createMafaldaRouter({
			routerOptions: { mediaCodecs },
			appData,
			maxConsumersPerWorker: MAX_CONSUMERS_PER_WORKER,
		});
		this.#routers.add(router);
		router.observer.once('close', () => this.#routers.delete(router));
		this.observer.emit('newrouter', router);
		return router;
	}

	/** mediasoup's worker.createWebRtcServer(): the Mafalda's, one mediasoup WebRtcServer per worker. */
	async createWebRtcServer(options: WebRtcServerOptions): Promise<WebRtcServer> {
		// mediasoup's error for a closed Worker, whichever its version (InvalidStateError, WorkerClosedError).
		if (this.closed) throw new MafaldaClosedError();
		const server = await this.mafalda.createWebRtcServer(options);
		this.observer.emit('newwebrtcserver', server);
		return server;
	}

	/** mediasoup's private worker.webRtcServersForTesting. */
	get webRtcServersForTesting(): Map<string, WebRtcServer> {
		return this.mafalda.webRtcServers;
	}

	async dump(): Promise<Record<string, unknown>> {
		const routerIds = [...this.#routers].map((r) => r.id);
		const webRtcServerIds = [...this.mafalda.webRtcServers.keys()];
		return {
			pid: this.pid,
			webRtcServerIds,
			routerIds,
			channelMessageHandlers: { channelRequestHandlers: [...webRtcServerIds, ...routerIds], channelNotificationHandlers: [] },
		};
	}

	close(): void {
		if (this.closed) return;
		this.closed = true;
		// mafalda.close() closes every MafaldaRouter synchronously first (they emit
		// 'workerclose'), then stops its threads and mediasoup Workers.
		const closing = this.mafalda.close();
		this.observer.emit('close');
		void closing
			.catch(() => undefined)
			.finally(() => {
				fs.rmSync(this.#slotDir, { recursive: true, force: true });
				this.subprocessClosed = true;
				this.emit('subprocessclose');
			});
	}
}

/**
 * A module with mediasoup's API whose Workers are Mafalda instances. Everything
 * else at module level is the mediasoup module's own (3.14's suites read
 * `types.*` at run time, 3.27's `errors` come from its own file).
 */
export function mafaldaAsMediasoup(mediasoup: MediasoupModule): Pick<MediasoupModule, 'version'> & {
	createWorker(settings?: { appData?: Record<string, unknown> }): Promise<AdapterWorker>;
	/** Workers still open (the test file closes them when it ends). */
	readonly openWorkers: Set<AdapterWorker>;
} {
	const openWorkers = new Set<AdapterWorker>();
	return {
		...mediasoup,
		version: mediasoup.version,
		openWorkers,
		async createWorker(settings = {}) {
			const worker = new AdapterWorker(mediasoup, settings.appData);
			openWorkers.add(worker);
			worker.once('subprocessclose', () => openWorkers.delete(worker));
			return worker;
		},
	};
}
