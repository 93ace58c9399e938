import { RtpObserver } from './RtpObserver';

/** A mediasoup ActiveSpeakerObserver: `dominantspeaker` over every producer added, whatever its shard. */
export class ActiveSpeakerObserver extends RtpObserver {}
