import { requireBuffer } from '../validate';
import { Transport } from './Transport';

/** A mediasoup DirectTransport living in a worker host thread. */
export class DirectTransport extends Transport {
	sendRtcp(rtcpPacket: Buffer): void {
		// Checked here: the call runs in the background, so its error would reach nobody.
		requireBuffer(rtcpPacket, 'rtcpPacket');
		this.notify('sendRtcp', rtcpPacket);
	}
}
