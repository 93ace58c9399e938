// A real browser through mafalda: Debian's chromium, headless, runs
// mediasoup-client (bundled from npm by esbuild) against a small signalling
// server. Page A publishes the fake camera in 3 simulcast layers and the fake
// microphone on worker 0; page B consumes both on worker 1 through a pipe.
// Everything asserted on the browser side comes from B's own getStats().
//
// Alone: npx jest test/browser-chromium.test.ts (set-up installs chromium;
// CHROMIUM_BIN points at another build).
import * as mediasoup from 'mediasoup';
import { Mafalda, type MafaldaRouter } from '../lib';
import { bundlePage } from './browser/bundle-page';
import { ChromiumBrowser, findChromium } from './browser/chromium';
import type { ChromiumPage } from './browser/chromium-page';
import type { InboundStats, PublishedIds } from './browser/page-api';
import { SignallingServer, type Peer } from './browser/signalling-server';
import { mediasoupCounts } from './helpers/faults-mafalda';
import { mediaCodecs, sleep } from './helpers/mafalda-media';
import { parseExposition, valueOf } from './helpers/prometheus-text';

const chromium = findChromium();
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
// Set-up installs chromium as root; only where it could not may the test skip.
const skipReason = chromium === undefined && !isRoot
	? 'chromium is not installed and set-up cannot install it without root: run `apt-get install -y --no-install-recommends chromium` as root, or set CHROMIUM_BIN'
	: undefined;
if (skipReason) console.warn(`[browser-chromium.test] SKIPPED: ${skipReason}`);
const testInBrowser = skipReason ? test.skip : test;

/** Polls an async read until `accept` holds; rejects with `what` and the last value read. */
async function until<T>(read: () => Promise<T>, accept: (value: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await read();
		if (accept(value)) return value;
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${JSON.stringify(value)}`);
		await sleep(250);
	}
}

function peerOf(server: SignallingServer, name: string): Peer {
	const peer = server.peers.get(name);
	if (!peer) throw new Error(`no peer ${name}`);
	return peer;
}

describe('chromium through mafalda', () => {
	let mafalda: Mafalda | undefined;
	let server: SignallingServer | undefined;
	let browser: ChromiumBrowser | undefined;

	afterEach(async () => {
		await browser?.close();
		await server?.close();
		await mafalda?.close();
		browser = server = mafalda = undefined;
	});

	testInBrowser('simulcast camera and microphone from page A on worker 0 reach page B on worker 1; preferred layers; closing the pages closes everything', async () => {
		if (chromium === undefined) throw new Error('chromium is missing although set-up runs as root and installs it: run node scripts/setup.js');
		mafalda = new Mafalda(mediasoup, { numWorkers: 2 });
		// One unit per worker: A's transport fills worker 0, so B's opens a shard
		// on worker 1 and A's producers are piped to it.
		const router: MafaldaRouter = await mafalda.createMafaldaRouter({ maxConsumersPerWorker: 1, routerOptions: { mediaCodecs } });
		server = await SignallingServer.start(router, await bundlePage());
		browser = await ChromiumBrowser.launch(chromium);

		const pageA: ChromiumPage = await browser.newPage(server.pageUrl('A'));
		const published = await pageA.evaluate<PublishedIds>('window.testPage.publish()');
		const a = peerOf(server, 'A');
		expect([...a.transports.values()].map((t) => t.workerIndex)).toEqual([0]);
		const video = a.producers.get(published.video);
		const audio = a.producers.get(published.audio);
		expect(video?.kind).toBe('video');
		expect(audio?.kind).toBe('audio');
		expect(video?.type).toBe('simulcast');
		expect(video?.rtpParameters.encodings?.map((e) => e.rid)).toEqual(['r0', 'r1', 'r2']);
		// mediasoup receives all three layers from chromium (one RTP stream each).
		const layers = await until(
			async () => ((await video?.getStats()) ?? []).filter((s) => s.byteCount > 0).map((s) => s.rid).sort(),
			(rids) => rids.length === 3,
			'3 simulcast layers reaching mediasoup',
		);
		expect(layers).toEqual(['r0', 'r1', 'r2']);

		const pageB = await browser.newPage(server.pageUrl('B'));
		await pageB.evaluate(`window.testPage.consume(${JSON.stringify([published.video, published.audio])})`);
		const b = peerOf(server, 'B');
		expect([...b.transports.values()].map((t) => t.workerIndex)).toEqual([1]);
		const pipes = mafalda.pipes.pipes();
		expect(pipes.map((p) => [p.producerId, p.fromWorker, p.toWorker]).sort()).toEqual(
			[[published.video, 0, 1], [published.audio, 0, 1]].sort(),
		);
		const videoConsumer = [...b.consumers.values()].find((c) => c.kind === 'video');
		expect(videoConsumer?.type).toBe('simulcast');

		const statsOfB = (): Promise<InboundStats[]> => pageB.evaluate<InboundStats[]>('window.testPage.stats()');
		const videoIn = (s: InboundStats[]): InboundStats | undefined => s.find((x) => x.kind === 'video');
		const audioIn = (s: InboundStats[]): InboundStats | undefined => s.find((x) => x.kind === 'audio');
		// Layers climb as mediasoup's bandwidth estimate toward B grows: wait for
		// more than the lowest one (1280x720 scaled down by 4 is 320 wide).
		const high = await until(
			statsOfB,
			(s) => (videoIn(s)?.framesDecoded ?? 0) > 10 && (videoIn(s)?.frameWidth ?? 0) > 320 && (audioIn(s)?.packetsReceived ?? 0) > 50,
			'B decoding video above the lowest layer and receiving audio',
			60_000,
		);
		const widthBefore = videoIn(high)?.frameWidth ?? 0;
		expect(videoIn(high)?.framesDecoded).toBeGreaterThan(10);
		expect(audioIn(high)?.packetsReceived).toBeGreaterThan(50);
		expect(audioIn(high)?.bytesReceived).toBeGreaterThan(0);

		// The browser's media shows in mafalda.metrics too: B's consumers on worker 1, fed by two pipes from worker 0.
		const scraped = await until(
			async () => parseExposition(await (mafalda as Mafalda).metrics.metrics()),
			(samples) => (valueOf(samples, 'mafalda_worker_pipe_bitrate_bps', { worker: '1', direction: 'in' }) ?? 0) > 0,
			"worker 1's pipe bitrate in mafalda.metrics",
			10_000,
		);
		expect(valueOf(scraped, 'mafalda_worker_consumers', { worker: '1' })).toBe(2);
		expect(valueOf(scraped, 'mafalda_worker_producers', { worker: '0' })).toBe(2);
		expect(valueOf(scraped, 'mafalda_pipes', { stream: 'media', from_worker: '0', to_worker: '1' })).toBe(2);

		await videoConsumer?.setPreferredLayers({ spatialLayer: 0 });
		const low = await until(
			statsOfB,
			(s) => (videoIn(s)?.frameWidth ?? widthBefore) <= widthBefore / 2,
			'B decoding a smaller frame width after setPreferredLayers({ spatialLayer: 0 })',
		);
		const framesAtLow = videoIn(low)?.framesDecoded ?? 0;
		expect(videoIn(low)?.frameWidth).toBeLessThan(widthBefore);
		// The server's view agrees (its layerschange event may come a moment after B's frames).
		expect(await until(async () => videoConsumer?.currentLayers?.spatialLayer, (layer) => layer === 0, "the consumer's current spatial layer", 10_000)).toBe(0);
		// Still decoding at the lower layer, and audio still arrives.
		const later = await until(statsOfB, (s) => (videoIn(s)?.framesDecoded ?? 0) > framesAtLow + 5, 'B decoding on at the lower layer');
		expect(audioIn(later)?.packetsReceived).toBeGreaterThan(audioIn(low)?.packetsReceived ?? 0);

		// Closing page A: its transport, producers, their pipes and B's consumers close.
		const bConsumers = [...b.consumers.values()];
		await pageA.close();
		await until(async () => a.present, (present) => !present, "the server seeing page A's presence stream end");
		await until(async () => [a.transports.size, a.producers.size, b.consumers.size, mafalda?.pipes.pipes().length], (n) => n.every((x) => x === 0), 'A and its streams closed');
		expect(bConsumers.map((c) => c.closed)).toEqual([true, true]);
		expect(bConsumers.map((c) => c.closeReason)).toEqual(['producerclose', 'producerclose']);

		// Closing page B: its transport closes, and nothing is left on any worker.
		await pageB.close();
		await until(async () => b.transports.size, (n) => n === 0, 'B closed');
		expect(await until(async () => mafalda?.transports.size, (n) => n === 0, 'the Common API without transports', 10_000)).toBe(0);
		const left = await until(
			async () => Promise.all([0, 1].map((w) => mediasoupCounts(mafalda as Mafalda, w))),
			(counts) => counts.every((c) => c.transports + c.producers + c.consumers === 0),
			"mediasoup's own dump of both workers empty of transports, producers and consumers",
			10_000,
		);
		expect(left.map((c) => [c.transports, c.producers, c.consumers])).toEqual([[0, 0, 0], [0, 0, 0]]);
	}, 180_000);
});
