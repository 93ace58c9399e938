// Entry of a worker host thread: exposes WorkerHost on the thread's parentPort.
import { parentPort } from 'node:worker_threads';
import { BatchedPort } from '../batched-port';
import type { HostEventMessage } from '../protocol';
import { serveRpc } from '../thread-rpc';
import { WorkerHost } from './worker-host';

if (parentPort) {
	// Events and replies share the channel: an event stays ahead of the replies
	// posted after it, and one turn's events and replies leave as one message.
	const port = new BatchedPort(parentPort);
	const host = new WorkerHost((event) => port.postMessage({ $event: event } satisfies HostEventMessage));
	serveRpc(host, port);
}
