import type { types } from 'mediasoup';
import { InvalidArgumentError } from '../errors';
import type { DataProducerSendArguments } from '../mediasoup-compat';
import { DataObject, type DataProducerEvents as ProducerEvents } from './DataObject';

/** A mediasoup DataProducer living in a worker host thread. */
export class DataProducer extends DataObject<ProducerEvents> {
	override get type(): types.DataProducerType {
		return this.field('type');
	}
	async getStats(): Promise<types.DataProducerStat[]> {
		return (await this.call('getStats')) as types.DataProducerStat[];
	}
	/** For data producers of a DirectTransport: the installed mediasoup's arguments, passed on as they are (3.27 adds ignoredSubchannel). */
	send(...args: DataProducerSendArguments): void {
		const [message] = args;
		// Checked here: the call runs in the background, so its error would reach nobody.
		if (typeof message !== 'string' && !(message instanceof Uint8Array)) {
			throw new InvalidArgumentError('message', 'must be a string or a Buffer');
		}
		this.notify('send', ...args);
	}
}
