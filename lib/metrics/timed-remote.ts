import { REMOTE_METHODS } from '../../actors/protocol';

/** Every method a remote object accepts, whatever its kind: bounds the `method` label of `call`. */
const CALLABLE = new Set(Object.values(REMOTE_METHODS).flat());

/**
 * Wraps an RPC stub (a comlink Remote) so that each method call reports its
 * round-trip time. A `call` names the remote object's method too
 * (`call.getStats`), since that is where the time goes.
 */
export function timedRemote<T extends object>(remote: T, observe: (method: string, seconds: number) => void): T {
	return new Proxy(remote, {
		get(target, prop) {
			const value: unknown = Reflect.get(target, prop);
			if (typeof prop !== 'string' || prop === 'then' || typeof value !== 'function') return value;
			return (...args: unknown[]): unknown => {
				const method = prop === 'call' ? `call.${calledMethod(args[0])}` : prop;
				const started = performance.now();
				const done = (): void => observe(method, (performance.now() - started) / 1000);
				const result: unknown = Reflect.apply(value, target, args);
				if (result instanceof Promise) result.then(done, done);
				else done();
				return result;
			};
		},
	});
}

function calledMethod(request: unknown): string {
	const method = typeof request === 'object' && request !== null ? (request as { method?: unknown }).method : undefined;
	return typeof method === 'string' && CALLABLE.has(method) ? method : 'other';
}
