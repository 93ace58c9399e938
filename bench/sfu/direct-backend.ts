import type { types } from 'mediasoup';
import type { BackendName, PublisherHandle, ReceiverHandle, SfuBackend, WorkerRow } from './backend';
import { MEDIA_CODECS, type StreamParameters } from './codecs';
import type { MediasoupModule } from './mediasoup-loader';
import { connectToLocalPort, openPublisherTransport, openReceiverTransport, type PlainTransportLike } from './transport-like';

interface DirectReceiver extends ReceiverHandle {
	routerIndex: number;
	/** Still counted as one reserved unit of load (least-loaded) until its first consumer. */
	reserved: boolean;
}

/**
 * How a pool picks the router of a new transport: in turn (what most apps
 * write), or the worker with the fewest consumers (bbb-webrtc-sfu's fix).
 */
export type PoolPlacement = 'round-robin' | 'least-loaded';

/**
 * mediasoup as its users drive it today, without mafalda. With one worker it
 * is the plain baseline: one Router on one Worker. With several it is the
 * usual hand-written pool: one Router per Worker, each new transport on the
 * next router in turn or on the least loaded one, and each producer piped
 * with router.pipeToRouter() to a router the first time a consumer there
 * needs it. Rooms share the pool's routers.
 */
export class DirectBackend implements SfuBackend {
	readonly #workers: types.Worker[];
	readonly #routers: types.Router[];
	readonly #placement: PoolPlacement;
	#next = 0;
	/** Producer id -> index of the router it was produced on. */
	readonly #origins = new Map<string, number>();
	/** `${producerId}@${routerIndex}` -> the pipe to that router, opening or open. */
	readonly #pipes = new Map<string, Promise<void>>();
	readonly #consumers: number[];
	readonly #pipeConsumers: number[];
	/** Transports placed that have no consumer yet, per router. */
	readonly #reserved: number[];

	private constructor(
		readonly name: BackendName,
		workers: types.Worker[],
		routers: types.Router[],
		placement: PoolPlacement,
	) {
		this.#workers = workers;
		this.#routers = routers;
		this.#placement = placement;
		this.#consumers = routers.map(() => 0);
		this.#pipeConsumers = routers.map(() => 0);
		this.#reserved = routers.map(() => 0);
	}

	static async start(mediasoup: MediasoupModule, name: BackendName, numWorkers: number, placement: PoolPlacement = 'round-robin'): Promise<DirectBackend> {
		const workers = await Promise.all(Array.from({ length: numWorkers }, () => mediasoup.createWorker({ logLevel: 'error' })));
		const routers = await Promise.all(workers.map((w) => w.createRouter({ mediaCodecs: MEDIA_CODECS })));
		return new DirectBackend(name, workers, routers, placement);
	}

	get rtpCapabilities(): types.RtpCapabilities {
		return this.#routers[0].rtpCapabilities;
	}

	/** The routers, for benches that call mediasoup directly. */
	get routers(): readonly types.Router[] {
		return this.#routers;
	}

	async addPublisher(_room: string, senderPort: number, streams: StreamParameters[]): Promise<PublisherHandle> {
		const routerIndex = this.#take();
		const { transport, producerIds, producers } = await openPublisherTransport(this.#routers[routerIndex], senderPort, streams);
		for (const id of producerIds) this.#origins.set(id, routerIndex);
		return { transportPort: transport.tuple.localPort, producerIds, producers, workerIndex: routerIndex };
	}

	async addReceiver(_room: string): Promise<DirectReceiver> {
		const routerIndex = this.#take();
		this.#reserved[routerIndex]++;
		try {
			const transport: PlainTransportLike = await openReceiverTransport(this.#routers[routerIndex]);
			return { transport, routerIndex, workerIndex: routerIndex, consumers: [], reserved: true };
		} catch (error) {
			this.#reserved[routerIndex]--;
			throw error;
		}
	}

	async connectReceiver(receiver: ReceiverHandle, port: number): Promise<void> {
		await connectToLocalPort(receiver.transport, port);
	}

	async consume(receiver: ReceiverHandle, producerIds: string[]): Promise<void> {
		const r = receiver as DirectReceiver;
		for (const producerId of producerIds) {
			await this.#ensurePiped(producerId, r.routerIndex);
			const consumer = await r.transport.consume({ producerId, rtpCapabilities: (r.peerRtpCapabilities ??= this.rtpCapabilities) });
			r.consumers.push({ producerId, stats: consumer });
			this.#consumers[r.routerIndex]++;
			if (r.reserved) {
				r.reserved = false;
				this.#reserved[r.routerIndex]--;
			}
		}
	}

	closeReceiver(receiver: ReceiverHandle): void {
		const r = receiver as DirectReceiver;
		r.transport.close();
		this.#consumers[r.routerIndex] -= r.consumers.length;
		if (r.reserved) this.#reserved[r.routerIndex]--;
		r.reserved = false;
		r.consumers.length = 0;
	}

	async workers(): Promise<WorkerRow[]> {
		return this.#workers.map((w, i) => ({
			workerIndex: i,
			pid: w.pid,
			consumers: this.#consumers[i],
			pipeConsumers: this.#pipeConsumers[i],
			shards: 1,
		}));
	}

	async workerCpuMs(): Promise<Map<number, number>> {
		const usages = await Promise.all(this.#workers.map((w) => w.getResourceUsage()));
		return new Map(usages.map((u, i) => [i, u.ru_utime + u.ru_stime]));
	}

	async close(): Promise<void> {
		for (const w of this.#workers) w.close();
	}

	#take(): number {
		if (this.#placement === 'least-loaded') {
			let best = 0;
			for (let i = 1; i < this.#routers.length; i++) if (this.#load(i) < this.#load(best)) best = i;
			return best;
		}
		const index = this.#next % this.#routers.length;
		this.#next++;
		return index;
	}

	#load(routerIndex: number): number {
		return this.#consumers[routerIndex] + this.#pipeConsumers[routerIndex] + this.#reserved[routerIndex];
	}

	async #ensurePiped(producerId: string, routerIndex: number): Promise<void> {
		const origin = this.#origins.get(producerId);
		if (origin === undefined) throw new Error(`unknown producer ${producerId}`);
		if (origin === routerIndex) return;
		const key = `${producerId}@${routerIndex}`;
		let pipe = this.#pipes.get(key);
		if (!pipe) {
			pipe = this.#routers[origin].pipeToRouter({ producerId, router: this.#routers[routerIndex] }).then(() => {
				this.#pipeConsumers[origin]++;
			});
			this.#pipes.set(key, pipe);
		}
		await pipe;
	}
}
