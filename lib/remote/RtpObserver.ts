import type { types } from 'mediasoup';
import type { RtpObserverProducerOptions } from '../mediasoup-compat';
import { requireObject } from '../validate';
import { RemoteObject } from './RemoteObject';
import { type CloseReason, isWorkerLoss } from '../../actors/protocol';
import type { Producer } from './Producer';

/** mediasoup's AudioLevelObserver and ActiveSpeakerObserver events, with mafalda's producer proxies. */
export interface RtpObserverEvents {
	volumes: [Array<{ producer: Producer; volume: number }>];
	silence: [];
	dominantspeaker: [{ producer: Producer }];
	routerclose: [];
}

/** What an observer asks of its MafaldaRouter: a producer of another shard must be piped in first. */
export interface RtpObserverOwner {
	addProducer(observer: RtpObserver, producerId: string): Promise<void>;
	removeProducer(observer: RtpObserver, producerId: string): Promise<void>;
}

/**
 * A mediasoup AudioLevelObserver or ActiveSpeakerObserver. It lives on one
 * shard; producers of other shards are piped to it, so it observes the whole
 * MafaldaRouter.
 */
export abstract class RtpObserver extends RemoteObject<RtpObserverEvents> {
	owner: RtpObserverOwner | undefined;
	/** Producers added, by id. */
	readonly producerIds = new Set<string>();

	/** mediasoup 3.27's `rtpObserver.type` (3.14 has no such property; mafalda's observers have it with either). */
	get type(): 'audiolevel' | 'activespeaker' {
		return this.remoteKind === 'audio-level-observer' ? 'audiolevel' : 'activespeaker';
	}

	get paused(): boolean {
		return this.field('paused');
	}
	protected override reasonEvent(reason: string): string | undefined {
		return isWorkerLoss(reason as CloseReason) || reason === 'transportclose' ? 'routerclose' : super.reasonEvent(reason as never);
	}
	async pause(): Promise<void> {
		await this.togglePause('pause');
	}
	async resume(): Promise<void> {
		await this.togglePause('resume');
	}
	// Not destructured in the signature: a missing argument must say so, not fail to destructure.
	async addProducer(options: RtpObserverProducerOptions): Promise<void> {
		await this.owner?.addProducer(this, requireObject(options, 'options').producerId as string);
	}
	async removeProducer(options: RtpObserverProducerOptions): Promise<void> {
		await this.owner?.removeProducer(this, requireObject(options, 'options').producerId as string);
	}
	/** The RPC itself, used by the owner once the producer is on this shard. */
	async callProducerMethod(method: 'addProducer' | 'removeProducer', producerId: string): Promise<void> {
		await this.call(method, { producerId });
		this.observer.emit(method === 'addProducer' ? 'addproducer' : 'removeproducer', this.ctx.resolve(producerId));
	}
}
