/**
 * The one message protocol between mafalda's actors. Every actor imports its
 * messages from here, so a change of shape is a compile error on both sides.
 *
 * Actors and their channels (see docs/ARCHITECTURE.md):
 * - supervisor (main thread) -> worker host (one thread per mediasoup Worker):
 *   RPC (actors/thread-rpc.ts), `WorkerHostApi`.
 * - worker host -> supervisor: `HostEvent` messages (`HostEventMessage`), on
 *   the same channel as the replies and ahead of the replies they precede,
 *   `LoadReport`s among them.
 * - supervisor -> balancer (own thread): comlink RPC, `BalancerApi`; the
 *   latest load reports ride with the next call that reads the load table
 *   (actors/supervisor/balancer-client.ts), so a report costs the balancer
 *   no wake-up of its own.
 *
 * Everything here is structured-clone data: mediasoup objects never cross a
 * thread, only their ids and snapshots of their properties.
 */

/** Plain JSON-like data, what crosses threads (and later machines). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json | undefined };

/** Anything structured clone copies; stats and dumps are passed as they come. */
export type Cloneable = unknown;

// ---------------------------------------------------------------------------
// Load reports (router shard actors -> balancer, and -> supervisor for events)

export interface ShardLoad {
	shardId: string;
	/** The logical MafaldaRouter this shard belongs to. */
	routerId: string;
	transports: number;
	producers: number;
	consumers: number;
	pipeConsumers: number;
}

export interface LoadReport {
	workerIndex: number;
	/** Increments with every report of this worker host. */
	seq: number;
	/** ms since epoch, when the report was made. */
	at: number;
	/** CPU % of the mediasoup worker process since the previous report (user + system). */
	cpuPercent: number;
	routers: number;
	transports: number;
	producers: number;
	consumers: number;
	pipeConsumers: number;
	/**
	 * Of `transports` and `producers`, those that are mafalda's pipe ends
	 * (PipeTransports between shards, producers re-produced by a pipe), so
	 * that metrics can tell them from the app's. Optional: a report without
	 * them (a test's, say) means none.
	 */
	pipeTransports?: number;
	pipeProducers?: number;
	/**
	 * Placed transports that have no consumer yet. A placement reserves one unit
	 * of load until its transport consumes, so a burst of new transports does
	 * not all land on one worker before its consumers show up.
	 */
	idleTransports: number;
	/**
	 * Transports created because the balancer placed them here, counted since
	 * the host started. The balancer subtracts it from its own count of
	 * placements to know which placements the report does not include yet.
	 */
	placedTransports: number;
	/**
	 * Bits/s received and sent by this worker's pipes to other shards (mediasoup's
	 * transport recvBitrate/sendBitrate), sampled each interval; null before the
	 * first sample. The app's own transports are not sampled: a getStats() per
	 * transport per interval would cost the worker more than it tells.
	 */
	bitrateIn: number | null;
	bitrateOut: number | null;
	shards: ShardLoad[];
	/**
	 * Increments each time the host takes a CPU sample (once an interval); a
	 * report in between carries the last sample's cpuPercent with fresh counts.
	 * Absent from hosts that do not sample (tests that post reports by hand).
	 */
	cpuSampleSeq?: number;
	/**
	 * consumers + pipeConsumers the last CPU sample was measured over, averaged
	 * over its interval (time-weighted): what cpuPercent was spent on, so the
	 * balancer can derive a CPU cost per consumer.
	 */
	cpuLoad?: number;
}

// ---------------------------------------------------------------------------
// Remote objects: what the host tells the main thread about a mediasoup object

export type RemoteKind =
	| 'worker'
	| 'router'
	| 'webrtc-transport'
	| 'plain-transport'
	| 'pipe-transport'
	| 'direct-transport'
	| 'producer'
	| 'consumer'
	| 'data-producer'
	| 'data-consumer'
	| 'audio-level-observer'
	| 'active-speaker-observer';

/** The public properties of a mediasoup object, copied at a point in time. */
export type Snapshot = Record<string, Cloneable>;

export interface ObjectRef {
	id: string;
	kind: RemoteKind;
	snapshot: Snapshot;
}

// ---------------------------------------------------------------------------
// Worker host RPC (supervisor -> worker host), served by actors/thread-rpc.ts

export interface HostStartOptions {
	workerIndex: number;
	/** Absolute path of the mediasoup module entry file to load in the thread. */
	mediasoupEntry: string;
	/** mediasoup WorkerSettings, minus what cannot be cloned (appData is kept in the main thread). */
	workerSettings: Record<string, Cloneable>;
	loadReportIntervalMs: number;
}

export interface WorkerInfo {
	pid: number;
	workerIndex: number;
}

export type TransportKind = 'webrtc' | 'plain' | 'pipe' | 'direct';
export type ObserverKind = 'audio-level' | 'active-speaker';

export interface CreateTransportRequest {
	shardId: string;
	transportKind: TransportKind;
	options: Record<string, Cloneable>;
	/** True when the balancer chose this worker for it (counts in LoadReport.placedTransports). */
	placed: boolean;
	/** Marks the transport as one end of a mafalda pipe between shards. */
	internalPipe?: boolean;
	/** A WebRtcTransport listening through this host's WebRtcServer of that (mafalda) id. */
	webRtcServerId?: string;
}

/** The methods every remote object accepts; the host keeps the list per kind. */
export interface CallRequest {
	objectId: string;
	method: string;
	args: Cloneable[];
}

export interface CallResult {
	value: Cloneable;
	/** The object's properties after the call (paused, score, ...), when it still exists. */
	snapshot?: Snapshot;
	/**
	 * What the mediasoup object's observer emitted for this pause()/resume()
	 * call, decided in the host from mediasoup's own state right after the
	 * call (the main thread's snapshots can be older than that).
	 */
	observerEvent?: PauseObserverEvent;
}

export type PauseObserverEvent = 'pause' | 'resume';

export interface ConsumeRequest {
	transportId: string;
	options: Record<string, Cloneable>;
	/** True for the consumer side of a mafalda pipe. */
	pipe?: boolean;
}

export interface ProduceRequest {
	transportId: string;
	options: Record<string, Cloneable>;
	/** True for the producer side of a mafalda pipe: it re-produces a producer of another shard. */
	pipe?: boolean;
}

/**
 * A relay producer on a shard: a producer of mafalda's that carries the stream
 * of another producer of the same shard (a pipe producer) and outlives it. The
 * first call with `id` makes it; a later one feeds it from `producerId`
 * instead, so that its consumers keep their producer when the pipe feeding it
 * is replaced (issue 11: a relay upstream died).
 */
export interface RelayRequest {
	shardId: string;
	/** The producer on the shard whose stream the relay carries from now on. */
	producerId: string;
	/** The relay producer's id. */
	id: string;
}

export interface WorkerHostApi {
	start(options: HostStartOptions): Promise<WorkerInfo>;
	/** Opens a router shard of the logical router `routerId`; the shard's id is its mediasoup Router's id. */
	createRouter(routerId: string, routerOptions: Record<string, Cloneable>): Promise<ObjectRef>;
	createTransport(request: CreateTransportRequest): Promise<ObjectRef>;
	createRtpObserver(shardId: string, kind: ObserverKind, options: Record<string, Cloneable>): Promise<ObjectRef>;
	produce(request: ProduceRequest): Promise<ObjectRef>;
	consume(request: ConsumeRequest): Promise<ObjectRef>;
	produceData(request: ProduceRequest): Promise<ObjectRef>;
	consumeData(request: ConsumeRequest): Promise<ObjectRef>;
	/** A method of a remote object (pause, getStats, connect, close, ...). */
	call(request: CallRequest): Promise<CallResult>;
	/** Can the shard's router consume this producer with these capabilities (mediasoup's canConsume)? */
	canConsume(shardId: string, producerId: string, rtpCapabilities: Cloneable): Promise<boolean>;
	/** Makes or re-feeds a relay producer (RelayRequest); answers the relay producer. */
	relay(request: RelayRequest): Promise<ObjectRef>;
	getResourceUsage(): Promise<Cloneable>;
	dump(): Promise<Cloneable>;
	/**
	 * Makes this host's mediasoup WebRtcServer for the mafalda WebRtcServer `serverId`
	 * (mediasoup's WebRtcServerOptions, with this worker's ports already chosen).
	 */
	createWebRtcServer(serverId: string, options: Record<string, Cloneable>): Promise<void>;
	/** Closes it; its transports close with 'listenserverclose'. */
	closeWebRtcServer(serverId: string): Promise<void>;
	dumpWebRtcServer(serverId: string): Promise<Cloneable>;
	/** Closes the mediasoup Worker and everything on it; the thread may then be terminated. */
	close(): Promise<void>;
	/** Test hook: throws inside the host thread outside any request, as a bug would. */
	crashForTest(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Events (worker host -> supervisor), on the host's event port

/** A mediasoup event of a remote object, with its arguments made cloneable. */
export interface ObjectEvent {
	type: 'object-event';
	objectId: string;
	event: string;
	args: Cloneable[];
	/** The object's properties after the event. */
	snapshot?: Snapshot;
	/**
	 * What the mediasoup object's observer emitted with it: the same event
	 * (same arguments), or 'pause'/'resume' (no arguments) for a consumer's
	 * 'producerpause'/'producerresume' and a data consumer's
	 * 'dataproducerpause'/'dataproducerresume' when the consumer itself is not paused.
	 */
	observerEvent?: string;
}

/** A remote object is gone, for whatever reason. Sent once per object. */
export interface ObjectClosed {
	type: 'object-closed';
	objectId: string;
	/**
	 * Why: 'close' (closed by a call), or mediasoup's reason events:
	 * 'routerclose', 'transportclose', 'producerclose', 'dataproducerclose',
	 * 'workerclose', 'listenserverclose' (its WebRtcServer closed), or 'workerdied'.
	 */
	reason: CloseReason;
}

export type CloseReason =
	| 'close'
	| 'routerclose'
	| 'transportclose'
	| 'producerclose'
	| 'dataproducerclose'
	| 'workerclose'
	| 'listenserverclose'
	| 'workerdied'
	| 'nodedrained'
	| 'nodedied';

/**
 * Reasons that mean the object's worker went away under it (not a close by a
 * call): a proxy passes them down to its children as they are, and tells the
 * app with the events mediasoup uses for a closed router ('routerclose' on a
 * transport, 'transportclose' on its children). The cluster's faults add theirs here.
 */
export const WORKER_LOSS_REASONS: readonly CloseReason[] = ['workerdied', 'nodedrained', 'nodedied'];

export function isWorkerLoss(reason: CloseReason | undefined): boolean {
	return reason !== undefined && WORKER_LOSS_REASONS.includes(reason);
}

export interface WorkerDiedEvent {
	type: 'worker-died';
	workerIndex: number;
	error: string;
}

export interface LoadReportEvent {
	type: 'load-report';
	report: LoadReport;
}

export type HostEvent = ObjectEvent | ObjectClosed | WorkerDiedEvent | LoadReportEvent;

/**
 * A HostEvent as it travels on a worker host's thread channel, next to
 * the RPC replies (`$reply`; an event is `$event`, which the RPC client skips).
 * One channel keeps an event ahead of a reply posted after it, and a turn's
 * events and replies in one message.
 */
export interface HostEventMessage {
	$event: HostEvent;
}

export function isHostEventMessage(value: unknown): value is HostEventMessage {
	return typeof value === 'object' && value !== null && typeof (value as { $event?: unknown }).$event === 'object';
}

// ---------------------------------------------------------------------------
// Balancer RPC (supervisor -> balancer), exposed with comlink

export interface Watermarks {
	/** CPU % of a worker above which it takes no more placements while another can. */
	watermarkWorker: number;
	/** Consumers (and reserved placements) per worker above which the same holds. */
	maxConsumersPerWorker: number;
}

export interface PlaceTransportRequest extends Watermarks {
	routerId: string;
	/** Maximum number of distinct workers the router may use. */
	maxWorkers: number;
	/** Workers the router may not use (dead, closing). */
	excludeWorkers?: number[];
}

export interface Placement {
	workerIndex: number;
	/** The router has no shard on that worker yet: the caller opens one. */
	openShard: boolean;
	/** Every allowed worker was over its watermarks: this is the least loaded one. */
	overloaded: boolean;
	/** Why this worker (for events, logs and tests). */
	rule: 'stream-worker' | 'router-worker' | 'router-node' | 'most-loaded-under-watermark' | 'least-loaded-overloaded';
}

export interface PipeSourceRequest extends Watermarks {
	producerId: string;
	destWorker: number;
}

export interface PipeSource {
	workerIndex: number;
	/** Depth of the source in the producer's pipe tree (0 = producer's own shard). */
	depth: number;
}

export interface BalancerApi {
	/** Adds a worker (index) to the load table, or marks it alive again after a restart. */
	addWorker(workerIndex: number): Promise<void>;
	/**
	 * The latest load reports of some workers (a report of a worker not in the
	 * table, or not well formed, is dropped: in a cluster they come from the
	 * network).
	 */
	ingestReports(reports: unknown[]): Promise<void>;
	/**
	 * Names the machine (cluster node) of a worker, so that placement fills a
	 * node before opening another and pipe sources prefer the receiving node.
	 * Workers never named are all on one node (the controller's own machine).
	 */
	setWorkerNode(workerIndex: number, nodeId: string): Promise<void>;
	/** Removes a worker: its shards, carriers and load vanish from the table. */
	removeWorker(workerIndex: number): Promise<void>;
	shardOpened(routerId: string, workerIndex: number): Promise<void>;
	shardClosed(routerId: string, workerIndex: number): Promise<void>;
	routerClosed(routerId: string): Promise<void>;
	/** A producer (or a pipe of it) now exists on a worker, at a depth of its pipe tree. */
	streamAdded(routerId: string, producerId: string, workerIndex: number, depth: number): Promise<void>;
	streamRemoved(producerId: string, workerIndex: number): Promise<void>;
	placeTransport(request: PlaceTransportRequest): Promise<Placement>;
	/** Undoes one placement that did not become a transport (creation failed, or a new worker took it). */
	releasePlacement(workerIndex: number): Promise<void>;
	choosePipeSource(request: PipeSourceRequest): Promise<PipeSource>;
	/** The load table as the balancer sees it (reports plus its own pending placements). */
	loadTable(): Promise<WorkerLoadView[]>;
}

export interface WorkerLoadView {
	workerIndex: number;
	cpuPercent: number;
	consumers: number;
	pipeConsumers: number;
	transports: number;
	producers: number;
	/** Placements the latest report does not include yet. */
	pending: number;
	idleTransports: number;
	/** consumers + pipeConsumers + idleTransports + pending: what maxConsumersPerWorker compares. */
	load: number;
	lastReportSeq: number;
	/** The latest CPU sample's number (0 before the first one). */
	cpuSampleSeq: number;
	/** CPU % per unit of load, from the latest sample with enough load to tell; null before one. */
	cpuPerLoad: number | null;
	/**
	 * cpuPercent plus the expected cost of the load added since that sample
	 * (load now minus load at the sample, times cpuPerLoad): what watermarkWorker compares.
	 */
	projectedCpuPercent: number;
}

// ---------------------------------------------------------------------------
// What each kind of remote object exposes. The host refuses any other method,
// and forwards exactly these events, so the main thread's proxies and the
// host agree on the surface of every mediasoup object.

const TRANSPORT_METHODS = [
	'close', 'dump', 'getStats', 'connect', 'setMaxIncomingBitrate', 'setMaxOutgoingBitrate',
	'setMinOutgoingBitrate', 'enableTraceEvent',
] as const;

export const REMOTE_METHODS: Readonly<Record<RemoteKind, readonly string[]>> = {
	worker: ['dump', 'getResourceUsage'],
	router: ['close', 'dump', 'updateMediaCodecs'],
	'webrtc-transport': [...TRANSPORT_METHODS, 'restartIce'],
	'plain-transport': TRANSPORT_METHODS,
	'pipe-transport': TRANSPORT_METHODS,
	'direct-transport': [...TRANSPORT_METHODS, 'sendRtcp'],
	producer: ['close', 'dump', 'getStats', 'pause', 'resume', 'enableTraceEvent', 'send'],
	consumer: [
		'close', 'dump', 'getStats', 'pause', 'resume', 'setPreferredLayers', 'setPriority', 'unsetPriority',
		'requestKeyFrame', 'enableTraceEvent',
	],
	'data-producer': ['close', 'dump', 'getStats', 'pause', 'resume', 'send'],
	'data-consumer': [
		'close', 'dump', 'getStats', 'pause', 'resume', 'setBufferedAmountLowThreshold', 'send', 'getBufferedAmount',
		'setSubchannels', 'addSubchannel', 'removeSubchannel',
	],
	'audio-level-observer': ['close', 'pause', 'resume', 'addProducer', 'removeProducer'],
	'active-speaker-observer': ['close', 'pause', 'resume', 'addProducer', 'removeProducer'],
};

const TRANSPORT_EVENTS = ['trace', 'sctpstatechange'] as const;

export const REMOTE_EVENTS: Readonly<Record<RemoteKind, readonly string[]>> = {
	worker: [],
	router: [],
	'webrtc-transport': [...TRANSPORT_EVENTS, 'icestatechange', 'iceselectedtuplechange', 'dtlsstatechange'],
	'plain-transport': [...TRANSPORT_EVENTS, 'tuple', 'rtcptuple'],
	'pipe-transport': TRANSPORT_EVENTS,
	'direct-transport': [...TRANSPORT_EVENTS, 'rtcp'],
	producer: ['score', 'videoorientationchange', 'trace'],
	consumer: ['producerpause', 'producerresume', 'score', 'layerschange', 'trace', 'rtp'],
	'data-producer': [],
	'data-consumer': ['dataproducerpause', 'dataproducerresume', 'message', 'sctpsendbufferfull', 'bufferedamountlow'],
	'audio-level-observer': ['volumes', 'silence'],
	'active-speaker-observer': ['dominantspeaker'],
};

/** The properties copied into a Snapshot, per kind (not the id: the ObjectRef carries it, and a proxy's snapshot lives as long as the object). */
// sctpNegotiatedCapabilities: mediasoup 3.20 and later (a field a version lacks is left out of the snapshot).
const TRANSPORT_FIELDS = ['closed', 'sctpParameters', 'sctpState', 'sctpNegotiatedCapabilities'] as const;

export const SNAPSHOT_FIELDS: Readonly<Record<RemoteKind, readonly string[]>> = {
	worker: ['pid', 'closed', 'died'],
	router: ['closed', 'rtpCapabilities'],
	'webrtc-transport': [
		...TRANSPORT_FIELDS, 'iceRole', 'iceParameters', 'iceCandidates', 'iceState', 'iceSelectedTuple',
		'dtlsParameters', 'dtlsState', 'dtlsRemoteCert',
	],
	'plain-transport': [...TRANSPORT_FIELDS, 'tuple', 'rtcpTuple', 'srtpParameters'],
	'pipe-transport': [...TRANSPORT_FIELDS, 'tuple', 'srtpParameters'],
	'direct-transport': ['closed'],
	producer: ['closed', 'kind', 'rtpParameters', 'type', 'consumableRtpParameters', 'paused', 'score'],
	consumer: [
		'closed', 'producerId', 'kind', 'rtpParameters', 'type', 'paused', 'producerPaused', 'priority', 'score',
		'preferredLayers', 'currentLayers',
	],
	'data-producer': ['closed', 'type', 'sctpStreamParameters', 'label', 'protocol', 'paused'],
	'data-consumer': [
		'closed', 'dataProducerId', 'type', 'sctpStreamParameters', 'label', 'protocol', 'paused',
		'dataProducerPaused', 'subchannels',
	],
	'audio-level-observer': ['closed', 'paused'],
	'active-speaker-observer': ['closed', 'paused'],
};

/**
 * Several messages of any of the kinds above sent as one (actors/batched-port.ts):
 * every channel between threads carries them.
 */
export interface MessageBatch {
	$batch: unknown[];
}

export function isMessageBatch(value: unknown): value is MessageBatch {
	return typeof value === 'object' && value !== null && Array.isArray((value as { $batch?: unknown }).$batch);
}

/**
 * Snapshot fields that are large, nested and never read by mafalda itself on
 * the hot path (a consumer's rtpParameters is 1.4 KB of JSON, 4 KB once
 * structured-cloned into objects): the host sends them as JSON text, which
 * crosses the thread as one flat string (a memcpy, not a walk of the object
 * graph), and the proxy keeps the text, parsing it only when the app reads the
 * property. See docs/ARCHITECTURE.md, "What crosses a thread".
 */
export const JSON_SNAPSHOT_FIELDS: ReadonlySet<string> = new Set([
	'rtpParameters', 'consumableRtpParameters', 'iceParameters', 'iceCandidates', 'dtlsParameters',
	'sctpParameters', 'sctpStreamParameters', 'srtpParameters',
]);

/**
 * The only calls after which a JSON_SNAPSHOT_FIELDS property may differ
 * (a transport's dtlsParameters role, srtpParameters and tuple at connect,
 * iceParameters at restartIce); other calls' and events' snapshots leave
 * those fields out.
 */
export const JSON_CHANGING_METHODS: ReadonlySet<string> = new Set(['connect', 'restartIce']);

/**
 * A snapshot field sent as JSON text (see JSON_SNAPSHOT_FIELDS). An object is
 * sent one top-level property at a time, so that the parts consumers of one
 * producer share (codecs, header extensions: most of the text) are equal
 * strings the proxies can share (lib/remote/json-text.ts).
 */
export type JsonText = { $json: string } | { $parts: Record<string, string> };

export function isJsonText(value: unknown): value is JsonText {
	if (typeof value !== 'object' || value === null) return false;
	return typeof (value as { $json?: unknown }).$json === 'string' || typeof (value as { $parts?: unknown }).$parts === 'object';
}

/**
 * A mediasoup object inside an event argument (a producer in `volumes`, say)
 * crosses the thread as this reference; the main thread swaps in its proxy.
 */
export interface ObjectReference {
	$ref: string;
}

/**
 * A Buffer or other view as it should cross a thread: structured clone copies
 * a view's whole ArrayBuffer, and a small Buffer is a slice of an 8 KB pool, so
 * a view smaller than its buffer goes as a copy of just its bytes. The other
 * side makes a Buffer of it again.
 */
export function cloneableBytes(view: ArrayBufferView): ArrayBufferView {
	if (view.byteLength === view.buffer.byteLength) return view;
	return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
}

export function isObjectReference(value: unknown): value is ObjectReference {
	return typeof value === 'object' && value !== null && typeof (value as { $ref?: unknown }).$ref === 'string';
}

// ---------------------------------------------------------------------------
// Cluster: controllers (apps' Mafalda instances) <-> mafalda nodes, over the
// network. Everything here arrives from a socket, so both sides validate it
// (lib/cluster/control-guards.ts) before acting on it: shape, then secret.
//
// The control channel is one TCP connection per (controller, node): frames of
// a 4-byte big-endian length and UTF-8 JSON (binary values as { $bytes: base64 }).
// It opens with a mutual HMAC-SHA256 challenge-response over the cluster
// secret; after it, requests carry WorkerHostApi calls for one worker of the
// node, and the node streams its workers' HostEvents back.

/** Node -> controller, first frame: a fresh random nonce (hex) to sign. */
export interface ControlChallenge {
	t: 'challenge';
	nodeId: string;
	nonce: string;
	/** Protocol version; a controller refuses a node it does not speak. */
	version: number;
}

/** Controller -> node: HMAC(secret, 'controller|' + nonce + '|' + controllerNonce + '|' + controllerId). */
export interface ControlAuth {
	t: 'auth';
	controllerId: string;
	nonce: string;
	mac: string;
}

/** Node -> controller: HMAC(secret, 'node|' + controllerNonce + '|' + nonce + '|' + nodeId), and what the node runs. */
export interface ControlWelcome {
	t: 'welcome';
	mac: string;
	node: NodeSummary;
}

/** The worker-host methods a controller may call on a node's worker (never start, close or test hooks). */
export const CONTROL_METHODS = [
	'createRouter', 'createTransport', 'createRtpObserver', 'produce', 'consume', 'produceData', 'consumeData',
	'call', 'canConsume', 'relay', 'getResourceUsage', 'dump',
] as const;
export type ControlMethod = (typeof CONTROL_METHODS)[number];

/** Controller -> node: one WorkerHostApi call on the node's worker `worker` (its local index). */
export interface ControlRequest {
	t: 'req';
	/** Per connection, increasing; the answer carries it back. */
	id: number;
	worker: number;
	method: ControlMethod;
	args: Json[];
}

export interface ControlErrorInfo {
	name: string;
	message: string;
	code?: string;
}

/** Node -> controller: the answer to one request. */
export interface ControlResponse {
	t: 'res';
	id: number;
	ok: boolean;
	value?: Json;
	error?: ControlErrorInfo;
}

/** Node -> controller: a HostEvent of one of the node's workers (load reports included). */
export interface ControlHostEvent {
	t: 'event';
	worker: number;
	event: HostEvent;
}

/** Node -> controller: the node's workers or state changed (a worker restarted, died, the node drains). */
export interface ControlNodeUpdate {
	t: 'node';
	node: NodeSummary;
}

/**
 * Node -> controller: the node is closing what it still runs, for `reason`;
 * every object on it is gone once the connection closes.
 */
export interface ControlNodeClosing {
	t: 'closing';
	reason: CloseReason;
}

/** Either side: a frame it could not act on (bad shape, unknown request); informative, never required. */
export interface ControlRejected {
	t: 'rejected';
	reason: string;
}

/**
 * Controller -> node, every second or so: the controller's lease on what it
 * made there. A node that hears nothing from an authenticated controller for
 * its lease time (its TTL) drops the connection and closes what that
 * controller alone held, as when the connection closes.
 */
export interface ControlBeat {
	t: 'beat';
}

export type ControllerFrame = ControlAuth | ControlRequest | ControlBeat;
export type NodeFrame = ControlChallenge | ControlWelcome | ControlResponse | ControlHostEvent | ControlNodeUpdate | ControlNodeClosing | ControlRejected;

export interface NodeWorkerSummary {
	/** The worker's index on its node. */
	index: number;
	pid: number;
	/** Latest load of the worker, as its host reports it (null before the first report). */
	cpuPercent: number | null;
	load: number;
}

/**
 * What a node publishes in Redis (its registry key, renewed with each
 * heartbeat) and tells each controller on connection.
 */
export interface NodeSummary {
	nodeId: string;
	/** Where controllers reach the node's control channel. */
	controlHost: string;
	controlPort: number;
	/** Addresses of the node's transports: mediasoup listens on listenIp and announces announcedIp. */
	listenIp: string;
	announcedIp: string;
	workers: NodeWorkerSummary[];
	/** The node takes no new placements (it is draining for a clean exit). */
	draining: boolean;
	startedAt: number;
	/** ms since epoch of this summary. */
	at: number;
	version: number;
}

/** A producer made on a node, as the cluster's producer index in Redis keeps it. */
export interface ProducerIndexEntry {
	producerId: string;
	routerId: string;
	nodeId: string;
	/** Worker index on its node. */
	worker: number;
	shardId: string;
	ref: ObjectRef;
}

export const CONTROL_PROTOCOL_VERSION = 1;
