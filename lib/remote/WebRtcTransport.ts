import type { types } from 'mediasoup';
import type { Snapshot } from '../../actors/protocol';
import { Transport } from './Transport';

/** A mediasoup WebRtcTransport living in a worker host thread. */
export class WebRtcTransport extends Transport {
	get iceRole(): 'controlled' {
		return this.field('iceRole');
	}
	get iceParameters(): types.IceParameters {
		return this.field('iceParameters');
	}
	get iceCandidates(): types.IceCandidate[] {
		return this.field('iceCandidates');
	}
	get iceState(): types.IceState {
		return this.field('iceState');
	}
	get iceSelectedTuple(): types.TransportTuple | undefined {
		return this.field('iceSelectedTuple');
	}
	get dtlsParameters(): types.DtlsParameters {
		return this.field('dtlsParameters');
	}
	get dtlsState(): types.DtlsState {
		return this.field('dtlsState');
	}
	get dtlsRemoteCert(): string | undefined {
		return this.field('dtlsRemoteCert');
	}
	protected override closedFields(): Snapshot {
		return { ...super.closedFields(), iceState: 'closed', iceSelectedTuple: undefined, dtlsState: 'closed' };
	}
	async restartIce(): Promise<types.IceParameters> {
		return (await this.call('restartIce')) as types.IceParameters;
	}
}
