import { EventEmitter } from 'eventemitter3';
import type { types } from 'mediasoup';
import type { Router } from './remote/Router';
import type { RtpObserver } from './remote/RtpObserver';
import type { Transport } from './remote/Transport';
import type { Worker } from './remote/Worker';

/**
 * Mafalda's Common API: the same collections and stats at three levels, over
 * everything (the package), one Mafalda instance, or one MafaldaRouter. A
 * child level forwards each addition to its parent, so every object is in the
 * collections of each level that contains it, and leaves them when it closes.
 */
export class CommonApi {
	readonly routers = new Map<string, Router>();
	readonly rtpObservers = new Map<string, RtpObserver>();
	readonly transports = new Map<string, Transport>();
	readonly workers = new Map<string, Worker>();

	constructor(private readonly parent?: CommonApi) {}

	addRouter(router: Router): void {
		this.routers.set(router.id, router);
		router.onClosed(() => this.routers.delete(router.id));
		this.parent?.addRouter(router);
	}

	addRtpObserver(observer: RtpObserver): void {
		this.rtpObservers.set(observer.id, observer);
		observer.onClosed(() => this.rtpObservers.delete(observer.id));
		this.parent?.addRtpObserver(observer);
	}

	addTransport(transport: Transport): void {
		this.transports.set(transport.id, transport);
		transport.onClosed(() => this.transports.delete(transport.id));
		this.parent?.addTransport(transport);
	}

	addWorker(worker: Worker): void {
		this.workers.set(worker.id, worker);
		worker.once('@close', () => {
			if (this.workers.get(worker.id) === worker) this.workers.delete(worker.id);
		});
		this.parent?.addWorker(worker);
	}

	/** Resource usage of every worker at this level, by worker id. */
	async getResourceUsages(): Promise<Map<string, types.WorkerResourceUsage>> {
		const entries = await Promise.all(
			[...this.workers.values()].map(async (w) => [w.id, await w.getResourceUsage()] as const),
		);
		return new Map(entries);
	}

	/** A JSON description of everything at this level. */
	async dump(): Promise<CommonDump> {
		const workers = await Promise.all(
			[...this.workers.values()].map(async (w) => ({ id: w.id, pid: w.pid, dump: await w.dump().catch((e: Error) => ({ error: e.message })) })),
		);
		return {
			workers,
			routers: [...this.routers.values()].map((r) => ({ id: r.id, mafaldaRouterId: r.mafaldaRouterId, workerIndex: r.workerIndex })),
			transports: [...this.transports.values()].map((t) => ({ id: t.id, kind: t.remoteKind, workerIndex: t.workerIndex, children: t.children.size })),
			rtpObservers: [...this.rtpObservers.values()].map((o) => ({ id: o.id, kind: o.remoteKind, workerIndex: o.workerIndex })),
		};
	}
}

export interface CommonDump {
	workers: Array<{ id: string; pid: number; dump: unknown }>;
	routers: Array<{ id: string; mafaldaRouterId: string; workerIndex: number }>;
	transports: Array<{ id: string; kind: string; workerIndex: number; children: number }>;
	rtpObservers: Array<{ id: string; kind: string; workerIndex: number }>;
}

/**
 * A class that exposes one level of the Common API (Mafalda, MafaldaRouter):
 * the collections and resource usages of its own CommonApi.
 */
export abstract class CommonApiLevel<Events extends object> extends EventEmitter<Events> {
	protected abstract readonly commonApi: CommonApi;

	get routers(): CommonApi['routers'] {
		return this.commonApi.routers;
	}
	get rtpObservers(): CommonApi['rtpObservers'] {
		return this.commonApi.rtpObservers;
	}
	get transports(): CommonApi['transports'] {
		return this.commonApi.transports;
	}
	get workers(): CommonApi['workers'] {
		return this.commonApi.workers;
	}
	getResourceUsages(): Promise<Map<string, types.WorkerResourceUsage>> {
		return this.commonApi.getResourceUsages();
	}
}
