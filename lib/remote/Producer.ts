import type { types } from 'mediasoup';
import { requireBuffer } from '../validate';
import { RemoteObject } from './RemoteObject';

type Events = Omit<types.ProducerEvents, '@close' | 'listenererror'>;

/** A mediasoup Producer living in a worker host thread. */
export class Producer extends RemoteObject<Events> {
	get kind(): types.MediaKind {
		return this.field('kind');
	}
	get rtpParameters(): types.RtpParameters {
		return this.field('rtpParameters');
	}
	get type(): types.ProducerType {
		return this.field('type');
	}
	get consumableRtpParameters(): types.RtpParameters {
		return this.field('consumableRtpParameters');
	}
	get paused(): boolean {
		return this.field('paused');
	}
	get score(): types.ProducerScore[] {
		return this.field('score') ?? [];
	}

	async getStats(): Promise<types.ProducerStat[]> {
		return (await this.call('getStats')) as types.ProducerStat[];
	}
	async pause(): Promise<void> {
		await this.togglePause('pause');
	}
	async resume(): Promise<void> {
		await this.togglePause('resume');
	}
	async enableTraceEvent(types_: types.ProducerTraceEventType[] = []): Promise<void> {
		await this.call('enableTraceEvent', types_);
	}
	/** For producers of a DirectTransport: injects an RTP packet. */
	send(rtpPacket: Buffer): void {
		// Checked here: the call runs in the background, so its error would reach nobody.
		requireBuffer(rtpPacket, 'rtpPacket');
		this.notify('send', rtpPacket);
	}
}
