import type { types } from 'mediasoup';
import { InvalidArgumentError } from '../errors';
import { optionalArray, requireNumber } from '../validate';
import { RemoteObject } from './RemoteObject';

export type DataProducerEvents = Omit<types.DataProducerEvents, '@close' | 'listenererror'>;
export type DataConsumerEvents = Omit<types.DataConsumerEvents, '@close' | '@dataproducerclose' | 'listenererror'>;

/** What mediasoup's DataProducer and DataConsumer share. */
export abstract class DataObject<Events extends object> extends RemoteObject<Events> {
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
