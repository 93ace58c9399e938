// Entry of the balancer thread: exposes Balancer (BalancerApi) on the thread's parentPort.
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/umd/node-adapter';
import { parentPort } from 'node:worker_threads';
import { BatchedPort } from '../batched-port';
import { Balancer } from './balancer';

// Loaded outside a worker thread (by a test or a bundler), there is no one to serve.
if (parentPort) {
	Comlink.expose(new Balancer(), nodeEndpoint(new BatchedPort(parentPort)));
}
