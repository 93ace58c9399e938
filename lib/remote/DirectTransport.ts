import { requireBuffer } from '../validate';
import { Transport } from './Transport';

/** A mediasoup DirectTransport living in a worker host thread. */
export class DirectTransport extends Transport {
	/** As mediasoup's: a DirectTransport has nothing to connect, and takes no parameters. */
	override async connect(_params?: Record<string, unknown>): Promise<void> {
		// Nothing to send to the worker: mediasoup's does not either.
	}
	sendRtcp(rtcpPacket: Buffer): void {
		// Checked here: the call runs in the background, so its error would reach nobody.
		requireBuffer(rtcpPacket, 'rtcpPacket');
		this.notify('sendRtcp', rtcpPacket);
	}
}
