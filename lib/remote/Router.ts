import type { types } from 'mediasoup';
import { RemoteObject } from './RemoteObject';
import { type CloseReason, isWorkerLoss } from '../../actors/protocol';

/** One router shard: a mediasoup Router of a MafaldaRouter, on one worker. */
export class Router extends RemoteObject<Record<string, unknown[]>> {
	/** The MafaldaRouter this shard belongs to. */
	constructor(
		readonly mafaldaRouterId: string,
		...args: ConstructorParameters<typeof RemoteObject>
	) {
		super(...args);
	}
	get rtpCapabilities(): types.RtpCapabilities {
		return this.field('rtpCapabilities');
	}
	protected override reasonEvent(reason: string): string | undefined {
		return isWorkerLoss(reason as CloseReason) || reason === 'workerclose' ? 'workerclose' : undefined;
	}
	async canConsume(producerId: string, rtpCapabilities: types.RtpCapabilities): Promise<boolean> {
		// A closed shard's router is gone from its host, whose error would name a missing shard instead.
		if (this.closed) throw this.closedError();
		return this.ctx.worker.call((host) => host.canConsume(this.shardId, producerId, rtpCapabilities));
	}
}
