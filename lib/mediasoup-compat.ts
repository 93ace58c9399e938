// The one place that knows how mediasoup's API differs between the versions
// mafalda is tested with (3.14.16 and 3.27.1; the peer dependency is any 3.x
// from 3.12). Every type here is derived from the installed mediasoup's own
// declarations, so the same source compiles against either version and means
// what that version means.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { types } from 'mediasoup';

/**
 * A codec of `RouterOptions.mediaCodecs`. 3.14 types it as RtpCodecCapability
 * with an optional preferredPayloadType; 3.27 made that field mandatory there
 * and added RouterRtpCodecCapability, where it stays optional.
 */
export type RouterRtpCodecCapability = NonNullable<types.RouterOptions['mediaCodecs']>[number];

/**
 * The argument of `RtpObserver.addProducer()` / `removeProducer()`: 3.14 names
 * it RtpObserverAddRemoveProducerOptions, 3.27 only declares it inline.
 */
export type RtpObserverProducerOptions = Parameters<types.RtpObserver['addProducer']>[0];

/**
 * The `DirectTransportOptions` field that limits a message's size: 3.14 has
 * `maxMessageSize`, 3.20 and later `maxSendMessageSize` (and maxReceiveMessageSize).
 */
export type DirectTransportMessageSizeOption = 'maxMessageSize' | 'maxSendMessageSize';

/** Which of the two names the mediasoup module of `version` reads. */
export function directTransportMessageSizeOption(version: string): DirectTransportMessageSizeOption {
	return mediasoupMinor(version) >= 20 ? 'maxSendMessageSize' : 'maxMessageSize';
}

/** The minor version of a mediasoup 3.x version string (3.27.1 -> 27). */
export function mediasoupMinor(version: string): number {
	const match = /^3\.(\d+)\./.exec(version);
	if (!match) throw new Error(`not a mediasoup 3.x version: ${version}`);
	return Number(match[1]);
}

/**
 * The largest SCTP message a transport accepts, as its SDP's
 * a=max-message-size says. 3.20 replaced usrsctp with mediasoup's own SCTP
 * stack and `SctpParameters.maxMessageSize` with maxSendMessageSize and
 * maxReceiveMessageSize.
 */
export function sctpMaxReceiveMessageSize(sctpParameters: types.SctpParameters): number {
	const p = sctpParameters as { maxReceiveMessageSize?: number; maxMessageSize?: number };
	const size = p.maxReceiveMessageSize ?? p.maxMessageSize;
	if (typeof size !== 'number') throw new Error('sctpParameters has neither maxReceiveMessageSize nor maxMessageSize');
	return size;
}

/**
 * The folder of the mediasoup package that `require('mediasoup')` loads (from
 * `paths`, as require.resolve takes them). 3.27's package.json has an
 * `exports` map without './package.json', so require.resolve('mediasoup/package.json')
 * throws there; the main entry resolves in every version, below its package.json.
 */
export function mediasoupPackageDir(paths?: string[]): string {
	return packageDirOf(require.resolve('mediasoup', paths ? { paths } : undefined));
}

/** The folder of the nearest package.json above `file`. */
export function packageDirOf(file: string): string {
	let dir = path.dirname(file);
	while (!fs.existsSync(path.join(dir, 'package.json'))) {
		const parent = path.dirname(dir);
		if (parent === dir) return path.dirname(file);
		dir = parent;
	}
	return dir;
}

export type ErrorClass = new (message: string) => Error;

/** mediasoup's own error classes; a version lacks some (see mediasoupErrorClasses). */
export interface MediasoupErrorClasses {
	UnsupportedError?: ErrorClass;
	/** 3.14 (and up to 3.20): a call on a closed object or Worker. */
	InvalidStateError?: ErrorClass;
	/** 3.21 and later: a call on a closed object (the worker no longer knows its id), an unknown producer. */
	NotFoundError?: ErrorClass;
	/** 3.21 and later: a call after the Worker closed. */
	WorkerClosedError?: ErrorClass;
}

/**
 * mediasoup's own error classes, from the mediasoup package this module
 * resolves (the peer dependency, the one the app imports); undefined for a
 * class that version lacks. 3.14 exports them at run time as `types.*`; 3.21
 * and later as `errors.*` (3.27 has no `types` at run time at all), without
 * InvalidStateError: there a call on a closed object rejects with
 * NotFoundError and one after its Worker closed with WorkerClosedError.
 */
export function mediasoupErrorClasses(): MediasoupErrorClasses {
	try {
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		const mod = require('mediasoup') as { types?: Record<string, unknown>; errors?: Record<string, unknown> };
		const find = (name: string): ErrorClass | undefined => {
			const found = mod.errors?.[name] ?? mod.types?.[name];
			return typeof found === 'function' ? (found as ErrorClass) : undefined;
		};
		return {
			UnsupportedError: find('UnsupportedError'),
			InvalidStateError: find('InvalidStateError'),
			NotFoundError: find('NotFoundError'),
			WorkerClosedError: find('WorkerClosedError'),
		};
	} catch {
		// No mediasoup package next to mafalda.
		return {};
	}
}

/** The mediasoup class a call on a closed object (transport, producer, router, ...) rejects with: InvalidStateError up to 3.20, NotFoundError since. */
export function closedObjectErrorClass(classes: MediasoupErrorClasses = mediasoupErrorClasses()): ErrorClass | undefined {
	return classes.NotFoundError ?? classes.InvalidStateError;
}

/** The mediasoup class a call after the Worker closed rejects with: InvalidStateError up to 3.20, WorkerClosedError since. */
export function closedWorkerErrorClass(classes: MediasoupErrorClasses = mediasoupErrorClasses()): ErrorClass | undefined {
	return classes.WorkerClosedError ?? classes.InvalidStateError;
}

/**
 * The class for an unknown producer or data producer id: NotFoundError since
 * 3.21, which throws it everywhere; TypeError before (3.14's pipeToRouter
 * throws a TypeError, its consume() a plain Error, which a TypeError is too).
 */
export function unknownIdErrorClass(classes: MediasoupErrorClasses = mediasoupErrorClasses()): ErrorClass {
	return classes.NotFoundError ?? TypeError;
}

/**
 * mediasoup's own computation of a Router's RTP capabilities from its media
 * codecs (`ortc.generateRouterRtpCapabilities`, what router.updateMediaCodecs()
 * runs; that method came with 3.16.7); undefined for a module without it
 * (3.14 exports no `ortc`). It throws mediasoup's errors for bad codecs.
 */
export function routerRtpCapabilitiesGenerator(mediasoup: object): ((mediaCodecs: RouterRtpCodecCapability[]) => types.RtpCapabilities) | undefined {
	const ortc = (mediasoup as { ortc?: { generateRouterRtpCapabilities?: unknown } }).ortc;
	const generate = ortc?.generateRouterRtpCapabilities;
	if (typeof generate !== 'function') return undefined;
	// mediasoup's Router hands it a clone too: it may write to the codecs it is given.
	return (mediaCodecs) => (generate as (codecs: RouterRtpCodecCapability[]) => types.RtpCapabilities)(structuredClone(mediaCodecs));
}

/**
 * A class the mediasoup module exports at run time (PlainTransport, Producer,
 * ...), which an app could test `instanceof` against: 3.14 exports its
 * classes as `types.*`; 3.27 exports none (it has no `types` at run time).
 */
export function mediasoupRuntimeClass(mediasoup: object, name: string): (abstract new (...args: never[]) => unknown) | undefined {
	const found = (mediasoup as { types?: Record<string, unknown> }).types?.[name];
	return typeof found === 'function' ? (found as abstract new (...args: never[]) => unknown) : undefined;
}

/**
 * A transport's negotiated SCTP stream counts (`sctpNegotiatedCapabilities`),
 * which mediasoup's own SCTP stack (3.20 and later) reports; 3.14 has none.
 */
export interface SctpNegotiatedCapabilities {
	negotiatedMaxOutboundStreams: number;
	negotiatedMaxInboundStreams: number;
}

/** The arguments of DataProducer.send(): 3.27 adds `ignoredSubchannel` after 3.14's four. */
export type DataProducerSendArguments = Parameters<types.DataProducer['send']>;

/** What DataConsumer.send() resolves with: nothing with 3.14, the buffered amount (bytes) with 3.27. */
export type DataConsumerSendResult = Awaited<ReturnType<types.DataConsumer['send']>>;

/**
 * mediasoup's WebRtcTransportOptions without the listening part (listenInfos,
 * listenIps, port, webRtcServer). 3.14 exports it as WebRtcTransportOptionsBase;
 * 3.27 keeps that type private.
 */
export type WebRtcTransportOptionsBase = Omit<types.WebRtcTransportOptions, 'listenInfos' | 'listenIps' | 'port' | 'webRtcServer'>;

/**
 * PipeTransport's SCTP stream counts (usrsctp's OS and MIS), a
 * `numSctpStreams` option up to 3.19; 3.20's own SCTP stack has no such option
 * and ignores it.
 */
export interface NumSctpStreams {
	OS: number;
	MIS: number;
}

/**
 * One WebRtcServer dump from the dumps of its per-worker servers: every list
 * concatenated. The lists differ by version (3.14 has `tupleHashes`, 3.27 not).
 */
export function mergeWebRtcServerDumps(id: string, dumps: types.WebRtcServerDump[]): types.WebRtcServerDump {
	const merged: Record<string, unknown> = { id, udpSockets: [], tcpServers: [], webRtcTransportIds: [], localIceUsernameFragments: [] };
	for (const dump of dumps) {
		for (const [key, value] of Object.entries(dump)) {
			if (Array.isArray(value)) merged[key] = [...((merged[key] as unknown[] | undefined) ?? []), ...value];
		}
	}
	return merged as types.WebRtcServerDump;
}
