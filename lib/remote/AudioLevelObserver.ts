import { RtpObserver } from './RtpObserver';

/** A mediasoup AudioLevelObserver: `volumes` and `silence` over every producer added, whatever its shard. */
export class AudioLevelObserver extends RtpObserver {}
