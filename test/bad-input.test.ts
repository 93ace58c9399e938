// Bad input everywhere: every public method of every mafalda object, called
// with wrong types, missing fields, out-of-range values, unknown ids, or on a
// closed object, throws or rejects with an error that names the problem. And
// none of it disturbs the process, the workers, or the media of another room.
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { directTransportMessageSizeOption, type RouterRtpCodecCapability } from '../lib/mediasoup-compat';
import { Mafalda } from '../lib/Mafalda';
import { MafaldaRouter } from '../lib/MafaldaRouter';
import { Consumer } from '../lib/remote/Consumer';
import { DataConsumer } from '../lib/remote/DataConsumer';
import { DataProducer } from '../lib/remote/DataProducer';
import { Producer } from '../lib/remote/Producer';
import { Router } from '../lib/remote/Router';
import { RtpObserver } from '../lib/remote/RtpObserver';
import { DirectTransport } from '../lib/remote/DirectTransport';
import { PipeTransport } from '../lib/remote/PipeTransport';
import { PlainTransport } from '../lib/remote/PlainTransport';
import { Transport } from '../lib/remote/Transport';
import { WebRtcTransport } from '../lib/remote/WebRtcTransport';
import { Worker } from '../lib/remote/Worker';
import { WebRtcServer } from '../lib/remote/WebRtcServer';
import { LOCALHOST, PacedProducer, ReceivingEnd, VP8_CODECS } from './helpers/faults-media';
import { waitFor } from './helpers/faults-process';

const CODECS: RouterRtpCodecCapability[] = [...VP8_CODECS, { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }];
const LISTEN = { protocol: 'udp', ip: LOCALHOST } as const;
const AUDIO_RTP: types.RtpParameters = {
	codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
	encodings: [{ ssrc: 2222 }],
};

/** Everything the cases call, made once. */
interface Fixture {
	mafalda: Mafalda;
	closedMafalda: Mafalda;
	router: MafaldaRouter;
	otherRouter: MafaldaRouter;
	closedRouter: MafaldaRouter;
	webrtc: WebRtcTransport;
	plain: PlainTransport;
	pipe: PipeTransport;
	direct: DirectTransport;
	closedTransport: PlainTransport;
	closedWebRtc: WebRtcTransport;
	closedDirect: DirectTransport;
	producer: Producer;
	closedProducer: Producer;
	consumer: Consumer;
	closedConsumer: Consumer;
	dataProducer: DataProducer;
	closedDataProducer: DataProducer;
	dataConsumer: DataConsumer;
	closedDataConsumer: DataConsumer;
	audioLevel: RtpObserver;
	activeSpeaker: RtpObserver;
	closedObserver: RtpObserver;
	shard: Router;
	closedShard: Router;
	worker: Worker;
	closedWorker: Worker;
	// The witness: another room whose media must keep flowing.
	witness: { producer: PacedProducer; end: ReceivingEnd; consumer: Consumer };
	workerPids: number[];
}

let fx: Fixture;

beforeAll(async () => {
	const mafalda = new Mafalda(mediasoup, { numWorkers: 2 });
	const witnessRoom = await mafalda.createMafaldaRouter({ routerOptions: { mediaCodecs: VP8_CODECS } });
	const wp = await PacedProducer.create(witnessRoom);
	const wEnd = await ReceivingEnd.create(witnessRoom);
	const wConsumer = await wEnd.consume(witnessRoom, wp.producer);
	wp.start(5);

	const router = await mafalda.createMafaldaRouter({ routerOptions: { mediaCodecs: CODECS } });
	const otherRouter = await mafalda.createMafaldaRouter({ routerOptions: { mediaCodecs: CODECS } });
	const closedRouter = await mafalda.createMafaldaRouter({ routerOptions: { mediaCodecs: CODECS } });
	const closedShard = [...closedRouter.routers.values()][0];
	await closedRouter.close();
	const webrtc = await router.createWebRtcTransport({ listenInfos: [LISTEN], enableSctp: true });
	const plain = await router.createPlainTransport({ listenInfo: LISTEN, rtcpMux: true, comedia: true });
	const pipe = await router.createPipeTransport({ listenInfo: LISTEN });
	const direct = await router.createDirectTransport();
	const closedTransport = await router.createPlainTransport({ listenInfo: LISTEN });
	closedTransport.close();
	const closedWebRtc = await router.createWebRtcTransport({ listenInfos: [LISTEN] });
	closedWebRtc.close();
	const closedDirect = await router.createDirectTransport();
	closedDirect.close();
	const producer = await plain.produce({ kind: 'audio', rtpParameters: AUDIO_RTP });
	const closedProducer = await plain.produce({ kind: 'audio', rtpParameters: { ...AUDIO_RTP, encodings: [{ ssrc: 3333 }] } });
	closedProducer.close();
	const consumerTransport = await router.createPlainTransport({ listenInfo: LISTEN });
	const consumer = await consumerTransport.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
	const closedConsumer = await consumerTransport.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
	closedConsumer.close();
	const dataProducer = await direct.produceData();
	const closedDataProducer = await direct.produceData();
	closedDataProducer.close();
	const dataConsumer = await direct.consumeData({ dataProducerId: dataProducer.id });
	const closedDataConsumer = await direct.consumeData({ dataProducerId: dataProducer.id });
	closedDataConsumer.close();
	const audioLevel = await router.createAudioLevelObserver();
	const activeSpeaker = await router.createActiveSpeakerObserver();
	const closedObserver = await router.createAudioLevelObserver();
	closedObserver.close();
	const closedMafalda = new Mafalda(mediasoup, { numWorkers: 1 });
	await closedMafalda.createMafaldaRouter();
	const closedWorker = [...closedMafalda.workers.values()][0];
	await closedMafalda.close();
	fx = {
		mafalda,
		closedMafalda,
		router,
		otherRouter,
		closedRouter,
		webrtc,
		plain,
		pipe,
		direct,
		closedTransport,
		closedWebRtc,
		closedDirect,
		producer,
		closedProducer,
		consumer,
		closedConsumer,
		dataProducer,
		closedDataProducer,
		dataConsumer,
		closedDataConsumer,
		audioLevel,
		activeSpeaker,
		closedObserver,
		shard: [...router.routers.values()][0],
		closedShard,
		worker: [...mafalda.workers.values()][0],
		closedWorker,
		witness: { producer: wp, end: wEnd, consumer: wConsumer },
		workerPids: mafalda.supervisor().workers().map((h) => h.pid),
	};
	await waitFor(() => wEnd.received(wConsumer) > 10, 'the witness room to receive media');
});

afterAll(async () => {
	fx?.witness.producer.stop();
	await fx?.mafalda.close();
	await fx?.witness.producer.close();
	await fx?.witness.end.close();
});

/** Calls `fn` untyped: bad input is exactly what the types would refuse. */
type Call = (f: Fixture) => unknown;
const u = <T>(value: unknown): T => value as T;

interface Case {
	/** `Class.method`: the coverage check below matches these against the classes' methods. */
	method: string;
	input: string;
	call: Call;
	/** What the error message must say (the field, id or state at fault). */
	error: RegExp;
	code?: string;
}

const FIELD = 'ERR_MAFALDA_INVALID_ARGUMENT';

function expectFalse(value: boolean): void {
	if (value !== false) throw new Error(`expected false, got ${String(value)}`);
}
const CLOSED = 'ERR_MAFALDA_OBJECT_CLOSED';

const CASES: Case[] = [
	// --- Mafalda
	{ method: 'Mafalda.constructor', input: 'no mediasoup', call: () => new Mafalda(u(undefined)), error: /mediasoup must be a mediasoup-compatible module/, code: FIELD },
	{ method: 'Mafalda.constructor', input: 'options not an object', call: () => new Mafalda(mediasoup, 'x'), error: /options must be an object/, code: FIELD },
	{ method: 'Mafalda.constructor', input: 'numWorkers 0', call: () => new Mafalda(mediasoup, { numWorkers: 0 }), error: /options.numWorkers must be between 1 and/, code: FIELD },
	{ method: 'Mafalda.constructor', input: 'numWorkers 1.5', call: () => new Mafalda(mediasoup, { numWorkers: 1.5 }), error: /options.numWorkers must be an integer/, code: FIELD },
	{ method: 'Mafalda.constructor', input: 'numWorkers "2"', call: () => new Mafalda(mediasoup, { numWorkers: '2' }), error: /options.numWorkers must be an integer, got "2"/, code: FIELD },
	{ method: 'Mafalda.constructor', input: 'maxRestarts -1', call: () => new Mafalda(mediasoup, { maxRestarts: -1 }), error: /options.maxRestarts must be between 0/, code: FIELD },
	{ method: 'Mafalda.constructor', input: 'restartDelayMs NaN', call: () => new Mafalda(mediasoup, { restartDelayMs: Number.NaN }), error: /options.restartDelayMs must be a number/, code: FIELD },
	{ method: 'Mafalda.constructor', input: 'restartWindowMs "1s"', call: () => new Mafalda(mediasoup, { restartWindowMs: '1s' }), error: /options.restartWindowMs must be a number/, code: FIELD },
	{ method: 'Mafalda.constructor', input: 'maxRestartDelayMs -1', call: () => new Mafalda(mediasoup, { maxRestartDelayMs: -1 }), error: /options.maxRestartDelayMs must be between/, code: FIELD },
	{ method: 'Mafalda.constructor', input: 'loadReportIntervalMs 1', call: () => new Mafalda(mediasoup, { loadReportIntervalMs: 1 }), error: /options.loadReportIntervalMs must be between 10/, code: FIELD },
	{ method: 'Mafalda.constructor', input: 'pipeListenIp ""', call: () => new Mafalda(mediasoup, { pipeListenIp: '' }), error: /options.pipeListenIp must be a non-empty string/, code: FIELD },
	{ method: 'Mafalda.constructor', input: 'pipeEnableSrtp "yes"', call: () => new Mafalda(mediasoup, { pipeEnableSrtp: 'yes' }), error: /options.pipeEnableSrtp must be a boolean/, code: FIELD },
	{ method: 'Mafalda.constructor', input: 'cluster.relayDirectPipes "no"', call: () => new Mafalda(mediasoup, { numWorkers: 0, cluster: { redis: 'redis://127.0.0.1:1', secret: 'a-secret-of-16-ch', relayDirectPipes: 'no' } }), error: /options.cluster.relayDirectPipes must be a boolean/, code: FIELD },
	{ method: 'Mafalda.constructor', input: 'cpuSlotDir 5', call: () => new Mafalda(mediasoup, { cpuSlotDir: 5 }), error: /options.cpuSlotDir must be a non-empty string/, code: FIELD },
	{ method: 'Mafalda.constructor', input: 'mediasoupEntry relative', call: () => new Mafalda(mediasoup, { mediasoupEntry: 'mediasoup/index.js' }), error: /options.mediasoupEntry must be the absolute path/, code: FIELD },
	{ method: 'Mafalda.createMafaldaRouter', input: 'options "x"', call: (f) => f.mafalda.createMafaldaRouter(u('x')), error: /options must be an object/, code: FIELD },
	{ method: 'Mafalda.createMafaldaRouter', input: 'id 5', call: (f) => f.mafalda.createMafaldaRouter(u({ id: 5 })), error: /options.id must be a non-empty string/, code: FIELD },
	{ method: 'Mafalda.createMafaldaRouter', input: 'id of an open router', call: (f) => f.mafalda.createMafaldaRouter({ id: f.router.id }), error: /options.id ".*" is already the id of a MafaldaRouter/, code: FIELD },
	{ method: 'Mafalda.createMafaldaRouter', input: 'maxWorkers -1', call: (f) => f.mafalda.createMafaldaRouter({ maxWorkers: -1 }), error: /options.maxWorkers must be between 0/, code: FIELD },
	{ method: 'Mafalda.createMafaldaRouter', input: 'watermarkWorker 101', call: (f) => f.mafalda.createMafaldaRouter({ watermarkWorker: 101 }), error: /options.watermarkWorker must be between 0 and 100/, code: FIELD },
	{ method: 'Mafalda.createMafaldaRouter', input: 'maxConsumersPerWorker 0', call: (f) => f.mafalda.createMafaldaRouter({ maxConsumersPerWorker: 0 }), error: /options.maxConsumersPerWorker must be between 1/, code: FIELD },
	{ method: 'Mafalda.createMafaldaRouter', input: 'routerOptions "x"', call: (f) => f.mafalda.createMafaldaRouter(u({ routerOptions: 'x' })), error: /options.routerOptions must be an object/, code: FIELD },
	{ method: 'Mafalda.createMafaldaRouter', input: 'mediaCodecs not an array', call: (f) => f.mafalda.createMafaldaRouter(u({ routerOptions: { mediaCodecs: {} } })), error: /options.routerOptions.mediaCodecs must be an array/, code: FIELD },
	{ method: 'Mafalda.createMafaldaRouter', input: 'unknown codec', call: (f) => f.mafalda.createMafaldaRouter({ routerOptions: { mediaCodecs: [{ kind: 'video', mimeType: 'video/NOPE', clockRate: 90000 }] } }), error: /media codec not supported \[mimeType:video\/NOPE\]/ },
	{ method: 'Mafalda.createMafaldaRouter', input: 'workerSettings "x"', call: (f) => f.mafalda.createMafaldaRouter(u({ workerSettings: 'x' })), error: /options.workerSettings must be an object/, code: FIELD },
	{ method: 'Mafalda.createMafaldaRouter', input: 'appData 5', call: (f) => f.mafalda.createMafaldaRouter(u({ appData: 5 })), error: /options.appData must be an object/, code: FIELD },
	{ method: 'Mafalda.createMafaldaRouter', input: 'on a closed Mafalda', call: (f) => f.closedMafalda.createMafaldaRouter(), error: /Mafalda instance is closed/, code: 'ERR_MAFALDA_CLOSED' },
	{ method: 'Mafalda.closeAllMafaldaRouters', input: 'on a closed Mafalda (no-op)', call: (f) => f.closedMafalda.closeAllMafaldaRouters(), error: /^$/ },
	{ method: 'Mafalda.close', input: 'twice (no-op)', call: (f) => f.closedMafalda.close(), error: /^$/ },
	{ method: 'Mafalda.dump', input: 'on a closed Mafalda', call: (f) => f.closedMafalda.dump(), error: /^$/ },
	{ method: 'Mafalda.getResourceUsages', input: 'on a closed Mafalda', call: (f) => f.closedMafalda.getResourceUsages(), error: /^$/ },
	{ method: 'Mafalda.constructor', input: 'maxCpuSlots 0', call: () => new Mafalda(mediasoup, { maxCpuSlots: 0 }), error: /options.maxCpuSlots must be between 1/, code: FIELD },
	{ method: 'Mafalda.constructor', input: 'cpuSlotCount 0', call: () => new Mafalda(mediasoup, { cpuSlotCount: 0 }), error: /options.cpuSlotCount must be between 1/, code: FIELD },
	{ method: 'Mafalda.constructor', input: 'cpuSlotCount 2.5', call: () => new Mafalda(mediasoup, { cpuSlotCount: 2.5 }), error: /options.cpuSlotCount must be an integer/, code: FIELD },
	{ method: 'Mafalda.constructor', input: 'prestartWorkers past numWorkers', call: () => new Mafalda(mediasoup, { numWorkers: 1, prestartWorkers: 2 }), error: /options.prestartWorkers must be between 0 and 1/, code: FIELD },
	{ method: 'Mafalda.constructor', input: 'workerSettings "x"', call: () => new Mafalda(mediasoup, { workerSettings: 'x' }), error: /options.workerSettings must be an object/, code: FIELD },
	{ method: 'Mafalda.ready', input: '(none)', call: (f) => f.mafalda.ready(), error: /^$/ },
	{ method: 'Mafalda.ready', input: 'on a closed Mafalda', call: (f) => f.closedMafalda.ready(), error: /Mafalda instance is closed/, code: 'ERR_MAFALDA_CLOSED' },
	{ method: 'Mafalda.createWebRtcServer', input: 'no listenInfos', call: (f) => f.mafalda.createWebRtcServer(u({})), error: /options.listenInfos must be a non-empty array/, code: FIELD },
	{ method: 'Mafalda.createWebRtcServer', input: 'ports too few', call: (f) => f.mafalda.createWebRtcServer({ listenInfos: [{ ...LISTEN, ports: [40000] }] }), error: /options.listenInfos\[0\].ports must have one port per worker/, code: FIELD },
	{ method: 'Mafalda.createWebRtcServer', input: 'on a closed Mafalda', call: (f) => f.closedMafalda.createWebRtcServer({ listenInfos: [LISTEN] }), error: /Mafalda instance is closed/, code: 'ERR_MAFALDA_CLOSED' },

	// --- MafaldaRouter
	{ method: 'MafaldaRouter.canConsume', input: 'no options', call: (f) => f.router.canConsume(u(undefined)), error: /options must be an object, got undefined/, code: FIELD },
	{ method: 'MafaldaRouter.canConsume', input: 'unknown producerId (false, as mediasoup)', call: (f) => expectFalse(f.router.canConsume({ producerId: 'no-such', rtpCapabilities: f.router.rtpCapabilities })), error: /^$/ },
	{ method: 'MafaldaRouter.canConsume', input: 'producerId 5', call: (f) => f.router.canConsume(u({ producerId: 5, rtpCapabilities: {} })), error: /producerId must be a non-empty string/, code: FIELD },
	{ method: 'MafaldaRouter.canConsume', input: 'rtpCapabilities missing', call: (f) => f.router.canConsume(u({ producerId: f.producer.id })), error: /rtpCapabilities must be an object/, code: FIELD },
	{ method: 'MafaldaRouter.getRtpCapabilities', input: 'on a closed router', call: (f) => f.closedRouter.getRtpCapabilities(), error: /MafaldaRouter ".*" is closed/, code: 'ERR_MAFALDA_ROUTER_CLOSED' },
	{ method: 'MafaldaRouter.createWebRtcTransport', input: 'no options', call: (f) => f.router.createWebRtcTransport(u(undefined)), error: /options must be an object/, code: FIELD },
	{ method: 'MafaldaRouter.createWebRtcTransport', input: 'no listenInfos', call: (f) => f.router.createWebRtcTransport(u({})), error: /options.listenInfos is required/, code: FIELD },
	{ method: 'MafaldaRouter.createWebRtcTransport', input: 'webRtcServer not one of this Mafalda', call: (f) => f.router.createWebRtcTransport(u({ webRtcServer: {} })), error: /options.webRtcServer must be an open WebRtcServer of this Mafalda/, code: FIELD },
	{ method: 'MafaldaRouter.createWebRtcTransport', input: 'listenInfos "x"', call: (f) => f.router.createWebRtcTransport(u({ listenInfos: 'x' })), error: /options.listenInfos must be an array/, code: FIELD },
	{ method: 'MafaldaRouter.createWebRtcTransport', input: 'bad ip', call: (f) => f.router.createWebRtcTransport({ listenInfos: [{ protocol: 'udp', ip: 'not-an-ip' }] }), error: /invalid IP 'not-an-ip'/ },
	{ method: 'MafaldaRouter.createWebRtcTransport', input: 'appData 5', call: (f) => f.router.createWebRtcTransport(u({ listenInfos: [LISTEN], appData: 5 })), error: /options.appData must be an object/, code: FIELD },
	{ method: 'MafaldaRouter.createWebRtcTransport', input: 'on a closed router', call: (f) => f.closedRouter.createWebRtcTransport({ listenInfos: [LISTEN] }), error: /is closed/, code: 'ERR_MAFALDA_ROUTER_CLOSED' },
	{ method: 'MafaldaRouter.createPlainTransport', input: 'no listenInfo', call: (f) => f.router.createPlainTransport(u({ rtcpMux: true })), error: /options.listenInfo is required/, code: FIELD },
	{ method: 'MafaldaRouter.createPlainTransport', input: 'port 70000', call: (f) => f.router.createPlainTransport({ listenInfo: { ...LISTEN, port: 70000 } }), error: /options.listenInfo.port must be between 0 and 65535, got 70000/, code: FIELD },
	{ method: 'MafaldaRouter.createPlainTransport', input: 'protocol "sctp"', call: (f) => f.router.createPlainTransport(u({ listenInfo: { protocol: 'sctp', ip: LOCALHOST } })), error: /options.listenInfo.protocol must be "udp" or "tcp", got "sctp"/, code: FIELD },
	{ method: 'MafaldaRouter.createPlainTransport', input: 'listenInfo without ip', call: (f) => f.router.createPlainTransport(u({ listenInfo: { protocol: 'udp' } })), error: /options.listenInfo.ip must be a non-empty string/, code: FIELD },
	{ method: 'MafaldaRouter.createPlainTransport', input: 'a function in options', call: (f) => f.router.createPlainTransport(u({ listenInfo: LISTEN, rtcpMux: () => true })), error: /rtcpMux cannot be a function/, code: FIELD },
	{ method: 'MafaldaRouter.createPipeTransport', input: '"x"', call: (f) => f.router.createPipeTransport(u('x')), error: /options must be an object/, code: FIELD },
	{ method: 'MafaldaRouter.createPipeTransport', input: 'no listenInfo', call: (f) => f.router.createPipeTransport(u({})), error: /options.listenInfo is required/, code: FIELD },
	{ method: 'MafaldaRouter.createPipeTransport', input: 'port -1', call: (f) => f.router.createPipeTransport({ listenInfo: { ...LISTEN, port: -1 } }), error: /options.listenInfo.port must be between 0 and 65535/, code: FIELD },
	// mediasoup < 3.20 checks maxMessageSize; 3.20 renamed it maxSendMessageSize and checks nothing.
	...(directTransportMessageSizeOption(mediasoup.version) === 'maxMessageSize'
		? [{ method: 'MafaldaRouter.createDirectTransport', input: 'maxMessageSize -1', call: (f: Fixture) => f.router.createDirectTransport(u({ maxMessageSize: -1 })), error: /maxMessageSize must be a positive number/ }]
		: []),
	{ method: 'MafaldaRouter.createDirectTransport', input: '"x"', call: (f) => f.router.createDirectTransport(u('x')), error: /options must be an object/, code: FIELD },
	{ method: 'MafaldaRouter.createAudioLevelObserver', input: 'maxEntries 0', call: (f) => f.router.createAudioLevelObserver({ maxEntries: 0 }), error: /maxEntries must be a positive number/ },
	{ method: 'MafaldaRouter.createAudioLevelObserver', input: 'threshold 10', call: (f) => f.router.createAudioLevelObserver({ threshold: 10 }), error: /threshol/ },
	{ method: 'MafaldaRouter.createActiveSpeakerObserver', input: 'interval "x"', call: (f) => f.router.createActiveSpeakerObserver(u({ interval: 'x' })), error: /interval must be an number/ },
	{ method: 'MafaldaRouter.createActiveSpeakerObserver', input: 'on a closed router', call: (f) => f.closedRouter.createActiveSpeakerObserver(), error: /is closed/, code: 'ERR_MAFALDA_ROUTER_CLOSED' },
	{ method: 'MafaldaRouter.pipeToMafaldaRouter', input: 'no options', call: (f) => f.router.pipeToMafaldaRouter(u(undefined)), error: /options must be an object/, code: FIELD },
	{ method: 'MafaldaRouter.pipeToMafaldaRouter', input: 'mafaldaRouter {}', call: (f) => f.router.pipeToMafaldaRouter(u({ producerId: f.producer.id, mafaldaRouter: {} })), error: /options.mafaldaRouter must be a MafaldaRouter/, code: FIELD },
	{ method: 'MafaldaRouter.pipeToMafaldaRouter', input: 'to itself', call: (f) => f.router.pipeToMafaldaRouter({ producerId: f.producer.id, mafaldaRouter: f.router }), error: /options.mafaldaRouter cannot be the same/, code: FIELD },
	{ method: 'MafaldaRouter.pipeToMafaldaRouter', input: 'unknown producerId', call: (f) => f.router.pipeToMafaldaRouter({ producerId: 'no-such-producer', mafaldaRouter: f.otherRouter }), error: /no producer with id "no-such-producer"/, code: 'ERR_MAFALDA_UNKNOWN_PRODUCER' },
	{ method: 'MafaldaRouter.pipeToMafaldaRouter', input: 'producerId 5', call: (f) => f.router.pipeToMafaldaRouter(u({ producerId: 5, mafaldaRouter: f.otherRouter })), error: /options.producerId must be a non-empty string/, code: FIELD },
	{ method: 'MafaldaRouter.pipeToMafaldaRouter', input: 'to a closed router', call: (f) => f.router.pipeToMafaldaRouter({ producerId: f.producer.id, mafaldaRouter: f.closedRouter }), error: /is closed/, code: 'ERR_MAFALDA_ROUTER_CLOSED' },
	{ method: 'MafaldaRouter.close', input: 'twice (no-op)', call: (f) => f.closedRouter.close(), error: /^$/ },
	{ method: 'MafaldaRouter.dump', input: 'on a closed router (as mediasoup: rejects)', call: (f) => f.closedRouter.dump(), error: /MafaldaRouter ".*" is closed/, code: 'ERR_MAFALDA_ROUTER_CLOSED' },
	{ method: 'MafaldaRouter.mafaldaDump', input: 'on a closed router', call: (f) => f.closedRouter.mafaldaDump(), error: /^$/ },
	{ method: 'MafaldaRouter.updateMediaCodecs', input: 'mediaCodecs not an array', call: (f) => f.router.updateMediaCodecs(u({})), error: /mediaCodecs must be an array/, code: FIELD },
	{ method: 'MafaldaRouter.updateMediaCodecs', input: 'on a closed router', call: (f) => f.closedRouter.updateMediaCodecs([]), error: /MafaldaRouter ".*" is closed/, code: 'ERR_MAFALDA_ROUTER_CLOSED' },
	{ method: 'MafaldaRouter.pipeToRouter', input: 'no options', call: (f) => f.router.pipeToRouter(u(undefined)), error: /options must be an object/, code: FIELD },
	{ method: 'MafaldaRouter.pipeToRouter', input: 'router {}', call: (f) => f.router.pipeToRouter(u({ producerId: f.producer.id, router: {} })), error: /options.router must be a MafaldaRouter/, code: FIELD },
	{ method: 'MafaldaRouter.pipeToRouter', input: 'to itself', call: (f) => f.router.pipeToRouter({ producerId: f.producer.id, router: f.router }), error: /options.router cannot be this MafaldaRouter/, code: FIELD },
	{ method: 'MafaldaRouter.pipeToRouter', input: 'neither producerId nor dataProducerId', call: (f) => f.router.pipeToRouter({ router: f.otherRouter }), error: /options.producerId or options.dataProducerId is required/, code: FIELD },
	{ method: 'MafaldaRouter.pipeToRouter', input: 'both producerId and dataProducerId', call: (f) => f.router.pipeToRouter({ producerId: f.producer.id, dataProducerId: f.dataProducer.id, router: f.otherRouter, keepId: false }), error: /cannot both be given/, code: FIELD },
	{ method: 'MafaldaRouter.pipeToRouter', input: 'same Mafalda, keepId by default', call: (f) => f.router.pipeToRouter({ producerId: f.producer.id, router: f.otherRouter }), error: /options.router belongs to the same Mafalda/, code: FIELD },
	{ method: 'MafaldaRouter.pipeToRouter', input: 'keepId "no"', call: (f) => f.router.pipeToRouter(u({ producerId: f.producer.id, router: f.otherRouter, keepId: 'no' })), error: /options.keepId must be a boolean/, code: FIELD },
	{ method: 'MafaldaRouter.pipeToRouter', input: 'unknown producerId', call: (f) => f.router.pipeToRouter({ producerId: 'no-such-producer', router: f.otherRouter, keepId: false }), error: /no producer with id "no-such-producer"/, code: 'ERR_MAFALDA_UNKNOWN_PRODUCER' },
	{ method: 'MafaldaRouter.pipeToRouter', input: 'unknown dataProducerId', call: (f) => f.router.pipeToRouter({ dataProducerId: 'no-such', router: f.otherRouter, keepId: false }), error: /no data producer with id "no-such"/, code: 'ERR_MAFALDA_UNKNOWN_DATA_PRODUCER' },
	{ method: 'MafaldaRouter.pipeToRouter', input: 'to a closed router', call: (f) => f.router.pipeToRouter({ producerId: f.producer.id, router: f.closedRouter, keepId: false }), error: /is closed/, code: 'ERR_MAFALDA_ROUTER_CLOSED' },
	{ method: 'MafaldaRouter.pipeToRouter', input: 'on a closed router', call: (f) => f.closedRouter.pipeToRouter({ producerId: f.producer.id, router: f.router }), error: /is closed/, code: 'ERR_MAFALDA_ROUTER_CLOSED' },
	{ method: 'MafaldaRouter.getResourceUsages', input: 'on a closed router', call: (f) => f.closedRouter.getResourceUsages(), error: /^$/ },
	{ method: 'MafaldaRouter.shards', input: 'on a closed router', call: (f) => f.closedRouter.shards(), error: /^$/ },

	// --- Transports
	{ method: 'Transport.produce', input: 'no options', call: (f) => f.plain.produce(u(undefined)), error: /options must be an object/, code: FIELD },
	{ method: 'Transport.produce', input: 'kind "data"', call: (f) => f.plain.produce(u({ kind: 'data', rtpParameters: AUDIO_RTP })), error: /options.kind must be "audio" or "video"/, code: FIELD },
	{ method: 'Transport.produce', input: 'no rtpParameters', call: (f) => f.plain.produce(u({ kind: 'audio' })), error: /options.rtpParameters must be an object/, code: FIELD },
	{ method: 'Transport.produce', input: 'codec the router lacks', call: (f) => f.plain.produce({ kind: 'video', rtpParameters: { codecs: [{ mimeType: 'video/H264', payloadType: 102, clockRate: 90000 }], encodings: [{ ssrc: 5 }] } }), error: /unsupported codec \[mimeType:video\/H264/ },
	{ method: 'Transport.produce', input: 'the id of another producer', call: (f) => f.plain.produce(u({ id: f.producer.id, kind: 'audio', rtpParameters: AUDIO_RTP })), error: /options.id ".*" is already the id of a producer/, code: FIELD },
	{ method: 'Transport.produce', input: 'id 5', call: (f) => f.plain.produce(u({ id: 5, kind: 'audio', rtpParameters: AUDIO_RTP })), error: /options.id must be a non-empty string/, code: FIELD },
	{ method: 'Transport.produce', input: 'on a closed transport', call: (f) => f.closedTransport.produce({ kind: 'audio', rtpParameters: AUDIO_RTP }), error: /transport ".*" is closed/, code: 'ERR_MAFALDA_TRANSPORT_CLOSED' },
	{ method: 'Transport.consume', input: 'no options', call: (f) => f.plain.consume(u(undefined)), error: /options must be an object/, code: FIELD },
	{ method: 'Transport.consume', input: 'producerId 5', call: (f) => f.plain.consume(u({ producerId: 5, rtpCapabilities: f.router.rtpCapabilities })), error: /options.producerId must be a non-empty string/, code: FIELD },
	{ method: 'Transport.consume', input: 'unknown producerId', call: (f) => f.plain.consume({ producerId: 'no-such-producer', rtpCapabilities: f.router.rtpCapabilities }), error: /no producer with id "no-such-producer"/, code: 'ERR_MAFALDA_UNKNOWN_PRODUCER' },
	{ method: 'Transport.consume', input: 'no rtpCapabilities', call: (f) => f.plain.consume(u({ producerId: f.producer.id })), error: /options.rtpCapabilities must be an object/, code: FIELD },
	{ method: 'Transport.consume', input: 'capabilities that cannot consume', call: (f) => f.plain.consume({ producerId: f.producer.id, rtpCapabilities: { codecs: [] } }), error: /no compatible media codecs/ },
	{ method: 'Transport.consume', input: 'a producer of another room', call: (f) => f.plain.consume({ producerId: f.witness.producer.producer.id, rtpCapabilities: f.router.rtpCapabilities }), error: /no producer with id ".*" in MafaldaRouter/, code: 'ERR_MAFALDA_UNKNOWN_PRODUCER' },
	{ method: 'Transport.consume', input: 'on a closed transport', call: (f) => f.closedTransport.consume({ producerId: f.producer.id, rtpCapabilities: f.router.rtpCapabilities }), error: /is closed/, code: 'ERR_MAFALDA_TRANSPORT_CLOSED' },
	{ method: 'Transport.produceData', input: '"x"', call: (f) => f.direct.produceData(u('x')), error: /options must be an object/, code: FIELD },
	{ method: 'Transport.produceData', input: 'on a transport without SCTP', call: (f) => f.pipe.produceData({ sctpStreamParameters: { streamId: 1 } }), error: /SCTP not enabled/ },
	{ method: 'Transport.produceData', input: 'the id of another data producer', call: (f) => f.direct.produceData(u({ id: f.dataProducer.id })), error: /options.id ".*" is already the id of a data producer/, code: FIELD },
	{ method: 'Transport.consumeData', input: 'no dataProducerId', call: (f) => f.direct.consumeData(u({})), error: /options.dataProducerId must be a non-empty string/, code: FIELD },
	{ method: 'Transport.consumeData', input: 'unknown dataProducerId', call: (f) => f.direct.consumeData({ dataProducerId: 'no-such' }), error: /no data producer with id "no-such"/, code: 'ERR_MAFALDA_UNKNOWN_DATA_PRODUCER' },
	{ method: 'Transport.connect', input: 'no params', call: (f) => f.pipe.connect(u(undefined)), error: /params must be an object/, code: FIELD },
	{ method: 'Transport.connect', input: 'port "x"', call: (f) => f.pipe.connect(u({ ip: LOCALHOST, port: 'x' })), error: /missing port/ },
	{ method: 'Transport.connect', input: 'dtlsParameters "x"', call: (f) => f.webrtc.connect(u({ dtlsParameters: 'x' })), error: /dtlsParameters.fingerprints/ },
	{ method: 'Transport.connect', input: 'on a closed transport', call: (f) => f.closedTransport.connect({ ip: LOCALHOST, port: 1000 }), error: /plain-transport ".*" is closed/, code: CLOSED },
	{ method: 'Transport.getStats', input: 'on a closed transport', call: (f) => f.closedTransport.getStats(), error: /is closed/, code: CLOSED },
	{ method: 'Transport.dump', input: 'on a closed transport', call: (f) => f.closedTransport.dump(), error: /is closed/, code: CLOSED },
	{ method: 'Transport.setMaxIncomingBitrate', input: '"x"', call: (f) => f.plain.setMaxIncomingBitrate(u('x')), error: /bitrate must be an integer, got "x"/, code: FIELD },
	{ method: 'Transport.setMaxIncomingBitrate', input: '-1', call: (f) => f.plain.setMaxIncomingBitrate(-1), error: /bitrate must be between 0/, code: FIELD },
	{ method: 'Transport.setMaxOutgoingBitrate', input: '"x"', call: (f) => f.webrtc.setMaxOutgoingBitrate(u('x')), error: /bitrate must be an integer/, code: FIELD },
	{ method: 'Transport.setMaxOutgoingBitrate', input: 'missing', call: (f) => f.webrtc.setMaxOutgoingBitrate(u(undefined)), error: /bitrate must be an integer, got undefined/, code: FIELD },
	{ method: 'Transport.setMinOutgoingBitrate', input: '-5', call: (f) => f.webrtc.setMinOutgoingBitrate(-5), error: /bitrate must be between 0/, code: FIELD },
	{ method: 'Transport.enableTraceEvent', input: '"x"', call: (f) => f.plain.enableTraceEvent(u('x')), error: /types must be an array/ },
	{ method: 'Transport.close', input: 'twice (no-op)', call: (f) => f.closedTransport.close(), error: /^$/ },
	{ method: 'WebRtcTransport.restartIce', input: 'on a closed transport', call: (f) => f.closedWebRtc.restartIce(), error: /webrtc-transport ".*" is closed/, code: CLOSED },
	{ method: 'DirectTransport.sendRtcp', input: 'on a closed transport', call: (f) => f.closedDirect.sendRtcp(Buffer.alloc(8)), error: /direct-transport ".*" is closed/, code: CLOSED },
	{ method: 'DirectTransport.sendRtcp', input: '"x"', call: (f) => f.direct.sendRtcp(u('x')), error: /rtcpPacket must be a Buffer/, code: FIELD },

	// --- Producer
	{ method: 'Producer.pause', input: 'on a closed producer', call: (f) => f.closedProducer.pause(), error: /producer ".*" is closed/, code: CLOSED },
	{ method: 'Producer.resume', input: 'on a closed producer', call: (f) => f.closedProducer.resume(), error: /is closed/, code: CLOSED },
	{ method: 'Producer.getStats', input: 'on a closed producer', call: (f) => f.closedProducer.getStats(), error: /is closed/, code: CLOSED },
	{ method: 'Producer.dump', input: 'on a closed producer', call: (f) => f.closedProducer.dump(), error: /is closed/, code: CLOSED },
	{ method: 'Producer.enableTraceEvent', input: '[5]', call: (f) => f.producer.enableTraceEvent(u([5])), error: /every type must be a string/ },
	{ method: 'Producer.send', input: '"x"', call: (f) => f.producer.send(u('x')), error: /rtpPacket must be a Buffer/, code: FIELD },
	{ method: 'Producer.send', input: 'on a closed producer', call: (f) => f.closedProducer.send(Buffer.alloc(12)), error: /is closed/, code: CLOSED },
	{ method: 'Producer.close', input: 'twice (no-op)', call: (f) => f.closedProducer.close(), error: /^$/ },

	// --- Consumer
	{ method: 'Consumer.setPreferredLayers', input: 'no layers', call: (f) => f.consumer.setPreferredLayers(u(undefined)), error: /layers must be an object, got undefined/, code: FIELD },
	{ method: 'Consumer.setPreferredLayers', input: 'spatialLayer "x"', call: (f) => f.consumer.setPreferredLayers(u({ spatialLayer: 'x' })), error: /spatialLayer must be a number/ },
	{ method: 'Consumer.setPriority', input: '-1', call: (f) => f.consumer.setPriority(-1), error: /priority must be a positive number/ },
	{ method: 'Consumer.setPriority', input: '"x"', call: (f) => f.consumer.setPriority(u('x')), error: /priority must be a positive number/ },
	{ method: 'Consumer.unsetPriority', input: 'on a closed consumer', call: (f) => f.closedConsumer.unsetPriority(), error: /consumer ".*" is closed/, code: CLOSED },
	{ method: 'Consumer.requestKeyFrame', input: 'on a closed consumer', call: (f) => f.closedConsumer.requestKeyFrame(), error: /is closed/, code: CLOSED },
	{ method: 'Consumer.pause', input: 'on a closed consumer', call: (f) => f.closedConsumer.pause(), error: /is closed/, code: CLOSED },
	{ method: 'Consumer.resume', input: 'on a closed consumer', call: (f) => f.closedConsumer.resume(), error: /is closed/, code: CLOSED },
	{ method: 'Consumer.getStats', input: 'on a closed consumer', call: (f) => f.closedConsumer.getStats(), error: /is closed/, code: CLOSED },
	{ method: 'Consumer.dump', input: 'on a closed consumer', call: (f) => f.closedConsumer.dump(), error: /is closed/, code: CLOSED },
	{ method: 'Consumer.enableTraceEvent', input: '"x"', call: (f) => f.consumer.enableTraceEvent(u('x')), error: /types must be an array/ },
	{ method: 'Consumer.close', input: 'twice (no-op)', call: (f) => f.closedConsumer.close(), error: /^$/ },

	// --- Data producer and consumer
	{ method: 'DataProducer.send', input: '5', call: (f) => f.dataProducer.send(u(5)), error: /message must be a string or a Buffer/, code: FIELD },
	{ method: 'DataProducer.send', input: 'on a closed data producer', call: (f) => f.closedDataProducer.send('hi'), error: /data-producer ".*" is closed/, code: CLOSED },
	{ method: 'DataProducer.pause', input: 'on a closed data producer', call: (f) => f.closedDataProducer.pause(), error: /is closed/, code: CLOSED },
	{ method: 'DataProducer.resume', input: 'on a closed data producer', call: (f) => f.closedDataProducer.resume(), error: /is closed/, code: CLOSED },
	{ method: 'DataProducer.getStats', input: 'on a closed data producer', call: (f) => f.closedDataProducer.getStats(), error: /is closed/, code: CLOSED },
	{ method: 'DataProducer.dump', input: 'on a closed data producer', call: (f) => f.closedDataProducer.dump(), error: /is closed/, code: CLOSED },
	{ method: 'DataProducer.close', input: 'twice (no-op)', call: (f) => f.closedDataProducer.close(), error: /^$/ },
	{ method: 'DataConsumer.send', input: '5', call: (f) => f.dataConsumer.send(u(5)), error: /message must be a string or a Buffer/ },
	{ method: 'DataConsumer.send', input: 'on a closed data consumer', call: (f) => f.closedDataConsumer.send('hi'), error: /data-consumer ".*" is closed/, code: CLOSED },
	{ method: 'DataConsumer.setBufferedAmountLowThreshold', input: '"x"', call: (f) => f.dataConsumer.setBufferedAmountLowThreshold(u('x')), error: /threshold must be an integer, got "x"/, code: FIELD },
	{ method: 'DataConsumer.setBufferedAmountLowThreshold', input: 'on a direct transport', call: (f) => f.dataConsumer.setBufferedAmountLowThreshold(10), error: /invalid DataConsumer type/ },
	{ method: 'DataConsumer.getBufferedAmount', input: 'on a closed data consumer', call: (f) => f.closedDataConsumer.getBufferedAmount(), error: /data-consumer ".*" is closed/, code: CLOSED },
	{ method: 'DataConsumer.setSubchannels', input: '"x"', call: (f) => f.dataConsumer.setSubchannels(u('x')), error: /subchannels must be an array/, code: FIELD },
	{ method: 'MafaldaRouter.toJSON', input: 'on a closed router', call: async (f) => void JSON.stringify(f.closedRouter), error: /^$/ },
	{ method: 'Worker.toJSON', input: 'open and closed', call: async (f) => void JSON.stringify([f.worker, f.closedWorker]), error: /^$/ },
	{ method: 'RemoteObject.toJSON', input: 'on a closed object', call: async (f) => void JSON.stringify(f.closedTransport), error: /^$/ },
	{ method: 'DataConsumer.setSubchannels', input: '[1, "2"]', call: (f) => f.dataConsumer.setSubchannels(u([1, '2'])), error: /subchannels\[1\] must be an integer, got "2"/, code: FIELD },
	{ method: 'DataConsumer.addSubchannel', input: '"x"', call: (f) => f.dataConsumer.addSubchannel(u('x')), error: /subchannel must be an integer, got "x"/, code: FIELD },
	{ method: 'DataConsumer.removeSubchannel', input: '70000', call: (f) => f.dataConsumer.removeSubchannel(70000), error: /subchannel must be between 0 and 65535/, code: FIELD },
	{ method: 'DataConsumer.pause', input: 'on a closed data consumer', call: (f) => f.closedDataConsumer.pause(), error: /is closed/, code: CLOSED },
	{ method: 'DataConsumer.resume', input: 'on a closed data consumer', call: (f) => f.closedDataConsumer.resume(), error: /is closed/, code: CLOSED },
	{ method: 'DataConsumer.getStats', input: 'on a closed data consumer', call: (f) => f.closedDataConsumer.getStats(), error: /is closed/, code: CLOSED },
	{ method: 'DataConsumer.dump', input: 'on a closed data consumer', call: (f) => f.closedDataConsumer.dump(), error: /is closed/, code: CLOSED },
	{ method: 'DataConsumer.close', input: 'twice (no-op)', call: (f) => f.closedDataConsumer.close(), error: /^$/ },

	// --- RTP observers
	{ method: 'RtpObserver.addProducer', input: 'no options', call: (f) => f.audioLevel.addProducer(u(undefined)), error: /options must be an object/, code: FIELD },
	{ method: 'RtpObserver.addProducer', input: 'producerId 5', call: (f) => f.audioLevel.addProducer(u({ producerId: 5 })), error: /producerId must be a non-empty string/, code: FIELD },
	{ method: 'RtpObserver.addProducer', input: 'unknown producerId', call: (f) => f.activeSpeaker.addProducer({ producerId: 'no-such-producer' }), error: /no producer with id "no-such-producer"/, code: 'ERR_MAFALDA_UNKNOWN_PRODUCER' },
	{ method: 'RtpObserver.addProducer', input: 'on a closed observer', call: (f) => f.closedObserver.addProducer({ producerId: f.producer.id }), error: /audio-level-observer ".*" is closed/, code: CLOSED },
	{ method: 'RtpObserver.removeProducer', input: 'unknown producerId', call: (f) => f.audioLevel.removeProducer({ producerId: 'no-such-producer' }), error: /no producer with id "no-such-producer"/, code: 'ERR_MAFALDA_UNKNOWN_PRODUCER' },
	{ method: 'RtpObserver.removeProducer', input: 'on a closed observer', call: (f) => f.closedObserver.removeProducer({ producerId: f.producer.id }), error: /audio-level-observer ".*" is closed/, code: CLOSED },
	{ method: 'RtpObserver.removeProducer', input: 'no options', call: (f) => f.audioLevel.removeProducer(u(undefined)), error: /options must be an object/, code: FIELD },
	{ method: 'RtpObserver.pause', input: 'on a closed observer', call: (f) => f.closedObserver.pause(), error: /is closed/, code: CLOSED },
	{ method: 'RtpObserver.resume', input: 'on a closed observer', call: (f) => f.closedObserver.resume(), error: /is closed/, code: CLOSED },
	{ method: 'RtpObserver.dump', input: 'on a closed observer', call: (f) => f.closedObserver.dump(), error: /is closed/, code: CLOSED },
	{ method: 'RtpObserver.close', input: 'twice (no-op)', call: (f) => f.closedObserver.close(), error: /^$/ },

	// --- Router shards and workers
	{ method: 'Router.canConsume', input: 'unknown producerId', call: (f) => f.shard.canConsume('no-such-producer', f.router.rtpCapabilities), error: /^$/ },
	{ method: 'Router.canConsume', input: 'on a closed shard', call: (f) => f.closedShard.canConsume(f.producer.id, f.router.rtpCapabilities), error: /router ".*" is closed/, code: CLOSED },
	{ method: 'Router.dump', input: 'on a closed shard', call: (f) => f.closedShard.dump(), error: /router ".*" is closed/, code: CLOSED },
	{ method: 'Router.close', input: 'twice (no-op)', call: (f) => f.closedShard.close(), error: /^$/ },
	{ method: 'Worker.getResourceUsage', input: '(none)', call: (f) => f.worker.getResourceUsage(), error: /^$/ },
	{ method: 'Worker.getResourceUsage', input: 'on a closed worker', call: (f) => f.closedWorker.getResourceUsage(), error: /worker ".*" is closed/, code: CLOSED },
	{ method: 'Worker.dump', input: 'on a closed worker', call: (f) => f.closedWorker.dump(), error: /worker ".*" is closed/, code: CLOSED },

	// --- WebRtcServer (each row makes its own, closed)
	{ method: 'WebRtcServer.dump', input: 'on a closed server', call: async (f) => (await closedServer(f)).dump(), error: /webrtc-server ".*" is closed/, code: CLOSED },
	{ method: 'WebRtcServer.close', input: 'twice (no-op)', call: async (f) => (await closedServer(f)).close(), error: /^$/ },
	{ method: 'WebRtcServer.workerIndices', input: 'on a closed server', call: async (f) => expectEmpty((await closedServer(f)).workerIndices()), error: /^$/ },
];

/** A WebRtcServer of the fixture's Mafalda, closed. */
async function closedServer(f: Fixture): Promise<WebRtcServer> {
	const server = await f.mafalda.createWebRtcServer({ listenInfos: [LISTEN] });
	server.close();
	return server;
}

function expectEmpty(list: unknown[]): void {
	if (list.length > 0) throw new Error(`expected nothing, got ${JSON.stringify(list)}`);
}

/** Runs a case; returns the error it threw or rejected with, or undefined if it succeeded. */
async function outcome(c: Case): Promise<Error | undefined> {
	try {
		await c.call(fx);
		return undefined;
	} catch (error) {
		return error as Error;
	}
}

const printing = process.env.BAD_INPUT_PRINT === '1';

describe.each(CASES.map((c) => [`${c.method}(${c.input})`, c] as const))('%s', (_name, c) => {
	test(c.error.source === '^$' ? 'succeeds or is a no-op' : 'fails, naming the problem', async () => {
		const error = await outcome(c);
		if (printing) console.log(`${c.method}(${c.input}) -> ${error ? `${(error as { code?: string }).code ?? error.name}: ${error.message}` : 'ok'}`);
		if (c.error.source === '^$') {
			expect(error).toBeUndefined();
			return;
		}
		expect(error).toBeInstanceOf(Error);
		expect((error as Error).message).toMatch(c.error);
		if (c.code) expect((error as { code?: string }).code).toBe(c.code);
	});
});

// Every public method has a row above: a new method without one fails here.
const CLASSES: Array<[string, { prototype: object }]> = [
	['Mafalda', Mafalda],
	['MafaldaRouter', MafaldaRouter],
	['WebRtcTransport', WebRtcTransport],
	['PlainTransport', PlainTransport],
	['PipeTransport', PipeTransport],
	['DirectTransport', DirectTransport],
	['Producer', Producer],
	['Consumer', Consumer],
	['DataProducer', DataProducer],
	['DataConsumer', DataConsumer],
	['RtpObserver', RtpObserver],
	['Router', Router],
	['Worker', Worker],
	['WebRtcServer', WebRtcServer],
];

/** Methods marked @internal, or protected: not the app's to call. */
const NOT_PUBLIC = new Set([
	// Mafalda
	'supervisor', 'place', 'workerHandle', 'remoteWorker', 'anyWorker', 'register', 'resolve', 'proxyContext', 'proxyOn', 'workersWithout',
	// WebRtcServer
	'listenInfosFor', 'openOn', 'runsOn', 'workerGone', 'handleTransport', 'workerClosed',
	// MafaldaRouter
	'hasShardOn', 'ownsShard', 'shardCount', 'open', 'acceptPipedProducer', 'workerDied', 'workerClosed', 'tornDown', 'producerById', 'dataProducerById', 'createInternalPipeTransport', 'pipeConsume', 'pipeProduce',
	'pipeConsumeData', 'pipeProduceData', 'shardGone', 'relayProducer', 'transitShard',
	// RemoteObject and kin
	'onClosed', 'listIn', 'markClosed', 'handleEvent', 'reasonEvent', 'emitUntyped', 'call', 'notify', 'closeRemote', 'field', 'adopt', 'callProducerMethod', 'togglePause',
	'closedFields', 'closedError',
]);

function publicMethods(cls: { prototype: object }): Array<{ owner: string; name: string }> {
	const out: Array<{ owner: string; name: string }> = [];
	const seen = new Set<string>();
	for (let proto: object | null = cls.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
		const owner = (proto as { constructor: { name: string } }).constructor.name;
		// EventEmitter's own methods are eventemitter3's, not mafalda's.
		if (owner === 'EventEmitter') break;
		for (const name of Object.getOwnPropertyNames(proto)) {
			const descriptor = Object.getOwnPropertyDescriptor(proto, name);
			if (name === 'constructor' || seen.has(name) || NOT_PUBLIC.has(name) || typeof descriptor?.value !== 'function') continue;
			seen.add(name);
			out.push({ owner, name });
		}
	}
	return out;
}

test('the table covers every public method of every class', () => {
	const covered = new Set(CASES.map((c) => c.method));
	const missing: string[] = [];
	for (const [name, cls] of CLASSES) {
		// A row for the class or for the ancestor that defines the method counts.
		const chain = [name, ...publicMethods(cls).map((m) => m.owner)];
		for (const m of publicMethods(cls)) {
			if (![name, m.owner, ...chain].some((owner) => covered.has(`${owner}.${m.name}`))) missing.push(`${name}.${m.name}`);
		}
	}
	expect(missing).toEqual([]);
	expect(CASES.filter((c) => c.method === 'Mafalda.constructor').length).toBeGreaterThan(5);
});

test('the app closing a shard\'s router itself: its transports close, the room opens a new shard and goes on', async () => {
	const room = await fx.mafalda.createMafaldaRouter({ routerOptions: { mediaCodecs: CODECS } });
	const t = await room.createDirectTransport();
	const closed = jest.fn();
	t.on('routerclose', closed);
	const shard = [...room.routers.values()][0];
	shard.close();
	await waitFor(() => t.closed, 'the shard\'s transport to close');
	expect(closed).toHaveBeenCalledTimes(1);
	expect(room.closed).toBe(false);
	expect(room.shards().size).toBe(0);
	const again = await room.createDirectTransport();
	expect(again.shardId).not.toBe(shard.id);
	expect([...room.routers.keys()]).toEqual([again.shardId]);
	await room.close();
});

test('after all of it, the process, the workers and the other room are unharmed', async () => {
	const { end, consumer, producer } = fx.witness;
	const diedEvents = jest.fn();
	fx.mafalda.on('workerdied', diedEvents);
	// The same workers, still running.
	expect(fx.mafalda.supervisor().workers().map((h) => h.pid)).toEqual(fx.workerPids);
	// The witness room's media never stopped: no loss (mediasoup does not
	// buffer, so an interruption shows as lost packets) and it still flows.
	// No bound on silence: the sender and receiver share this busy test
	// thread, whose stalls would show as gaps on a loaded machine.
	const before = end.received(consumer);
	await waitFor(() => end.received(consumer) >= before + 20, 'the witness media to keep flowing');
	expect(end.lost(consumer)).toBe(0);
	expect(producer.producer.closed || consumer.closed).toBe(false);
	// The room under fire still works for good input.
	const t = await fx.router.createPlainTransport({ listenInfo: LISTEN });
	const c = await t.consume({ producerId: fx.producer.id, rtpCapabilities: fx.router.rtpCapabilities });
	expect(c.producerId).toBe(fx.producer.id);
	await fx.audioLevel.addProducer({ producerId: fx.producer.id });
	await fx.audioLevel.removeProducer({ producerId: fx.producer.id });
	expect(diedEvents).not.toHaveBeenCalled();
});
