/**
 * mafalda: one MafaldaRouter, used like a mediasoup Router, spread over router
 * shards on every CPU, with automatic piping between them.
 */
import { globalCommon } from './global';
import { packageVersion } from './package-root';

export { Mafalda } from './Mafalda';
export type { MafaldaObserverEvents } from './Mafalda';
export { MafaldaRouter } from './MafaldaRouter';
export { MafaldaNode } from './cluster/MafaldaNode';
export type { MafaldaNodeEvents } from './cluster/MafaldaNode';
export type { MafaldaRouterEvents, MafaldaRouterObserverEvents, PipeToMafaldaRouterOptions, PipeToMafaldaRouterResult } from './MafaldaRouter';
export type { PipeToRouterOptions, PipeToRouterResult } from './pipe-to-router';
export { closeAllMafaldaRouters, globalMafaldaRouters as mafaldaRouters, globalObserver as observer } from './global';
export { mafaldaRouterDefaultOptions } from './options';
export * from './errors';
export type * from './types';
export type { CommonDump } from './common-api';
export { RemoteObject } from './remote/RemoteObject';
export type { ProxyCloseReason } from './remote/RemoteObject';
export { Producer } from './remote/Producer';
export { Consumer } from './remote/Consumer';
export { DataProducer } from './remote/DataProducer';
export { DataConsumer } from './remote/DataConsumer';
export { Router } from './remote/Router';
export { RtpObserver } from './remote/RtpObserver';
export { AudioLevelObserver } from './remote/AudioLevelObserver';
export { ActiveSpeakerObserver } from './remote/ActiveSpeakerObserver';
export { Worker } from './remote/Worker';
export type { WorkerObserverEvents } from './remote/Worker';
export { WebRtcServer } from './remote/WebRtcServer';
export type { WebRtcServerEvents, WebRtcServerObserverEvents } from './remote/WebRtcServer';
export { Transport } from './remote/Transport';
export { WebRtcTransport } from './remote/WebRtcTransport';
export { PlainTransport } from './remote/PlainTransport';
export { PipeTransport } from './remote/PipeTransport';
export { DirectTransport } from './remote/DirectTransport';
export { findWorkerBinary, useCachedWorkerBinary } from './worker-binary';
export { serveMetrics } from './metrics/serve-metrics';
export type { MetricsServer, ServeMetricsOptions } from './metrics/serve-metrics';

export const version: string = packageVersion();

// The global Common API: collections and stats over everything all instances made.
export const routers = globalCommon.routers;
export const rtpObservers = globalCommon.rtpObservers;
export const transports = globalCommon.transports;
export const workers = globalCommon.workers;
export const getResourceUsages = (): ReturnType<typeof globalCommon.getResourceUsages> => globalCommon.getResourceUsages();
export const dump = (): ReturnType<typeof globalCommon.dump> => globalCommon.dump();
