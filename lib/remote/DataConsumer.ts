import type { types } from 'mediasoup';
import { InvalidArgumentError } from '../errors';
import type { DataConsumerSendResult } from '../mediasoup-compat';
import { optionalArray, requireNumber } from '../validate';
import { DataObject, type DataConsumerEvents as ConsumerEvents } from './DataObject';

/** mediasoup 3.14 does not export this type by name. */
type DataConsumerDump = Awaited<ReturnType<types.DataConsumer['dump']>>;

/** A mediasoup DataConsumer living in a worker host thread. */
export class DataConsumer extends DataObject<ConsumerEvents> {
	/** @internal The app's data producer id, when it has another id on this shard. */
	publicDataProducerId: string | undefined;

	get dataProducerId(): string {
		return this.publicDataProducerId ?? this.field('dataProducerId');
	}
	override get type(): types.DataConsumerType {
		return this.field('type');
	}
	get dataProducerPaused(): boolean {
		return this.field('dataProducerPaused');
	}
	get subchannels(): number[] {
		return this.field('subchannels') ?? [];
	}
	protected override reasonEvent(reason: string): string | undefined {
		return reason === 'producerclose' ? 'dataproducerclose' : super.reasonEvent(reason as never);
	}
	/** mediasoup's dataConsumer.dump(), naming the app's data producer (see Consumer.dump). */
	override async dump(): Promise<DataConsumerDump> {
		const dump = (await super.dump()) as DataConsumerDump;
		return { ...dump, dataProducerId: this.dataProducerId };
	}
	async getStats(): Promise<types.DataConsumerStat[]> {
		return (await this.call('getStats')) as types.DataConsumerStat[];
	}
	async setBufferedAmountLowThreshold(threshold: number): Promise<void> {
		requireNumber(threshold, 'threshold', 0, Number.MAX_SAFE_INTEGER, true);
		await this.call('setBufferedAmountLowThreshold', threshold);
	}
	async getBufferedAmount(): Promise<number> {
		return (await this.call('getBufferedAmount')) as number;
	}
	/** Resolves with what the installed mediasoup's resolves with (3.27: the buffered amount). */
	async send(message: string | Buffer, ppid?: number): Promise<DataConsumerSendResult> {
		return (await this.call('send', message, ppid)) as DataConsumerSendResult;
	}
	// mediasoup packs subchannels into 16 bits: 65536 becomes 0, as there (its
	// own tests rely on that). What is not an integer list is refused here.
	async setSubchannels(subchannels: number[]): Promise<void> {
		const list = optionalArray(subchannels, 'subchannels');
		if (!list) throw new InvalidArgumentError('subchannels', 'must be an array of integers');
		list.forEach((s, i) => requireNumber(s, `subchannels[${i}]`, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, true));
		await this.call('setSubchannels', subchannels);
	}
	async addSubchannel(subchannel: number): Promise<void> {
		requireNumber(subchannel, 'subchannel', 0, 65535, true);
		await this.call('addSubchannel', subchannel);
	}
	async removeSubchannel(subchannel: number): Promise<void> {
		requireNumber(subchannel, 'subchannel', 0, 65535, true);
		await this.call('removeSubchannel', subchannel);
	}
}
