import type { BatchedPort } from './batched-port';

/** What the caller's side sees of an actor's API: every method answers with a promise. */
export type Remote<T> = {
	[K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

/** Caller -> actor: one call. */
interface RpcRequest {
	$rpc: number;
	method: string;
	args: unknown[];
}

/** Actor -> caller: its answer, a value or what it threw. */
interface RpcReply {
	$reply: number;
	value?: unknown;
	/** An Error's name, message and stack (what crosses a thread of it), or any other thrown value as `thrown`. */
	error?: { name: string; message: string; stack?: string } | { thrown: unknown };
}

function isRequest(value: unknown): value is RpcRequest {
	return typeof value === 'object' && value !== null && typeof (value as RpcRequest).$rpc === 'number';
}

function isReply(value: unknown): value is RpcReply {
	return typeof value === 'object' && value !== null && typeof (value as RpcReply).$reply === 'number';
}

/**
 * Answers calls to `target`'s methods that arrive on `port`. The worker host's
 * channel used comlink, which per call makes a random string id (four
 * Math.random() in hex), a Proxy per property read and a wire-value wrapper per
 * argument: about 6 µs of the app's thread per call here. Both ends are
 * mafalda's own, so the messages carry what a call needs and nothing more.
 */
export function serveRpc(target: object, port: BatchedPort): void {
	const methods = target as Record<string, unknown>;
	port.on('message', (message) => {
		if (!isRequest(message)) return;
		const id = message.$rpc;
		const reply = (answer: Omit<RpcReply, '$reply'>): void => port.postMessage({ $reply: id, ...answer } satisfies RpcReply);
		const fn = message.method === 'constructor' ? undefined : methods[message.method];
		if (typeof fn !== 'function') {
			reply({ error: { name: 'TypeError', message: `no method "${message.method}"` } });
			return;
		}
		let result: unknown;
		try {
			result = fn.apply(target, message.args);
		} catch (error) {
			reply({ error: errorInfo(error) });
			return;
		}
		Promise.resolve(result).then(
			(value) => reply({ value }),
			(error: unknown) => reply({ error: errorInfo(error) }),
		);
	});
}

function errorInfo(error: unknown): NonNullable<RpcReply['error']> {
	if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
	return { thrown: error };
}

/** The error a caller gets: an Error with the actor's name, message and stack, as comlink gave. */
function toError(info: NonNullable<RpcReply['error']>): unknown {
	if ('thrown' in info) return info.thrown;
	return Object.assign(new Error(info.message), info);
}

const NOT_METHODS: ReadonlySet<string> = new Set(['then', 'toJSON']);

/**
 * The caller's side of serveRpc. A call that never gets an answer (the actor's
 * thread died) stays pending: HostHandle.call fails it on the death.
 */
export function rpcClient<T>(port: BatchedPort): Remote<T> {
	let nextId = 0;
	const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
	port.on('message', (message) => {
		if (!isReply(message)) return;
		const call = pending.get(message.$reply);
		if (!call) return;
		pending.delete(message.$reply);
		if (message.error) call.reject(toError(message.error));
		else call.resolve(message.value);
	});
	const stubs = new Map<string, (...args: unknown[]) => Promise<unknown>>();
	const stub = (method: string): ((...args: unknown[]) => Promise<unknown>) => {
		let fn = stubs.get(method);
		if (!fn) {
			fn = (...args: unknown[]) =>
				new Promise((resolve, reject) => {
					const id = nextId++;
					pending.set(id, { resolve, reject });
					port.postMessage({ $rpc: id, method, args } satisfies RpcRequest);
				});
			stubs.set(method, fn);
		}
		return fn;
	};
	// One function per method name, made once. Not thenable (awaiting the stub
	// must not call a 'then' method), and no `toJSON` (JSON.stringify would send it).
	return new Proxy({} as Remote<T>, {
		get: (_, prop) => (typeof prop === 'string' && !NOT_METHODS.has(prop) ? stub(prop) : undefined),
	});
}
