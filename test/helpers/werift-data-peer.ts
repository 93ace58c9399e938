// A werift RTCPeerConnection with one negotiated data channel, connected to a
// mediasoup-style WebRtcTransport with SCTP: SCTP over DTLS over ICE, as a
// browser's RTCDataChannel runs it. mediasoup has no DCEP, so the channel is
// negotiated (both sides agree on the SCTP stream id out of band).
import { RTCPeerConnection, type RTCDataChannel } from 'werift';
import type { types } from 'mediasoup';
import { sctpMaxReceiveMessageSize } from '../../lib/mediasoup-compat';
import {
	buildRemoteSection,
	closePeerConnection,
	DEFAULT_TIMEOUT_MS,
	dtlsParametersFor,
	loopbackPeerConfig,
	readLocalDtls,
	sdpLines,
	waitConnectedState,
	type WebRtcTransportLike,
} from './werift-peer';

export interface SctpWebRtcTransportLike extends WebRtcTransportLike {
	readonly sctpParameters: types.SctpParameters | undefined;
}

export interface DataPeer {
	readonly pc: RTCPeerConnection;
	readonly channel: RTCDataChannel;
	/** Text messages received on the channel, in arrival order. */
	readonly messages: readonly string[];
	waitOpen(timeoutMs?: number): Promise<void>;
	waitForMessages(count: number, timeoutMs?: number): Promise<readonly string[]>;
	close(): Promise<void>;
}

/** The mid of the local SDP's m=application section. */
function readLocalApplicationMid(sdp: string): string {
	const lines = sdpLines(sdp);
	const start = lines.findIndex((l) => l.startsWith('m=application '));
	if (start < 0) throw new Error('local SDP has no m=application');
	const mid = lines.slice(start + 1).find((l) => l.startsWith('a=mid:'));
	if (!mid) throw new Error('local m=application has no a=mid');
	return mid.slice('a=mid:'.length);
}

function waitUntil(what: string, ready: () => boolean, subscribe: (check: () => void) => () => void, timeoutMs: number): Promise<void> {
	return new Promise<void>((resolve, reject) => {
		if (ready()) return resolve();
		const timer = setTimeout(() => {
			unsubscribe();
			reject(new Error(`${what} after ${timeoutMs} ms`));
		}, timeoutMs);
		const unsubscribe = subscribe(() => {
			if (!ready()) return;
			clearTimeout(timer);
			unsubscribe();
			resolve();
		});
	});
}

/** werift offers, the transport answers; the channel uses SCTP stream `streamId`. */
export async function createDataPeer(transport: SctpWebRtcTransportLike, streamId: number): Promise<DataPeer> {
	const sctp = transport.sctpParameters;
	if (!sctp) throw new Error(`transport ${transport.id} has no SCTP (enableSctp: true)`);
	const pc = new RTCPeerConnection(loopbackPeerConfig());
	try {
		const channel = pc.createDataChannel(`channel-${streamId}`, { negotiated: true, id: streamId, ordered: true });
		const messages: string[] = [];
		const waiters = new Set<() => void>();
		channel.onMessage.subscribe((data) => {
			messages.push(typeof data === 'string' ? data : data.toString('utf8'));
			for (const w of [...waiters]) w();
		});

		await pc.setLocalDescription(await pc.createOffer());
		const offerSdp = pc.localDescription?.sdp;
		if (!offerSdp) throw new Error('werift produced no local offer');
		const dtls = dtlsParametersFor(readLocalDtls(offerSdp));
		const answer = buildRemoteSection(transport, {
			mid: readLocalApplicationMid(offerSdp),
			mLine: 'm=application 7 UDP/DTLS/SCTP webrtc-datachannel',
			setup: dtls.role === 'client' ? 'passive' : 'active',
			attributes: [`a=sctp-port:${sctp.port}`, `a=max-message-size:${sctpMaxReceiveMessageSize(sctp)}`],
		});
		await pc.setRemoteDescription({ type: 'answer', sdp: answer });
		await transport.connect({ dtlsParameters: dtls });

		return {
			pc,
			channel,
			messages,
			async waitOpen(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
				await waitConnectedState(pc, timeoutMs);
				await waitUntil(
					`data channel ${streamId} still ${channel.readyState}`,
					() => channel.readyState === 'open',
					(check) => channel.stateChanged.subscribe(check).unSubscribe,
					timeoutMs,
				);
			},
			async waitForMessages(count: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<readonly string[]> {
				await waitUntil(
					`received ${messages.length}/${count} messages on data channel ${streamId}`,
					() => messages.length >= count,
					(check) => {
						waiters.add(check);
						return () => waiters.delete(check);
					},
					timeoutMs,
				);
				return messages;
			},
			close: () => closePeerConnection(pc),
		};
	} catch (error) {
		await closePeerConnection(pc);
		throw error;
	}
}
