import {
	type CloseReason,
	CONTROL_METHODS,
	type ControlMethod,
	type ControllerFrame,
	type HostEvent,
	type NodeFrame,
	type NodeSummary,
} from '../../actors/protocol';

// Everything that comes off a socket (or out of Redis) is checked here before
// anyone acts on it. A guard says what is wrong, so a node can answer with it
// and count it; it never throws.

type Rec = Record<string, unknown>;

const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown, max = 256): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;
const isInt = (v: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isOptBool = (v: unknown): boolean => v === undefined || typeof v === 'boolean';
const HEX = /^[0-9a-f]{64}$/;

const TRANSPORT_KINDS = ['webrtc', 'plain', 'pipe', 'direct'];
const OBSERVER_KINDS = ['audio-level', 'active-speaker'];
export const CLOSE_REASONS: readonly CloseReason[] = [
	'close', 'routerclose', 'transportclose', 'producerclose', 'dataproducerclose', 'workerclose', 'workerdied', 'nodedrained', 'nodedied',
];

/** What is wrong with a request's arguments, or undefined when they have the shape WorkerHostApi expects. */
function argsProblem(method: ControlMethod, args: unknown[]): string | undefined {
	const [a, b, c] = args;
	switch (method) {
		case 'createRouter':
			return args.length === 2 && isStr(a) && isRec(b) ? undefined : 'createRouter takes (routerId: string, routerOptions: object)';
		case 'createTransport':
			return args.length === 1 && isRec(a) && isStr(a.shardId) && TRANSPORT_KINDS.includes(a.transportKind as string) && isRec(a.options) &&
				typeof a.placed === 'boolean' && isOptBool(a.internalPipe)
				? undefined
				: 'createTransport takes ({ shardId, transportKind, options, placed, internalPipe? })';
		case 'createRtpObserver':
			return args.length === 3 && isStr(a) && OBSERVER_KINDS.includes(b as string) && isRec(c)
				? undefined
				: 'createRtpObserver takes (shardId: string, kind, options: object)';
		case 'produce':
		case 'consume':
		case 'produceData':
		case 'consumeData':
			return args.length === 1 && isRec(a) && isStr(a.transportId) && isRec(a.options) && isOptBool(a.pipe)
				? undefined
				: `${method} takes ({ transportId, options, pipe? })`;
		case 'call':
			return args.length === 1 && isRec(a) && isStr(a.objectId) && isStr(a.method, 64) && Array.isArray(a.args)
				? undefined
				: 'call takes ({ objectId, method, args: [] })';
		case 'canConsume':
			return args.length === 3 && isStr(a) && isStr(b) && isRec(c) ? undefined : 'canConsume takes (shardId, producerId, rtpCapabilities)';
		case 'relay':
			return args.length === 1 && isRec(a) && isStr(a.shardId) && isStr(a.producerId) && isStr(a.id)
				? undefined
				: 'relay takes ({ shardId, producerId, id })';
		case 'getResourceUsage':
		case 'dump':
			return args.length === 0 ? undefined : `${method} takes no arguments`;
	}
}

/** A frame a node may act on, or the reason it may not. */
export function checkControllerFrame(frame: unknown): { frame: ControllerFrame } | { problem: string; id?: number } {
	if (!isRec(frame)) return { problem: 'a frame must be a JSON object' };
	if (frame.t === 'auth') {
		return isStr(frame.controllerId, 128) && typeof frame.nonce === 'string' && HEX.test(frame.nonce) && typeof frame.mac === 'string'
			? { frame: frame as unknown as ControllerFrame }
			: { problem: 'auth takes { controllerId, nonce (64 hex), mac }' };
	}
	if (frame.t === 'beat') return Object.keys(frame).length === 1 ? { frame: { t: 'beat' } } : { problem: 'beat takes no fields' };
	if (frame.t === 'req') {
		const id = isInt(frame.id) ? frame.id : undefined;
		if (id === undefined) return { problem: 'req.id must be a non-negative integer' };
		if (!isInt(frame.worker, 0, 4096)) return { problem: 'req.worker must be a worker index', id };
		if (!CONTROL_METHODS.includes(frame.method as ControlMethod)) return { problem: `req.method must be one of ${CONTROL_METHODS.join(', ')}`, id };
		if (!Array.isArray(frame.args)) return { problem: 'req.args must be an array', id };
		const problem = argsProblem(frame.method as ControlMethod, frame.args);
		return problem ? { problem, id } : { frame: frame as unknown as ControllerFrame };
	}
	return { problem: `unknown frame type ${JSON.stringify(String(frame.t)).slice(0, 40)}` };
}

export function isNodeSummary(v: unknown): v is NodeSummary {
	return (
		isRec(v) && isStr(v.nodeId, 128) && isStr(v.controlHost) && isInt(v.controlPort, 1, 65535) && isStr(v.listenIp) && isStr(v.announcedIp) &&
		typeof v.draining === 'boolean' && isNum(v.startedAt) && isNum(v.at) && isInt(v.version) && Array.isArray(v.workers) &&
		v.workers.every((w) => isRec(w) && isInt(w.index, 0, 4096) && isInt(w.pid) && (w.cpuPercent === null || isNum(w.cpuPercent)) && isNum(w.load))
	);
}

const REPORT_NUMBERS = ['workerIndex', 'seq', 'at', 'cpuPercent', 'routers', 'transports', 'producers', 'consumers', 'pipeConsumers', 'idleTransports', 'placedTransports'];

function isHostEvent(v: unknown): v is HostEvent {
	if (!isRec(v)) return false;
	switch (v.type) {
		case 'object-event':
			return isStr(v.objectId) && isStr(v.event, 64) && Array.isArray(v.args) && (v.snapshot === undefined || isRec(v.snapshot));
		case 'object-closed':
			return isStr(v.objectId) && CLOSE_REASONS.includes(v.reason as CloseReason);
		case 'worker-died':
			return isInt(v.workerIndex) && typeof v.error === 'string';
		case 'load-report':
			return isRec(v.report) && REPORT_NUMBERS.every((k) => isNum((v.report as Rec)[k])) && Array.isArray(v.report.shards);
		default:
			return false;
	}
}

/** A frame a controller may act on; anything else from a node is dropped. */
export function isNodeFrame(frame: unknown): frame is NodeFrame {
	if (!isRec(frame)) return false;
	switch (frame.t) {
		case 'challenge':
			return isStr(frame.nodeId, 128) && typeof frame.nonce === 'string' && HEX.test(frame.nonce) && isInt(frame.version);
		case 'welcome':
			return typeof frame.mac === 'string' && isNodeSummary(frame.node);
		case 'res':
			return isInt(frame.id) && typeof frame.ok === 'boolean' &&
				(frame.ok || (isRec(frame.error) && typeof frame.error.name === 'string' && typeof frame.error.message === 'string'));
		case 'event':
			return isInt(frame.worker, 0, 4096) && isHostEvent(frame.event);
		case 'node':
			return isNodeSummary(frame.node);
		case 'closing':
			return CLOSE_REASONS.includes(frame.reason as CloseReason);
		case 'rejected':
			return typeof frame.reason === 'string';
		default:
			return false;
	}
}
