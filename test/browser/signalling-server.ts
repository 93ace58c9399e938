// The browser test's signalling server, as a small app would write one: it
// serves the page and its bundle, answers the page's requests (JSON over HTTP
// POST) with a MafaldaRouter, and closes a peer's transports when the page's
// presence stream (an EventSource) ends, which is when the page closes.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { types } from 'mediasoup';
import type { Consumer, MafaldaRouter, Producer, WebRtcTransport } from '../../lib';

export interface Peer {
	readonly name: string;
	readonly transports: Map<string, WebRtcTransport>;
	readonly producers: Map<string, Producer>;
	readonly consumers: Map<string, Consumer>;
	/** The page's presence stream is open. */
	present: boolean;
}

type Handler = (peer: Peer, params: Record<string, unknown>) => Promise<unknown>;

const PAGE = '<!doctype html><meta charset="utf-8"><title>mafalda browser test</title><body><script src="/client.js"></script></body>';
const MAX_BODY = 256 * 1024;

export class SignallingServer {
	readonly peers = new Map<string, Peer>();
	readonly #server: http.Server;
	readonly #handlers: Record<string, Handler>;
	#url = '';

	private constructor(
		private readonly router: MafaldaRouter,
		private readonly bundle: string,
	) {
		this.#handlers = {
			rtpCapabilities: async () => this.router.rtpCapabilities,
			createTransport: async (peer) => {
				const transport = await this.router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1' }] });
				peer.transports.set(transport.id, transport);
				transport.observer.once('close', () => peer.transports.delete(transport.id));
				return {
					id: transport.id,
					iceParameters: transport.iceParameters,
					iceCandidates: transport.iceCandidates,
					dtlsParameters: transport.dtlsParameters,
				};
			},
			connectTransport: async (peer, params) => {
				await this.#transport(peer, params.transportId).connect({ dtlsParameters: params.dtlsParameters as types.DtlsParameters });
				return {};
			},
			produce: async (peer, params) => {
				const producer = await this.#transport(peer, params.transportId).produce({
					kind: params.kind as types.MediaKind,
					rtpParameters: params.rtpParameters as types.RtpParameters,
				});
				peer.producers.set(producer.id, producer);
				producer.observer.once('close', () => peer.producers.delete(producer.id));
				return { id: producer.id };
			},
			consume: async (peer, params) => {
				// Paused until the page has its consumer, so no key frame is lost before it listens.
				const consumer = await this.#transport(peer, params.transportId).consume({
					producerId: String(params.producerId),
					rtpCapabilities: params.rtpCapabilities as types.RtpCapabilities,
					paused: true,
				});
				peer.consumers.set(consumer.id, consumer);
				consumer.observer.once('close', () => peer.consumers.delete(consumer.id));
				return { id: consumer.id, producerId: consumer.producerId, kind: consumer.kind, rtpParameters: consumer.rtpParameters };
			},
			resumeConsumer: async (peer, params) => {
				const consumer = peer.consumers.get(String(params.consumerId));
				if (!consumer) throw new Error(`no consumer ${String(params.consumerId)}`);
				await consumer.resume();
				return {};
			},
		};
		this.#server = http.createServer((req, res) => this.#serve(req, res));
	}

	static async start(router: MafaldaRouter, bundle: string): Promise<SignallingServer> {
		const server = new SignallingServer(router, bundle);
		await new Promise<void>((resolve, reject) => {
			server.#server.once('error', reject);
			server.#server.listen(0, '127.0.0.1', () => resolve());
		});
		server.#url = `http://127.0.0.1:${(server.#server.address() as AddressInfo).port}`;
		return server;
	}

	pageUrl(peer: string): string {
		return `${this.#url}/?peer=${encodeURIComponent(peer)}`;
	}

	async close(): Promise<void> {
		await new Promise<void>((resolve) => {
			this.#server.close(() => resolve());
			this.#server.closeAllConnections();
		});
	}

	#peer(name: string): Peer {
		let peer = this.peers.get(name);
		if (!peer) {
			peer = { name, transports: new Map(), producers: new Map(), consumers: new Map(), present: false };
			this.peers.set(name, peer);
		}
		return peer;
	}

	#transport(peer: Peer, id: unknown): WebRtcTransport {
		const transport = peer.transports.get(String(id));
		if (!transport) throw new Error(`peer ${peer.name} has no transport ${String(id)}`);
		return transport;
	}

	#serve(req: http.IncomingMessage, res: http.ServerResponse): void {
		const url = new URL(req.url ?? '/', 'http://127.0.0.1');
		const peerName = url.searchParams.get('peer') ?? '';
		if (req.method === 'GET' && url.pathname === '/') return reply(res, 200, 'text/html; charset=utf-8', PAGE);
		if (req.method === 'GET' && url.pathname === '/client.js') return reply(res, 200, 'text/javascript; charset=utf-8', this.bundle);
		if (req.method === 'GET' && url.pathname === '/presence' && peerName) return this.#presence(this.#peer(peerName), req, res);
		if (req.method === 'POST' && url.pathname === '/rpc') return void this.#rpc(req, res);
		reply(res, 404, 'text/plain', 'not found');
	}

	/** An EventSource held open for as long as the page lives. */
	#presence(peer: Peer, req: http.IncomingMessage, res: http.ServerResponse): void {
		res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
		res.write(': present\n\n');
		peer.present = true;
		req.socket.setKeepAlive(true);
		res.once('close', () => {
			peer.present = false;
			// A page leaving closes its transports; mafalda closes their producers and consumers,
			// the consumers of its producers elsewhere, and the pipes that fed them.
			for (const transport of [...peer.transports.values()]) transport.close();
		});
	}

	async #rpc(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
		try {
			const body = await readBody(req);
			const request = JSON.parse(body) as { peer?: unknown; method?: unknown; params?: unknown };
			const handler = typeof request.method === 'string' ? this.#handlers[request.method] : undefined;
			if (typeof request.peer !== 'string' || !handler) return reply(res, 400, 'application/json', JSON.stringify({ error: 'bad request' }));
			const params = typeof request.params === 'object' && request.params !== null ? (request.params as Record<string, unknown>) : {};
			const result = await handler(this.#peer(request.peer), params);
			reply(res, 200, 'application/json', JSON.stringify({ result }));
		} catch (error) {
			reply(res, 500, 'application/json', JSON.stringify({ error: (error as Error).message }));
		}
	}
}

function readBody(req: http.IncomingMessage): Promise<string> {
	return new Promise((resolve, reject) => {
		let body = '';
		req.setEncoding('utf8');
		req.on('data', (chunk: string) => {
			body += chunk;
			if (body.length > MAX_BODY) req.destroy(new Error('body too large'));
		});
		req.on('end', () => resolve(body));
		req.on('error', reject);
	});
}

function reply(res: http.ServerResponse, status: number, contentType: string, body: string): void {
	if (res.headersSent) return;
	res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
	res.end(body);
}
