// Everything that arrives on the control channel is checked before anyone acts
// on it: one row per message type and method, a good shape and bad ones.
import { CONTROL_METHODS, type ControlMethod } from '../actors/protocol';
import { controllerProof, macMatches, newNonce, nodeProof } from '../lib/cluster/control-auth';
import { checkControllerFrame, isNodeFrame } from '../lib/cluster/control-guards';
import { encodeFrame, FrameDecoder, FrameError, MAX_FRAME_BYTES } from '../lib/cluster/frame-codec';

const GOOD_ARGS: Record<ControlMethod, unknown[]> = {
	createRouter: ['room-1', { mediaCodecs: [] }],
	createTransport: [{ shardId: 's1', transportKind: 'plain', options: {}, placed: true }],
	createRtpObserver: ['s1', 'audio-level', {}],
	produce: [{ transportId: 't1', options: {} }],
	consume: [{ transportId: 't1', options: {}, pipe: false }],
	produceData: [{ transportId: 't1', options: {} }],
	consumeData: [{ transportId: 't1', options: {} }],
	call: [{ objectId: 'o1', method: 'pause', args: [] }],
	canConsume: ['s1', 'p1', {}],
	relay: [{ shardId: 's1', producerId: 'p1', id: 'r1' }],
	getResourceUsage: [],
	dump: [],
};

const BAD_ARGS: Record<ControlMethod, unknown[][]> = {
	createRouter: [[], [42, {}], ['room', 'options']],
	createTransport: [[{ shardId: 's1', transportKind: 'carrier-pigeon', options: {}, placed: true }], [{ shardId: 's1', transportKind: 'plain', options: {} }], [null]],
	createRtpObserver: [['s1', 'loudness', {}], ['s1', 'audio-level']],
	produce: [[{ transportId: 't1' }], [{ options: {} }]],
	consume: [[{ transportId: 't1', options: {}, pipe: 'yes' }], []],
	produceData: [[{ transportId: '', options: {} }]],
	consumeData: [['t1']],
	call: [[{ objectId: 'o1', method: 'pause' }], [{ objectId: 'o1', method: 'x'.repeat(65), args: [] }]],
	canConsume: [['s1', 'p1'], ['s1', 7, {}]],
	relay: [[{ shardId: 's1', producerId: 'p1' }], [{ shardId: 's1', producerId: '', id: 'r1' }], ['s1', 'p1', 'r1']],
	getResourceUsage: [[1]],
	dump: [['everything']],
};

describe('controller frames (what a node accepts)', () => {
	test('every control method is covered by this table', () => {
		expect(Object.keys(GOOD_ARGS).sort()).toEqual([...CONTROL_METHODS].sort());
		expect(Object.keys(BAD_ARGS).sort()).toEqual([...CONTROL_METHODS].sort());
	});

	test.each(CONTROL_METHODS.map((m) => [m]))('%s: a good request passes, bad arguments are named and keep the request id', (method) => {
		expect(checkControllerFrame({ t: 'req', id: 1, worker: 0, method, args: GOOD_ARGS[method] })).toHaveProperty('frame');
		for (const args of BAD_ARGS[method]) {
			const checked = checkControllerFrame({ t: 'req', id: 7, worker: 0, method, args });
			expect(checked).toMatchObject({ problem: expect.stringContaining(method), id: 7 });
		}
	});

	test.each([
		['not an object', 'hello', /JSON object/],
		['an unknown type', { t: 'reboot' }, /unknown frame type/],
		['a method outside the list', { t: 'req', id: 1, worker: 0, method: 'start', args: [] }, /req.method must be one of/],
		['a test hook', { t: 'req', id: 1, worker: 0, method: 'crashForTest', args: [] }, /req.method/],
		['no id', { t: 'req', worker: 0, method: 'dump', args: [] }, /req.id/],
		['a negative worker', { t: 'req', id: 1, worker: -1, method: 'dump', args: [] }, /req.worker/],
		['args not an array', { t: 'req', id: 1, worker: 0, method: 'dump', args: {} }, /req.args/],
		['auth with a short nonce', { t: 'auth', controllerId: 'c', nonce: 'abc', mac: 'x' }, /auth takes/],
		['a beat carrying fields', { t: 'beat', id: 1 }, /beat takes no fields/],
	])('%s is refused with a reason', (_name, frame, reason) => {
		const checked = checkControllerFrame(frame);
		expect(checked).toHaveProperty('problem');
		expect((checked as { problem: string }).problem).toMatch(reason);
	});
});

test('a beat (the controller renewing its lease) passes', () => {
	expect(checkControllerFrame({ t: 'beat' })).toEqual({ frame: { t: 'beat' } });
});

describe('node frames (what a controller accepts)', () => {
	const summary = { nodeId: 'n', controlHost: '10.0.0.1', controlPort: 4000, listenIp: '10.0.0.1', announcedIp: '10.0.0.1', workers: [], draining: false, startedAt: 1, at: 2, version: 1 };
	test.each([
		['challenge', { t: 'challenge', nodeId: 'n', nonce: newNonce(), version: 1 }, { t: 'challenge', nodeId: 'n', nonce: 'short', version: 1 }],
		['welcome', { t: 'welcome', mac: 'm', node: summary }, { t: 'welcome', mac: 'm', node: { ...summary, controlPort: 70000 } }],
		['res', { t: 'res', id: 1, ok: true, value: null }, { t: 'res', id: 1, ok: false }],
		['event', { t: 'event', worker: 0, event: { type: 'object-closed', objectId: 'o', reason: 'close' } }, { t: 'event', worker: 0, event: { type: 'object-closed', objectId: 'o', reason: 'bored' } }],
		['node', { t: 'node', node: summary }, { t: 'node', node: { ...summary, workers: [{ index: 'zero' }] } }],
		['closing', { t: 'closing', reason: 'nodedrained' }, { t: 'closing', reason: 'whim' }],
		['event (a close for a dead node)', { t: 'event', worker: 0, event: { type: 'object-closed', objectId: 'o', reason: 'nodedied' } }, { t: 'event', worker: 0, event: { type: 'object-closed', objectId: 'o', reason: 'nodediedd' } }],
		['rejected', { t: 'rejected', reason: 'no' }, { t: 'rejected' }],
	])('%s: the good shape passes, a bad one is dropped', (_type, good, bad) => {
		expect(isNodeFrame(good)).toBe(true);
		expect(isNodeFrame(bad)).toBe(false);
	});
});

describe('frames on the wire', () => {
	test('frames split across chunks and glued together come out whole; bytes survive as bytes', () => {
		const decoder = new FrameDecoder();
		const bytes = Buffer.concat([encodeFrame({ a: 1 }), encodeFrame({ data: Buffer.from([1, 2, 3]) })]);
		const out = [...decoder.push(bytes.subarray(0, 3)), ...decoder.push(bytes.subarray(3, 11)), ...decoder.push(bytes.subarray(11))];
		expect(out).toEqual([{ a: 1 }, { data: Buffer.from([1, 2, 3]) }]);
	});

	test('an oversized length and a body that is not JSON throw FrameError (the node drops the connection)', () => {
		const header = Buffer.alloc(4);
		header.writeUInt32BE(MAX_FRAME_BYTES + 1, 0);
		expect(() => new FrameDecoder().push(header)).toThrow(FrameError);
		const junk = Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('{{{')]);
		expect(() => new FrameDecoder().push(junk)).toThrow(/not JSON/);
	});

	test('handshake proofs: each side signs the other\'s nonce; a proof for another nonce or secret does not match', () => {
		const [n1, n2] = [newNonce(), newNonce()];
		const proof = controllerProof('secret-one', n1, n2, 'c1');
		expect(macMatches(controllerProof('secret-one', n1, n2, 'c1'), proof)).toBe(true);
		expect(macMatches(controllerProof('secret-two', n1, n2, 'c1'), proof)).toBe(false);
		expect(macMatches(controllerProof('secret-one', newNonce(), n2, 'c1'), proof)).toBe(false);
		expect(macMatches(nodeProof('secret-one', n2, n1, 'c1'), proof)).toBe(false);
		expect(macMatches(proof, 42)).toBe(false);
	});
});
