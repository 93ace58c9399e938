import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { types } from 'mediasoup';
import { Mafalda, type MafaldaRouter, type PlainTransport } from '../../lib/index';
import type { MafaldaRouterOptions } from '../../lib/types';
import type { PublisherHandle, ReceiverHandle, SfuBackend, WorkerRow } from './backend';
import { MEDIA_CODECS, type StreamParameters } from './codecs';
import type { MediasoupModule } from './mediasoup-loader';
import { openPublisherTransport, openReceiverTransport } from './transport-like';

interface MafaldaReceiver extends ReceiverHandle {
	readonly transport: PlainTransport;
}

export interface MafaldaBackendOptions {
	/** Mafalda's numWorkers; default: its own (the CPU count). */
	numWorkers?: number;
	/** Overrides of createMafaldaRouter()'s options (watermarks); default: none, mafalda's defaults. */
	router?: Pick<MafaldaRouterOptions, 'maxConsumersPerWorker' | 'watermarkWorker' | 'maxWorkers'>;
}

/** mafalda, used the way an app uses it: one MafaldaRouter, transports created on it. */
export class MafaldaBackend implements SfuBackend {
	readonly name = 'mafalda' as const;
	readonly #consumers = new Map<number, number>();
	readonly #pipeConsumers = new Map<number, number>();

	private constructor(
		readonly mafalda: Mafalda,
		readonly router: MafaldaRouter,
		private readonly slotDir: string,
	) {
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
			return new MafaldaBackend(mafalda, router, slotDir);
		} catch (error) {
			await mafalda.close();
			fs.rmSync(slotDir, { recursive: true, force: true });
			throw error;
		}
	}

	get rtpCapabilities(): types.RtpCapabilities {
		return this.router.rtpCapabilities;
	}

	async addPublisher(senderPort: number, streams: StreamParameters[]): Promise<PublisherHandle> {
		const { transport, producerIds } = await openPublisherTransport(this.router, senderPort, streams);
		return { transportPort: transport.tuple.localPort, producerIds, workerIndex: (transport as PlainTransport).workerIndex };
	}

	async addReceiver(receiverPort: number): Promise<MafaldaReceiver> {
		const transport = (await openReceiverTransport(this.router, receiverPort)) as PlainTransport;
		return { transport, workerIndex: transport.workerIndex };
	}

	async consume(receiver: ReceiverHandle, producerIds: string[]): Promise<void> {
		const { transport } = receiver as MafaldaReceiver;
		for (const producerId of producerIds) {
			await transport.consume({ producerId, rtpCapabilities: this.rtpCapabilities });
			this.#consumers.set(transport.workerIndex, (this.#consumers.get(transport.workerIndex) ?? 0) + 1);
		}
	}

	async workers(): Promise<WorkerRow[]> {
		const shards = this.router.shards();
		return [...this.mafalda.workers.values()]
			.sort((a, b) => a.index - b.index)
			.map((w) => ({
				workerIndex: w.index,
				pid: w.pid,
				consumers: this.#consumers.get(w.index) ?? 0,
				pipeConsumers: this.#pipeConsumers.get(w.index) ?? 0,
				shards: shards.has(w.index) ? 1 : 0,
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
}
