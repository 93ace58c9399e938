import type { types } from 'mediasoup';
import { Transport } from './Transport';

/** A mediasoup PipeTransport living in a worker host thread. */
export class PipeTransport extends Transport {
	get tuple(): types.TransportTuple {
		return this.field('tuple');
	}
	get srtpParameters(): types.SrtpParameters | undefined {
		return this.field('srtpParameters');
	}
}
