// What the page script exposes as window.testPage, shared by the page (DOM)
// and the test (Node), so both sides agree on it.

/** One consumer's inbound-rtp entry of the browser's getStats(). */
export interface InboundStats {
	kind: string;
	packetsReceived: number;
	bytesReceived: number;
	framesDecoded?: number;
	frameWidth?: number;
	frameHeight?: number;
}

export interface PublishedIds {
	video: string;
	audio: string;
}

export interface TestPageApi {
	/** Publishes the fake camera (3 simulcast layers) and the fake microphone. */
	publish(): Promise<PublishedIds>;
	/** Consumes the given producers on one receiving transport. */
	consume(producerIds: string[]): Promise<void>;
	stats(): Promise<InboundStats[]>;
}
