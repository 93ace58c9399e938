/**
 * The promise already running for `key`, or a new one from `start`: callers
 * that arrive while it runs share it, and the next caller after it settles
 * starts again.
 */
export function singleFlight<K, T>(running: Map<K, Promise<T>>, key: K, start: () => Promise<T>): Promise<T> {
	let promise = running.get(key);
	if (!promise) {
		promise = start().finally(() => running.delete(key));
		running.set(key, promise);
	}
	return promise;
}
