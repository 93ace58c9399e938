import type { types } from 'mediasoup';
import { Transport } from './Transport';

/** A mediasoup PlainTransport living in a worker host thread. */
export class PlainTransport extends Transport {
	get tuple(): types.TransportTuple {
		return this.field('tuple');
	}
	get rtcpTuple(): types.TransportTuple | undefined {
		return this.field('rtcpTuple');
	}
	get srtpParameters(): types.SrtpParameters | undefined {
		return this.field('srtpParameters');
	}
}
