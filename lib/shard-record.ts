import type { HostHandle } from '../actors/supervisor/worker-handle';
import type { Router } from './remote/Router';

/** One shard of a MafaldaRouter: which mediasoup Router, on which worker. */
export interface ShardRecord {
	readonly shardId: string;
	/** The MafaldaRouter's id. */
	readonly routerId: string;
	readonly workerIndex: number;
	readonly worker: HostHandle;
	readonly router: Router;
}
