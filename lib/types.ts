import type { types } from 'mediasoup';
import type { LoadReport, NodeSummary, Placement } from '../actors/protocol';
import type { ClusterOptions } from './cluster/cluster-options';
import type { NodeLeftInfo } from './cluster/cluster-controller';
import type { WebRtcTransportOptionsBase } from './mediasoup-compat';
import type { WebRtcServer } from './remote/WebRtcServer';

export type AppData = types.AppData;
export type { LoadReport, NodeSummary, NodeWorkerSummary, Placement, ShardLoad, WorkerLoadView } from '../actors/protocol';
export type { ClusterOptions, MafaldaNodeOptions } from './cluster/cluster-options';
export type { NodeLeftInfo } from './cluster/cluster-controller';

/**
 * A module with mediasoup's API: the `mediasoup` package itself, or a fork of
 * it. mafalda loads the same module file inside its worker host threads.
 */
export interface MediasoupModule {
	version: string;
	createWorker: (...args: never[]) => Promise<unknown>;
	[key: string]: unknown;
}

export interface RestartOptions {
	/** Restarts allowed per worker within `restartWindowMs` (default 5); past that it stays down. */
	maxRestarts?: number;
	restartWindowMs?: number;
	/** First restart delay in ms (default 100), doubled for each further death in the window, up to `maxRestartDelayMs` (default 5000). */
	restartDelayMs?: number;
	maxRestartDelayMs?: number;
}

export interface MafaldaOptions extends RestartOptions {
	/** Most mediasoup Workers this instance runs; default: the CPU count (os.availableParallelism()). */
	numWorkers?: number;
	/** Interval of periodic load reports, ms (default 1000). Reports are also sent on every change. */
	loadReportIntervalMs?: number;
	/** IP the PipeTransports between shards listen on (default '127.0.0.1'). */
	pipeListenIp?: string;
	/** Encrypt pipes between shards with SRTP (default false, as mediasoup's pipeToRouter). */
	pipeEnableSrtp?: boolean;
	/**
	 * Folder of the machine-wide CPU slot locks that keep all processes together
	 * at one mediasoup Worker per CPU (default: $MAFALDA_CPU_SLOT_DIR or <tmpdir>/mafalda-cpu-slots).
	 */
	cpuSlotDir?: string;
	/**
	 * CPU slots of `cpuSlotDir`, i.e. mediasoup Workers all processes on it may
	 * run together (default: os.availableParallelism()). Every process on one
	 * folder should say the same. Set it where the CPU count is not the
	 * machine's share for media (a container's CPU quota), or above it on
	 * purpose, knowing that Workers then share CPUs.
	 */
	cpuSlotCount?: number;
	/** Absolute path of the mediasoup module's entry file, when mafalda cannot find it from the module object. */
	mediasoupEntry?: string;
	/**
	 * Makes this instance a controller of mafalda nodes found in Redis
	 * (docs/CLUSTER.md). Without it nothing of the cluster runs and no Redis is contacted.
	 */
	cluster?: ClusterOptions;
	/**
	 * CPU slots (mediasoup Workers) this process may hold at most, for several
	 * app processes sharing one machine (default: no limit but numWorkers and the free slots).
	 */
	maxCpuSlots?: number;
	/** Workers to start at once instead of on demand (default 0); `await mafalda.ready()` waits for them. */
	prestartWorkers?: number;
	/** mediasoup WorkerSettings of workers not started for a router: prestarted ones, and the first one a WebRtcServer needs. */
	workerSettings?: types.WorkerSettings;
}

/** A mediasoup TransportListenInfo of a WebRtcServer, with mafalda's per-worker ports. */
export interface WebRtcServerListenInfo extends types.TransportListenInfo {
	/**
	 * The port of each worker's server, by worker index (one per worker,
	 * instead of `port`). With `port`, worker i listens on `port + i`.
	 */
	ports?: number[];
}

/** mediasoup's WebRtcServerOptions; one mediasoup WebRtcServer runs on every worker. */
export interface WebRtcServerOptions {
	listenInfos: WebRtcServerListenInfo[];
	appData?: AppData;
}

/** mediasoup's WebRtcTransportOptions, whose webRtcServer is one of mafalda.createWebRtcServer(). */
export type WebRtcTransportOptions = WebRtcTransportOptionsBase & {
	listenInfos?: types.TransportListenInfo[];
	listenIps?: Array<types.TransportListenIp | string>;
	port?: number;
	webRtcServer?: WebRtcServer;
};

export interface WebRtcServerFailedInfo {
	webRtcServerId: string;
	workerIndex: number;
	error: Error;
}

export interface MafaldaRouterOptions {
	/** Default: a random UUIDv4. */
	id?: string;
	/** Most distinct workers this router's shards may use; default the CPU count (a cluster controller's: 1024, every worker of its nodes). 0: only workers that already exist. */
	maxWorkers?: number;
	/** mediasoup RouterOptions, used for every shard (e.g. mediaCodecs). */
	routerOptions?: types.RouterOptions;
	/** mediasoup WorkerSettings for workers started for this router. */
	workerSettings?: types.WorkerSettings;
	/** CPU % of a worker above which it takes no more placements while another can (default 60). */
	watermarkWorker?: number;
	/** Consumers per worker above which it takes no more placements while another can (default 500). */
	maxConsumersPerWorker?: number;
	appData?: AppData;
}

export interface WorkerDiedInfo {
	workerIndex: number;
	error: string;
	/** Whether the supervisor will start a replacement. */
	willRestart: boolean;
	/** Ids of the MafaldaRouters that had a shard on the worker. */
	routerIds: string[];
	/** Ids of the app's transports that were closed with it. */
	transportIds: string[];
}

export interface ShardInfo {
	routerId: string;
	shardId: string;
	workerIndex: number;
}

export interface PipeInfo {
	/** A media producer's pipe, or a data producer's (then producerId is the data producer's id). */
	stream: 'media' | 'data';
	producerId: string;
	fromShardId: string;
	toShardId: string;
	fromWorker: number;
	toWorker: number;
	/** Depth of the receiving shard in the producer's pipe tree (1 = fed by the producer's own shard). */
	depth: number;
	/** The pipe's RTP is encrypted (always between two machines; inside one, as pipeEnableSrtp says). */
	srtp: boolean;
	/** Cluster nodes of the two ends (undefined: a worker of this process). */
	fromNode?: string;
	toNode?: string;
}

/** A relayed stream was piped again to its shard after the pipe feeding it died (event 'piperepiped'). */
export interface RepipeInfo extends PipeInfo {
	/** The pipe that died. */
	previous: PipeInfo;
	/** From the old pipe's death to the new one feeding the relay producer, ms. */
	tookMs: number;
}

/** A relayed stream whose pipe died could not be piped to its shard again (event 'repipefailed'). */
export interface RepipeFailedInfo {
	/** The pipe that died. */
	previous: PipeInfo;
	/** Why the last attempt failed (no carrier left that reaches the shard, the producer closed, ...). */
	error: string;
	/** The error's mafalda code, when it has one: 'ERR_MAFALDA_PIPE_UNREACHABLE' for a partition nothing goes around. */
	code?: string;
	/** From the old pipe's death to giving up, ms. */
	tookMs: number;
}

export interface OverloadedInfo {
	routerId: string;
	placement: Placement;
}

/** Supervisor events, emitted by every Mafalda instance. */
export interface SupervisorEvents {
	workerdied: [WorkerDiedInfo];
	workerrestarted: [{ workerIndex: number; pid: number }];
	workerstarted: [{ workerIndex: number; pid: number; nodeId?: string }];
	shardopened: [ShardInfo];
	shardclosed: [ShardInfo];
	pipeopened: [PipeInfo];
	pipeclosed: [PipeInfo];
	/**
	 * A stream piped to a cluster node through a relay (a carrier fed by a pipe
	 * itself) lost that pipe and is piped there again from another carrier:
	 * its consumers there stayed (same objects, same ids, no 'producerclose').
	 * `previous` is the pipe that died; `pipeclosed` told of it too.
	 */
	piperepiped: [RepipeInfo];
	/**
	 * Such a stream could not be piped there again (no live carrier reaches
	 * that shard, and no node reaches both sides of the partition), or a pipe
	 * without a relay producer was found cut off: its consumers there closed
	 * ('producerclose').
	 */
	repipefailed: [RepipeFailedInfo];
	loadreport: [LoadReport];
	overloaded: [OverloadedInfo];
	/** A cluster node was found and connected (its workers are in `workers`). */
	nodejoined: [NodeSummary];
	/** A cluster node is gone: drained (reason 'nodedrained') or dead (reason 'nodedied'). */
	nodeleft: [NodeLeftInfo];
	/**
	 * A cluster node died (killed, frozen, its link cut): emitted after its
	 * nodeleft. Its proxies are closed with closeReason 'nodedied' and its
	 * workers are never placed on again.
	 */
	nodedied: [NodeLeftInfo];
	/**
	 * A WebRtcServer could not listen on a worker that started after it was
	 * made (its port is taken, say): transports using it avoid that worker.
	 */
	webrtcserverfailed: [WebRtcServerFailedInfo];
}
