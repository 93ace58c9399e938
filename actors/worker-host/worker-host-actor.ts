// Entry of a worker host thread: exposes WorkerHost on the thread's parentPort.
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/umd/node-adapter';
import { parentPort, workerData } from 'node:worker_threads';
import { BatchedPort } from '../batched-port';
import type { HostWorkerData } from '../protocol';
import { WorkerHost } from './worker-host';

if (parentPort) {
	const { eventPort, balancerPort } = workerData as HostWorkerData;
	const events = new BatchedPort(eventPort);
	const host = new WorkerHost(
		(event) => events.postMessage(event),
		(report) => balancerPort.postMessage(report),
	);
	Comlink.expose(host, nodeEndpoint(new BatchedPort(parentPort)));
}
