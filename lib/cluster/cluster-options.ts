import * as net from 'node:net';
import * as os from 'node:os';
import { InvalidArgumentError } from '../errors';
import { optionalBoolean, optionalNumber, optionalObject, optionalString } from '../validate';

/** The `cluster` option of `new Mafalda(mediasoup, { cluster })`: this instance is a controller. */
export interface ClusterOptions {
	/** Redis URL (redis://[user:password@]host:port[/db]). */
	redis: string;
	/** The cluster secret; default $MAFALDA_CLUSTER_SECRET. Nodes obey only controllers that prove it. */
	secret?: string;
	/** Prefix of every Redis key (default 'mafalda:'), so several clusters can share one Redis. */
	keyPrefix?: string;
	/** How often the node registry is read besides its pub/sub notices, ms (default 1000). */
	pollIntervalMs?: number;
	/** How long one request to a node may take, ms (default 30000). */
	requestTimeoutMs?: number;
	/** How often this controller renews its lease on each node (a beat on the control channel), ms (default 1000). */
	heartbeatMs?: number;
	/**
	 * A node whose control channel is silent this long is dead (nodedied), ms
	 * (default 2500: two and a half of the nodes' 1 s beats, so one beat late
	 * by up to 1.5 s on a loaded machine is no death, and a death is told
	 * within 3 s). Longer than the nodes' --heartbeat.
	 */
	nodeTimeoutMs?: number;
	/**
	 * A stream piped straight from its producer's node to another node reaches
	 * its consumers there through a relay producer, as deeper pipes do, so
	 * that a partition between the two nodes re-pipes it (around the cut,
	 * through a third node if need be) under the same consumers (default
	 * true). The relay costs some 24 µs of the receiving node's worker-host
	 * thread per packet (docs/FAILURES.md). false: such a pipe found cut off
	 * closes its consumers ('producerclose') and the app gets 'repipefailed'.
	 */
	relayDirectPipes?: boolean;
}

export interface ResolvedClusterOptions {
	redis: string;
	secret: string;
	keyPrefix: string;
	pollIntervalMs: number;
	requestTimeoutMs: number;
	heartbeatMs: number;
	nodeTimeoutMs: number;
	relayDirectPipes: boolean;
}

function secretFrom(value: unknown, field: string): string {
	const secret = optionalString(value, field) ?? process.env.MAFALDA_CLUSTER_SECRET;
	if (secret === undefined || secret.length < 8) {
		throw new InvalidArgumentError(field, 'is required (or MAFALDA_CLUSTER_SECRET) and must have at least 8 characters');
	}
	return secret;
}

/** A Redis URL fit for a log or an error: its credentials masked. */
export function redactUrl(url: string): string {
	return url.replace(/\/\/[^@/]*@/, '//***@');
}

function redisUrl(value: unknown, field: string): string {
	const url = optionalString(value, field);
	if (url === undefined || !/^rediss?:\/\//.test(url)) throw new InvalidArgumentError(field, 'must be a redis:// or rediss:// URL');
	return url;
}

export function resolveClusterOptions(input: unknown): ResolvedClusterOptions | undefined {
	if (input === undefined) return undefined;
	const o = optionalObject(input, 'options.cluster') ?? {};
	const heartbeatMs = optionalNumber(o.heartbeatMs, 'options.cluster.heartbeatMs', 50, 60_000) ?? 1000;
	const nodeTimeoutMs = optionalNumber(o.nodeTimeoutMs, 'options.cluster.nodeTimeoutMs', 100, 600_000) ?? 2500;
	if (nodeTimeoutMs <= heartbeatMs) throw new InvalidArgumentError('options.cluster.nodeTimeoutMs', 'must be longer than heartbeatMs');
	return {
		heartbeatMs,
		nodeTimeoutMs,
		redis: redisUrl(o.redis, 'options.cluster.redis'),
		secret: secretFrom(o.secret, 'options.cluster.secret'),
		keyPrefix: optionalString(o.keyPrefix, 'options.cluster.keyPrefix') ?? 'mafalda:',
		pollIntervalMs: optionalNumber(o.pollIntervalMs, 'options.cluster.pollIntervalMs', 50, 60_000) ?? 1000,
		requestTimeoutMs: optionalNumber(o.requestTimeoutMs, 'options.cluster.requestTimeoutMs', 100, 600_000) ?? 30_000,
		relayDirectPipes: optionalBoolean(o.relayDirectPipes, 'options.cluster.relayDirectPipes') ?? true,
	};
}

/** Options of a MafaldaNode (and of `npx mafalda-node`). */
export interface MafaldaNodeOptions {
	redis: string;
	/** The address clients and other nodes reach this machine's transports and control channel at. */
	announcedIp: string;
	/** The address mediasoup and the control channel listen on (default: announcedIp). */
	listenIp?: string;
	/** mediasoup Workers to run (default: the CPU count). */
	workers?: number;
	/** RTC port range of the transports (default mediasoup's). */
	rtcMinPort?: number;
	rtcMaxPort?: number;
	secret?: string;
	/** TCP port of the control channel (default 0: a free port the system picks; it is published in Redis). */
	controlPort?: number;
	nodeId?: string;
	keyPrefix?: string;
	/** Heartbeat interval and TTL of the registry key, ms (defaults 1000 and 3000). */
	heartbeatMs?: number;
	ttlMs?: number;
	/** How long a drain (SIGTERM) waits for transports to close before it closes them, ms (default 30000). */
	drainTimeoutMs?: number;
	/** Folder of this node's CPU slot locks (default as Mafalda's). */
	cpuSlotDir?: string;
	loadReportIntervalMs?: number;
	logLevel?: 'debug' | 'warn' | 'error' | 'none';
	/** Serve this node's Prometheus metrics on this TCP port (0: a free one the system picks); no metrics endpoint without it. */
	metricsPort?: number;
	/** Address of the metrics endpoint (default '127.0.0.1'). */
	metricsHost?: string;
}

export type ResolvedNodeOptions = Required<Omit<MafaldaNodeOptions, 'rtcMinPort' | 'rtcMaxPort' | 'cpuSlotDir' | 'secret' | 'metricsPort'>> & {
	metricsPort: number | undefined;
	secret: string;
	rtcMinPort: number | undefined;
	rtcMaxPort: number | undefined;
	cpuSlotDir: string | undefined;
};

function ip(value: unknown, field: string): string {
	const s = optionalString(value, field);
	if (s === undefined || net.isIP(s) === 0) throw new InvalidArgumentError(field, 'must be an IP address');
	return s;
}

export function resolveNodeOptions(input: unknown): ResolvedNodeOptions {
	const o = optionalObject(input, 'options');
	if (!o) throw new InvalidArgumentError('options', 'is required ({ redis, announcedIp, ... })');
	const announcedIp = ip(o.announcedIp, 'options.announcedIp');
	const rtcMinPort = optionalNumber(o.rtcMinPort, 'options.rtcMinPort', 1, 65535, true);
	const rtcMaxPort = optionalNumber(o.rtcMaxPort, 'options.rtcMaxPort', 1, 65535, true);
	if ((rtcMinPort === undefined) !== (rtcMaxPort === undefined) || (rtcMinPort !== undefined && rtcMaxPort !== undefined && rtcMinPort > rtcMaxPort)) {
		throw new InvalidArgumentError('options.rtcMinPort', 'and rtcMaxPort go together, min <= max');
	}
	const heartbeatMs = optionalNumber(o.heartbeatMs, 'options.heartbeatMs', 50, 60_000) ?? 1000;
	const ttlMs = optionalNumber(o.ttlMs, 'options.ttlMs', 100, 600_000) ?? 3000;
	if (ttlMs <= heartbeatMs) throw new InvalidArgumentError('options.ttlMs', 'must be longer than heartbeatMs');
	const logLevel = optionalString(o.logLevel, 'options.logLevel') ?? 'warn';
	if (!['debug', 'warn', 'error', 'none'].includes(logLevel)) throw new InvalidArgumentError('options.logLevel', 'must be debug, warn, error or none');
	const nodeId = optionalString(o.nodeId, 'options.nodeId') ?? `${os.hostname()}-${process.pid}-${Math.random().toString(16).slice(2, 8)}`;
	if (!/^[A-Za-z0-9._-]{1,128}$/.test(nodeId)) throw new InvalidArgumentError('options.nodeId', 'may hold letters, digits, ".", "_" and "-" only');
	return {
		redis: redisUrl(o.redis, 'options.redis'),
		announcedIp,
		listenIp: o.listenIp === undefined ? announcedIp : ip(o.listenIp, 'options.listenIp'),
		workers: optionalNumber(o.workers, 'options.workers', 1, 1024, true) ?? os.availableParallelism(),
		rtcMinPort,
		rtcMaxPort,
		secret: secretFrom(o.secret, 'options.secret'),
		controlPort: optionalNumber(o.controlPort, 'options.controlPort', 0, 65535, true) ?? 0,
		nodeId,
		keyPrefix: optionalString(o.keyPrefix, 'options.keyPrefix') ?? 'mafalda:',
		heartbeatMs,
		ttlMs,
		drainTimeoutMs: optionalNumber(o.drainTimeoutMs, 'options.drainTimeoutMs', 0, 3_600_000) ?? 30_000,
		cpuSlotDir: optionalString(o.cpuSlotDir, 'options.cpuSlotDir'),
		loadReportIntervalMs: optionalNumber(o.loadReportIntervalMs, 'options.loadReportIntervalMs', 10, 3_600_000) ?? 1000,
		logLevel: logLevel as ResolvedNodeOptions['logLevel'],
		metricsPort: optionalNumber(o.metricsPort, 'options.metricsPort', 0, 65535, true),
		metricsHost: o.metricsHost === undefined ? '127.0.0.1' : ip(o.metricsHost, 'options.metricsHost'),
	};
}
