import type { types } from 'mediasoup';
import { InvalidArgumentError } from '../errors';
import { optionalArray, requireNumber } from '../validate';
import { RemoteObject } from './remote-object';

type ProducerEvents = Omit<types.DataProducerEvents, '@close' | 'listenererror'>;
type ConsumerEvents = Omit<types.DataConsumerEvents, '@close' | '@dataproducerclose' | 'listenererror'>;

/** What mediasoup's DataProducer and DataConsumer share. */
abstract class RemoteDataObject<Events extends object> extends RemoteObject<Events> {
	get type(): types.DataProducerType | types.DataConsumerType {
		return this.field('type');
	}
	get sctpStreamParameters(): types.SctpStreamParameters | undefined {
		return this.field('sctpStreamParameters');
	}
	get label(): string {
		return this.field('label');
	}
	get protocol(): string {
		return this.field('protocol');
	}
	get paused(): boolean {
		return this.field('paused');
	}
	async pause(): Promise<void> {
		await this.togglePause('pause');
	}
	async resume(): Promise<void> {
		await this.togglePause('resume');
	}
}

/** A mediasoup DataProducer living in a worker host thread. */
export class RemoteDataProducer extends RemoteDataObject<ProducerEvents> {
	override get type(): types.DataProducerType {
		return this.field('type');
	}
	async getStats(): Promise<types.DataProducerStat[]> {
		return (await this.call('getStats')) as types.DataProducerStat[];
	}
	/** For data producers of a DirectTransport. */
	send(message: string | Buffer, ppid?: number, subchannels?: number[], requiredSubchannel?: number): void {
		// Checked here: the call runs in the background, so its error would reach nobody.
		if (typeof message !== 'string' && !(message instanceof Uint8Array)) {
			throw new InvalidArgumentError('message', 'must be a string or a Buffer');
		}
		this.notify('send', message, ppid, subchannels, requiredSubchannel);
	}
}

/** A mediasoup DataConsumer living in a worker host thread. */
export class RemoteDataConsumer extends RemoteDataObject<ConsumerEvents> {
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
	async send(message: string | Buffer, ppid?: number): Promise<void> {
		await this.call('send', message, ppid);
	}
	// mediasoup packs subchannels into 16 bits without checking them: checked here.
	async setSubchannels(subchannels: number[]): Promise<void> {
		const list = optionalArray(subchannels, 'subchannels');
		if (!list) throw new InvalidArgumentError('subchannels', 'must be an array of integers');
		list.forEach((s, i) => requireNumber(s, `subchannels[${i}]`, 0, 65535, true));
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
