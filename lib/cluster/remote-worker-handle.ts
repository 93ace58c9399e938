import { CONTROL_METHODS, type ControlMethod, type WorkerHostApi } from '../../actors/protocol';
import { type HostApi, HostHandle } from '../../actors/supervisor/worker-handle';
import { InvalidArgumentError } from '../errors';
import type { ControlClient } from './control-client';

/**
 * A worker of a cluster node, seen from a controller: it behaves like a
 * local WorkerHandle (`call(host => host.createTransport(...))`), but each
 * call is a request on the node's control channel.
 */
export class RemoteWorkerHandle extends HostHandle {
	constructor(
		index: number,
		readonly client: ControlClient,
		/** The worker's index on its node. */
		readonly localIndex: number,
		nodeId: string,
	) {
		super(index, remoteApi(client, localIndex), nodeId);
	}
}

function remoteApi(client: ControlClient, localIndex: number): HostApi {
	const api: Partial<Record<keyof WorkerHostApi, (...args: unknown[]) => Promise<unknown>>> = {};
	for (const method of CONTROL_METHODS) api[method] = (...args: unknown[]) => client.request(localIndex, method as ControlMethod, args);
	const refused = (name: string) => async (): Promise<never> => {
		throw new InvalidArgumentError('method', `${name}() of a node's worker is the node's own business`);
	};
	api.start = refused('start');
	api.close = refused('close');
	api.crashForTest = refused('crashForTest');
	// The same methods as the comlink proxy of a local host, promise for promise.
	return api as unknown as HostApi;
}
