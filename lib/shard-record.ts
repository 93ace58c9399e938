import type { WorkerHandle } from '../actors/supervisor/worker-handle';
import type { RemoteRouter } from './remote/remote-router';

/** One shard of a MafaldaRouter: which mediasoup Router, on which worker. */
export interface ShardRecord {
	readonly shardId: string;
	/** The MafaldaRouter's id. */
	readonly routerId: string;
	readonly workerIndex: number;
	readonly worker: WorkerHandle;
	readonly router: RemoteRouter;
}
