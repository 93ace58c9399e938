import type { types } from 'mediasoup';
import { requireObject } from '../validate';
import { RemoteObject } from './RemoteObject';

type Events = Omit<types.ConsumerEvents, '@close' | '@producerclose' | 'listenererror'>;

/** A mediasoup Consumer living in a worker host thread. */
export class Consumer extends RemoteObject<Events> {
	/** @internal The app's producer id, when the producer has another id on this shard. */
	publicProducerId: string | undefined;
	/** @internal The app's producer, when this consumer is fed by one of mafalda's pipes. */
	publicProducer: { consumableRtpParameters: types.RtpParameters } | undefined;

	get producerId(): string {
		return this.publicProducerId ?? this.field('producerId');
	}
	get kind(): types.MediaKind {
		return this.field('kind');
	}
	get rtpParameters(): types.RtpParameters {
		return this.field('rtpParameters');
	}
	get type(): types.ConsumerType {
		return this.field('type');
	}
	get paused(): boolean {
		return this.field('paused');
	}
	get producerPaused(): boolean {
		return this.field('producerPaused');
	}
	get priority(): number {
		return this.field('priority');
	}
	get score(): types.ConsumerScore {
		return this.field('score');
	}
	get preferredLayers(): types.ConsumerLayers | undefined {
		return this.field('preferredLayers');
	}
	get currentLayers(): types.ConsumerLayers | undefined {
		return this.field('currentLayers');
	}

	/**
	 * mediasoup's consumer.dump(), as on one router: it names the app's
	 * producer, and the encodings it consumes are that producer's consumable
	 * ones, not those of mafalda's copy of it on a piped shard (other SSRCs).
	 */
	override async dump(): Promise<types.ConsumerDump> {
		const dump = (await super.dump()) as types.ConsumerDump;
		const encodings = this.publicProducer?.consumableRtpParameters.encodings;
		return { ...dump, producerId: this.producerId, ...(encodings ? { consumableRtpEncodings: encodings } : {}) };
	}
	async getStats(): Promise<Array<types.ConsumerStat | types.ProducerStat>> {
		return (await this.call('getStats')) as Array<types.ConsumerStat | types.ProducerStat>;
	}
	async pause(): Promise<void> {
		await this.togglePause('pause');
	}
	async resume(): Promise<void> {
		await this.togglePause('resume');
	}
	async setPreferredLayers(layers: types.ConsumerLayers): Promise<void> {
		requireObject(layers, 'layers');
		await this.call('setPreferredLayers', layers);
	}
	async setPriority(priority: number): Promise<void> {
		await this.call('setPriority', priority);
	}
	async unsetPriority(): Promise<void> {
		await this.call('unsetPriority');
	}
	async requestKeyFrame(): Promise<void> {
		await this.call('requestKeyFrame');
	}
	async enableTraceEvent(types_: types.ConsumerTraceEventType[] = []): Promise<void> {
		await this.call('enableTraceEvent', types_);
	}
}
