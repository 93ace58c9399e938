// mafalda.createWebRtcServer(): one mediasoup WebRtcServer per worker, on the
// given port plus the worker index. Real WebRTC (werift peers: ICE, DTLS,
// SRTP) through each worker's shared port, a pipe between the two workers,
// servers made on workers that start later and on restarted ones, and bad
// ports that fail clearly and leave nothing behind.
import * as dgram from 'node:dgram';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { RouterRtpCodecCapability } from '../lib/mediasoup-compat';
import {
	InvalidArgumentError,
	Mafalda,
	type MafaldaRouter,
	type WebRtcServerFailedInfo,
	WebRtcServerListenError,
	type WebRtcTransport,
	type Worker,
	WebRtcServer,
} from '../lib';
import { isAlive, waitFor } from './helpers/faults-process';
import { LOOPBACK_IP, createReceivingPeer, createSendingPeer, type ReceivingPeer, type SendingPeer } from './helpers/werift-peer';

const mediaCodecs: RouterRtpCodecCapability[] = [{ kind: 'video', mimeType: 'video/VP8', clockRate: 90000 }];

/** Whether a UDP port of 127.0.0.1 can be bound now. */
function udpPortFree(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const socket = dgram.createSocket('udp4');
		socket.once('error', () => {
			socket.close();
			resolve(false);
		});
		socket.bind(port, LOOPBACK_IP, () => socket.close(() => resolve(true)));
	});
}

/** A UDP port P of 127.0.0.1 such that P .. P + count - 1 are all free. */
async function freePorts(count: number): Promise<number> {
	for (let attempt = 0; attempt < 50; attempt++) {
		const base = 20_000 + Math.floor(Math.random() * 30_000);
		const free = await Promise.all(Array.from({ length: count }, (_, i) => udpPortFree(base + i)));
		if (free.every(Boolean)) return base;
	}
	throw new Error('no free UDP port range on 127.0.0.1');
}

/** Holds a UDP port of 127.0.0.1 until closed, as another program would. */
function holdUdpPort(port: number): Promise<dgram.Socket> {
	return new Promise((resolve, reject) => {
		const socket = dgram.createSocket('udp4');
		socket.once('error', reject);
		socket.bind(port, LOOPBACK_IP, () => resolve(socket));
	});
}

function dtlsConnected(t: WebRtcTransport): Promise<void> {
	return t.dtlsState === 'connected'
		? Promise.resolve()
		: new Promise((resolve) => t.on('dtlsstatechange', (state) => state === 'connected' && resolve()));
}

/** The WebRtcServer ids mediasoup itself lists on a worker. */
async function serverIdsOn(worker: Worker): Promise<string[]> {
	const dump = (await worker.dump()) as { worker: { webRtcServerIds: string[] } };
	return dump.worker.webRtcServerIds;
}

describe('WebRtcServer over two workers', () => {
	let mafalda: Mafalda | undefined;
	let sender: SendingPeer | undefined;
	let receiver: ReceivingPeer | undefined;
	const held: dgram.Socket[] = [];

	afterEach(async () => {
		await Promise.allSettled([sender?.close(), receiver?.close()]);
		await mafalda?.close();
		for (const socket of held.splice(0)) socket.close();
		sender = receiver = mafalda = undefined;
	});

	test('each worker listens on port + its index; werift peers send and receive through the shared ports, piped between workers', async () => {
		mafalda = new Mafalda(mediasoup, { numWorkers: 2 });
		const newServers: Array<[number, WebRtcServer]> = [];
		mafalda.observer.on('newworker', (worker) => worker.observer.on('newwebrtcserver', (s) => newServers.push([worker.index, s])));
		const port = await freePorts(2);
		const server = await mafalda.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ip: LOOPBACK_IP, port }], appData: { foo: 1 } });
		expect(server).toBeInstanceOf(WebRtcServer);
		expect(server.constructor.name).toBe('WebRtcServer');
		expect(server.appData).toEqual({ foo: 1 });
		expect(server.closed).toBe(false);
		expect(mafalda.webRtcServers.get(server.id)).toBe(server);
		// A server binds when it is made, as mediasoup's: one worker runs for it now.
		expect(server.workerIndices()).toEqual([0]);

		const handled: WebRtcTransport[] = [];
		const unhandled: WebRtcTransport[] = [];
		server.observer.on('webrtctransporthandled', (t) => handled.push(t));
		server.observer.on('webrtctransportunhandled', (t) => unhandled.push(t));

		// One unit per worker: the second transport starts worker 1, whose own server listens on port + 1.
		const router = await mafalda.createMafaldaRouter({ maxConsumersPerWorker: 1, routerOptions: { mediaCodecs } });
		const sendTransport = await router.createWebRtcTransport({ webRtcServer: server });
		const recvTransport = await router.createWebRtcTransport({ webRtcServer: server });
		expect([sendTransport.workerIndex, recvTransport.workerIndex]).toEqual([0, 1]);
		expect(sendTransport.iceCandidates.map((c) => [c.protocol, c.port])).toEqual([['udp', port]]);
		expect(recvTransport.iceCandidates.map((c) => [c.protocol, c.port])).toEqual([['udp', port + 1]]);
		expect(server.workerIndices().sort()).toEqual([0, 1]);
		expect(newServers).toEqual([[0, server], [1, server]]);
		expect(handled).toEqual([sendTransport, recvTransport]);
		expect(server.webRtcTransportsForTesting.size).toBe(2);

		sender = await createSendingPeer(sendTransport, router.rtpCapabilities);
		sender.start(20);
		await Promise.all([sender.waitConnected(), dtlsConnected(sendTransport)]);
		receiver = await createReceivingPeer(recvTransport, router.rtpCapabilities, sender.producerId);
		await Promise.all([receiver.waitConnected(), dtlsConnected(recvTransport)]);
		expect(mafalda.pipes.pipes()).toEqual([expect.objectContaining({ producerId: sender.producerId, fromWorker: 0, toWorker: 1 })]);
		const received = await receiver.waitForPackets(20);
		expect(received).toBeGreaterThanOrEqual(20);
		expect(receiver.vp8KeyFramesReceived).toBe(receiver.packetsReceived);
		// ICE went through each worker's shared socket: the selected tuples are the server's ports.
		expect(sendTransport.iceSelectedTuple?.localPort).toBe(port);
		expect(recvTransport.iceSelectedTuple?.localPort).toBe(port + 1);

		const dump = await server.dump();
		expect(dump.id).toBe(server.id);
		expect(dump.udpSockets.map((s) => s.port).sort()).toEqual([port, port + 1]);
		expect(dump.webRtcTransportIds.sort()).toEqual([sendTransport.id, recvTransport.id].sort());
		// mediasoup 3.14 also lists the transports' tuples; 3.27 does not.
		const { tupleHashes } = dump as { tupleHashes?: Array<{ webRtcTransportId: string }> };
		if (tupleHashes) expect(tupleHashes.map((h) => h.webRtcTransportId).sort()).toEqual([sendTransport.id, recvTransport.id].sort());

		// Closing the server closes every transport through it, on every worker, as mediasoup's does.
		const listenServerClosed = jest.fn();
		recvTransport.on('listenserverclose', listenServerClosed);
		const observerClose = jest.fn();
		server.observer.on('close', observerClose);
		server.close();
		expect(server.closed).toBe(true);
		expect(observerClose).toHaveBeenCalledTimes(1);
		expect(listenServerClosed).toHaveBeenCalledTimes(1);
		expect([sendTransport.closed, recvTransport.closed]).toEqual([true, true]);
		expect(recvTransport.closeReason).toBe('listenserverclose');
		expect([recvTransport.iceState, recvTransport.dtlsState, recvTransport.iceSelectedTuple]).toEqual(['closed', 'closed', undefined]);
		expect(unhandled.sort()).toEqual([sendTransport, recvTransport].sort());
		expect(server.webRtcTransportsForTesting.size).toBe(0);
		expect(mafalda.webRtcServers.size).toBe(0);
		// Nothing stays: no mediasoup server on either worker, both ports free again.
		for (const worker of mafalda.workers.values()) await waitFor(async () => (await serverIdsOn(worker)).length === 0, 'server gone', 5000);
		await waitFor(async () => (await udpPortFree(port)) && (await udpPortFree(port + 1)), 'ports free again', 5000);
		await expect(router.createWebRtcTransport({ webRtcServer: server })).rejects.toThrow(InvalidArgumentError);
	}, 60_000);

	test('a taken port fails createWebRtcServer with the worker and port named, and leaves nothing', async () => {
		mafalda = new Mafalda(mediasoup, { numWorkers: 2 });
		const port = await freePorts(2);
		held.push(await holdUdpPort(port));
		const attempt = mafalda.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ip: LOOPBACK_IP, port }] });
		await expect(attempt).rejects.toThrow(WebRtcServerListenError);
		await expect(attempt).rejects.toMatchObject({ code: 'ERR_MAFALDA_WEBRTC_SERVER_LISTEN', workerIndex: 0, message: expect.stringContaining(`udp 127.0.0.1:${port}`) });
		expect(mafalda.webRtcServers.size).toBe(0);
		const [worker] = mafalda.workers.values();
		expect(await serverIdsOn(worker)).toEqual([]);
		// The instance goes on: a server on free ports works.
		const other = await freePorts(2);
		const server = await mafalda.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ip: LOOPBACK_IP, port: other }] });
		expect(await serverIdsOn(worker)).toHaveLength(1);
		server.close();
	}, 30_000);

	test('a worker that starts later with its port taken goes on without the server; transports through it avoid that worker', async () => {
		mafalda = new Mafalda(mediasoup, { numWorkers: 2 });
		const failures: WebRtcServerFailedInfo[] = [];
		mafalda.on('webrtcserverfailed', (info) => failures.push(info));
		const port = await freePorts(2);
		held.push(await holdUdpPort(port + 1));
		const server = await mafalda.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ip: LOOPBACK_IP, port }] });
		const router = await mafalda.createMafaldaRouter({ maxConsumersPerWorker: 1 });
		const first = await router.createWebRtcTransport({ webRtcServer: server });
		// Worker 0 is full: worker 1 starts, its server cannot bind, and the transport stays on worker 0.
		const second = await router.createWebRtcTransport({ webRtcServer: server });
		expect(failures).toEqual([expect.objectContaining({ webRtcServerId: server.id, workerIndex: 1, error: expect.any(WebRtcServerListenError) })]);
		expect(mafalda.workers.size).toBe(2);
		expect([first.workerIndex, second.workerIndex]).toEqual([0, 0]);
		expect(second.iceCandidates[0].port).toBe(port);
		expect(server.workerIndices()).toEqual([0]);
		// Transports without the server still use worker 1.
		const plain = await router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: LOOPBACK_IP }] });
		expect(plain.workerIndex).toBe(1);
	}, 30_000);

	test('a restarted worker gets its server back on the same port', async () => {
		mafalda = new Mafalda(mediasoup, { numWorkers: 1, restartDelayMs: 50 });
		const port = await freePorts(1);
		const server = await mafalda.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ip: LOOPBACK_IP, port }] });
		const router = await mafalda.createMafaldaRouter();
		const before = await router.createWebRtcTransport({ webRtcServer: server });
		const pid = mafalda.supervisor().pidOf(0) as number;
		const restarted = new Promise((resolve) => mafalda?.once('workerrestarted', resolve));
		process.kill(pid, 'SIGKILL');
		await restarted;
		await waitFor(() => !isAlive(pid), 'the killed worker to be gone', 5000);
		expect(before.closed).toBe(true);
		expect(server.closed).toBe(false);
		expect(server.workerIndices()).toEqual([0]);
		expect(server.webRtcTransportsForTesting.size).toBe(0);
		const after = await router.createWebRtcTransport({ webRtcServer: server });
		expect(after.iceCandidates.map((c) => c.port)).toEqual([port]);
		expect((await server.dump()).webRtcTransportIds).toEqual([after.id]);
	}, 30_000);

	test('mafalda.close() closes its servers as a closing mediasoup Worker does (workerclose)', async () => {
		mafalda = new Mafalda(mediasoup, { numWorkers: 1 });
		const server = await mafalda.createWebRtcServer({ listenInfos: [{ protocol: 'tcp', ip: LOOPBACK_IP }] });
		const workerClose = jest.fn();
		const observerClose = jest.fn();
		server.on('workerclose', workerClose);
		server.observer.on('close', observerClose);
		await mafalda.close();
		expect([workerClose.mock.calls.length, observerClose.mock.calls.length, server.closed]).toEqual([1, 1, true]);
		await expect(mafalda.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ip: LOOPBACK_IP }] })).rejects.toMatchObject({ code: 'ERR_MAFALDA_CLOSED' });
	}, 30_000);
});

describe('WebRtcServer bad input', () => {
	let mafalda: Mafalda;
	let router: MafaldaRouter;

	beforeAll(async () => {
		mafalda = new Mafalda(mediasoup, { numWorkers: 2 });
		router = await mafalda.createMafaldaRouter();
	});
	afterAll(async () => {
		await mafalda.close();
	});

	test.each<[string, unknown, string]>([
		['no options', undefined, 'options.listenInfos'],
		['no listenInfos', {}, 'options.listenInfos'],
		['listenInfos not an array', { listenInfos: 'x' }, 'options.listenInfos'],
		['empty listenInfos', { listenInfos: [] }, 'options.listenInfos'],
		['a listenInfo not an object', { listenInfos: ['x'] }, 'options.listenInfos[0]'],
		['a bad protocol', { listenInfos: [{ protocol: 'sctp', ip: LOOPBACK_IP }] }, 'options.listenInfos[0].protocol'],
		['no ip', { listenInfos: [{ protocol: 'udp' }] }, 'options.listenInfos[0].ip'],
		['a port past 65535', { listenInfos: [{ protocol: 'udp', ip: LOOPBACK_IP, port: 70000 }] }, 'options.listenInfos[0].port'],
		['port plus the last worker index past 65535', { listenInfos: [{ protocol: 'udp', ip: LOOPBACK_IP, port: 65535 }] }, 'options.listenInfos[0].port'],
		['fewer ports than workers', { listenInfos: [{ protocol: 'udp', ip: LOOPBACK_IP, ports: [40000] }] }, 'options.listenInfos[0].ports'],
		['ports and port', { listenInfos: [{ protocol: 'udp', ip: LOOPBACK_IP, port: 1, ports: [40000, 40001] }] }, 'options.listenInfos[0].ports'],
		['a bad entry of ports', { listenInfos: [{ protocol: 'udp', ip: LOOPBACK_IP, ports: [40000, 'x'] }] }, 'options.listenInfos[0].ports[1]'],
		['appData not an object', { listenInfos: [{ protocol: 'udp', ip: LOOPBACK_IP }], appData: 3 }, 'options.appData'],
	])('createWebRtcServer with %s: InvalidArgumentError naming the field', async (_, options, field) => {
		const attempt = mafalda.createWebRtcServer(options as never);
		await expect(attempt).rejects.toThrow(InvalidArgumentError);
		await expect(attempt).rejects.toMatchObject({ field, name: 'TypeError' });
		expect(mafalda.webRtcServers.size).toBe(0);
	});

	test('createWebRtcTransport with a webRtcServer that is not an open one of this Mafalda', async () => {
		const other = new Mafalda(mediasoup, { numWorkers: 1 });
		try {
			const foreign = await other.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ip: LOOPBACK_IP }] });
			const closed = await mafalda.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ip: LOOPBACK_IP }] });
			closed.close();
			for (const webRtcServer of [{}, 'server', foreign, closed]) {
				await expect(router.createWebRtcTransport({ webRtcServer } as never)).rejects.toMatchObject({ field: 'options.webRtcServer' });
			}
			expect(router.transports.size).toBe(0);
		} finally {
			await other.close();
		}
	});

	test('a ports list gives each worker its entry', async () => {
		const base = await freePorts(2);
		const server = await mafalda.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ip: LOOPBACK_IP, ports: [base + 1, base] }] });
		expect((await server.dump()).udpSockets.map((s) => s.port)).toEqual([base + 1]);
		server.close();
	});
});
