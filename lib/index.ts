/**
 * mafalda: one MafaldaRouter, used like a mediasoup Router, spread over router
 * shards on every CPU, with automatic piping between them.
 */
import { globalCommon } from './global';
import { packageVersion } from './package-root';

export { Mafalda } from './Mafalda';
export { MafaldaRouter } from './MafaldaRouter';
export type { MafaldaRouterEvents, MafaldaRouterObserverEvents, PipeToMafaldaRouterOptions, PipeToMafaldaRouterResult } from './MafaldaRouter';
export { closeAllMafaldaRouters, globalMafaldaRouters as mafaldaRouters } from './global';
export { mafaldaRouterDefaultOptions } from './options';
export * from './errors';
export type * from './types';
export type { CommonDump } from './common-api';
export { RemoteObject } from './remote/remote-object';
export type { ProxyCloseReason } from './remote/remote-object';
export { RemoteProducer } from './remote/remote-producer';
export { RemoteConsumer } from './remote/remote-consumer';
export { RemoteDataProducer, RemoteDataConsumer } from './remote/remote-data';
export { RemoteRouter } from './remote/remote-router';
export { RemoteRtpObserver } from './remote/remote-rtp-observer';
export { RemoteWorker } from './remote/remote-worker';
export {
	RemoteTransport,
	RemoteWebRtcTransport,
	RemotePlainTransport,
	RemotePipeTransport,
	RemoteDirectTransport,
} from './remote/remote-transport';
export { findWorkerBinary, useCachedWorkerBinary } from './worker-binary';

export const version: string = packageVersion();

// The global Common API: collections and stats over everything all instances made.
export const routers = globalCommon.routers;
export const rtpObservers = globalCommon.rtpObservers;
export const transports = globalCommon.transports;
export const workers = globalCommon.workers;
export const getResourceUsages = (): ReturnType<typeof globalCommon.getResourceUsages> => globalCommon.getResourceUsages();
export const dump = (): ReturnType<typeof globalCommon.dump> => globalCommon.dump();
