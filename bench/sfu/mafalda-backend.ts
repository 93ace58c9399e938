import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { types } from 'mediasoup';
import { Mafalda, type MafaldaRouter, type PlainTransport } from '../../lib/index';
import type { MafaldaRouterOptions } from '../../lib/types';
import type { PublisherHandle, ReceiverHandle, SfuBackend, WorkerRow } from './backend';
import { MEDIA_CODECS, type StreamParameters } from './codecs';
import type { MediasoupModule } from './mediasoup-loader';
import { connectToLocalPort, openPublisherTransport, openReceiverTransport } from './transport-like';

interface MafaldaReceiver extends ReceiverHandle {
	readonly transport: PlainTransport;
}

export interface MafaldaBackendOptions {
	/** Mafalda's numWorkers; default: its own (the CPU count). */
	numWorkers?: number;
	/** Overrides of createMafaldaRouter()'s options (watermarks); default: none, mafalda's defaults. */
	router?: Pick<MafaldaRouterOptions, 'maxConsumersPerWorker' | 'watermarkWorker' | 'maxWorkers'>;
}

/** The room benches use when they have only one. */
export const MAIN_ROOM = 'main';

/**
 * mafalda, used the way an app uses it: one MafaldaRouter per room (as an app
 * opens one mediasoup Router per room), transports created on it.
 */
export class MafaldaBackend implements SfuBackend {
	readonly name = 'mafalda' as const;
	readonly #consumers = new Map<number, number>();
	readonly #pipeConsumers = new Map<number, number>();
	readonly #rooms = new Map<string, Promise<MafaldaRouter>>();

	private constructor(
		readonly mafalda: Mafalda,
		/** The main room's router, for benches that drive one router. */
		readonly router: MafaldaRouter,
		private readonly slotDir: string,
		private readonly routerOptions: MafaldaBackendOptions['router'],
	) {
		this.#rooms.set(MAIN_ROOM, Promise.resolve(router));
		// Public events, so the bench counts pipes without reaching into mafalda.
		mafalda.on('pipeopened', (p) => this.#pipeConsumers.set(p.fromWorker, (this.#pipeConsumers.get(p.fromWorker) ?? 0) + 1));
		mafalda.on('pipeclosed', (p) => this.#pipeConsumers.set(p.fromWorker, (this.#pipeConsumers.get(p.fromWorker) ?? 1) - 1));
	}

	static async start(mediasoup: MediasoupModule, options: MafaldaBackendOptions = {}): Promise<MafaldaBackend> {
		// A private CPU slot folder: a test suite running at the same time on
		// this machine would otherwise hold slots and leave the bench fewer workers.
		const slotDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mafalda-bench-slots-'));
		const mafalda = new Mafalda(mediasoup, { cpuSlotDir: slotDir, ...(options.numWorkers ? { numWorkers: options.numWorkers } : {}) });
		try {
			const router = await mafalda.createMafaldaRouter({ routerOptions: { mediaCodecs: MEDIA_CODECS }, ...options.router });
			return new MafaldaBackend(mafalda, router, slotDir, options.router);
		} catch (error) {
			await mafalda.close();
			fs.rmSync(slotDir, { recursive: true, force: true });
			throw error;
		}
	}

	get rtpCapabilities(): types.RtpCapabilities {
		return this.router.rtpCapabilities;
	}

	async addPublisher(room: string, senderPort: number, streams: StreamParameters[]): Promise<PublisherHandle> {
		const { transport, producerIds, producers } = await openPublisherTransport(await this.#room(room), senderPort, streams);
		return { transportPort: transport.tuple.localPort, producerIds, producers, workerIndex: (transport as PlainTransport).workerIndex };
	}

	async addReceiver(room: string): Promise<MafaldaReceiver> {
		const transport = (await openReceiverTransport(await this.#room(room))) as PlainTransport;
		return { transport, workerIndex: transport.workerIndex, consumers: [] };
	}

	async connectReceiver(receiver: ReceiverHandle, port: number): Promise<void> {
		await connectToLocalPort(receiver.transport, port);
	}

	async consume(receiver: ReceiverHandle, producerIds: string[]): Promise<void> {
		const { transport, consumers } = receiver as MafaldaReceiver;
		for (const producerId of producerIds) {
			const consumer = await transport.consume({ producerId, rtpCapabilities: (receiver.peerRtpCapabilities ??= this.rtpCapabilities) });
			consumers.push({ producerId, stats: consumer });
			this.#consumers.set(transport.workerIndex, (this.#consumers.get(transport.workerIndex) ?? 0) + 1);
		}
	}

	closeReceiver(receiver: ReceiverHandle): void {
		const { transport, consumers } = receiver as MafaldaReceiver;
		transport.close();
		this.#consumers.set(transport.workerIndex, (this.#consumers.get(transport.workerIndex) ?? 0) - consumers.length);
		consumers.length = 0;
	}

	async workers(): Promise<WorkerRow[]> {
		const shardWorkers = new Map<number, number>();
		for (const room of this.#rooms.values()) {
			const router = await room;
			for (const w of router.shards().keys()) shardWorkers.set(w, (shardWorkers.get(w) ?? 0) + 1);
		}
		return [...this.mafalda.workers.values()]
			.sort((a, b) => a.index - b.index)
			.map((w) => ({
				workerIndex: w.index,
				pid: w.pid,
				consumers: this.#consumers.get(w.index) ?? 0,
				pipeConsumers: this.#pipeConsumers.get(w.index) ?? 0,
				shards: shardWorkers.get(w.index) ?? 0,
			}));
	}

	async workerCpuMs(): Promise<Map<number, number>> {
		const workers = [...this.mafalda.workers.values()];
		const usages = await Promise.all(workers.map((w) => w.getResourceUsage()));
		return new Map(usages.map((u, i) => [workers[i].index, u.ru_utime + u.ru_stime]));
	}

	async close(): Promise<void> {
		await this.mafalda.close();
		fs.rmSync(this.slotDir, { recursive: true, force: true });
	}

	#room(room: string): Promise<MafaldaRouter> {
		let router = this.#rooms.get(room);
		if (!router) {
			router = this.mafalda.createMafaldaRouter({ routerOptions: { mediaCodecs: MEDIA_CODECS }, ...this.routerOptions });
			this.#rooms.set(room, router);
		}
		return router;
	}
}
