import type { types } from 'mediasoup';
import type { ProxyCloseReason } from './RemoteObject';
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
	override markClosed(reason: ProxyCloseReason): boolean {
		// As mediasoup's, a closed transport's ICE and DTLS say so (its WebRtcServer closing included).
		const states: Record<string, unknown> = { iceState: 'closed', iceSelectedTuple: undefined, dtlsState: 'closed' };
		if (this.snapshot.sctpState !== undefined) states.sctpState = 'closed';
		if (!this.closed) this.snapshot = { ...this.snapshot, ...states };
		return super.markClosed(reason);
	}
	async restartIce(): Promise<types.IceParameters> {
		return (await this.call('restartIce')) as types.IceParameters;
	}
}
