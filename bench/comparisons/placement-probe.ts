import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { PlaceTransportRequest } from '../../actors/protocol';
import { mafaldaRouterDefaultOptions } from '../../lib/index';
import type { MafaldaBackend } from '../sfu/mafalda-backend';
import { median, quantile } from './common';
import type { PlacementTimerInput } from './placement-timer-thread';

export interface PlacementSample {
	/** Consumers the balancer's load table holds (app consumers, on every worker). */
	consumersInLoadTable: number;
	/** placeTransport() as the app's thread sees it: a round trip to the balancer thread, ms. */
	rpcMedianMs: number;
	rpcP99Ms: number;
	/** The decision alone: mafalda's PlacementPolicy on a copy of the same table, in a fresh thread, µs. */
	decisionMeanUs: number;
}

/**
 * Times mafalda's placement decision with the load table as it is now. The
 * balancer thread is asked for real placements, each undone at once so the
 * table is left as found; then the same policy code runs on a copy of the
 * table in a thread of its own, to time the decision without the hop.
 */
export async function probePlacement(
	backend: MafaldaBackend,
	origin: { producerIds: string[]; workerIndex: number },
	rpcSamples = 200,
	localDecisions = 20_000,
): Promise<PlacementSample> {
	// Internal API: the balancer is not part of mafalda's public surface; a bench may look inside.
	const balancer = backend.mafalda.supervisor().balancer;
	const router = backend.router;
	// What the router itself asks (bench routers use the default maxWorkers).
	const request: PlaceTransportRequest = { routerId: router.id, maxWorkers: mafaldaRouterDefaultOptions.maxWorkers, ...router.watermarks };
	// Let the hosts' last load reports land and this thread's garbage go, so
	// the probe times the decision and not the tail of the batch before it.
	await new Promise((r) => setTimeout(r, 200));
	const rpc: number[] = [];
	for (let i = 0; i < rpcSamples; i++) {
		const t0 = performance.now();
		const placement = await balancer.placeTransport(request);
		rpc.push(performance.now() - t0);
		await balancer.releasePlacement(placement.workerIndex);
	}
	const view = await balancer.loadTable();

	const input: PlacementTimerInput = {
		view,
		shardWorkers: [...router.shards().keys()],
		// Only the ids: a publisher handle also holds proxies, which cannot cross to a thread.
		origin: { producerIds: [...origin.producerIds], workerIndex: origin.workerIndex },
		request,
		decisions: localDecisions,
	};
	const decisionMeanUs = await new Promise<number>((resolve, reject) => {
		// Compiled code: this file is dist/bench/comparisons/placement-probe.js, beside the thread's file.
		const thread = new Worker(path.join(__dirname, 'placement-timer-thread.js'), { workerData: input });
		thread.once('message', (us: number) => resolve(us));
		thread.once('error', reject);
	});

	return {
		consumersInLoadTable: view.reduce((n, w) => n + w.consumers, 0),
		rpcMedianMs: median(rpc),
		rpcP99Ms: quantile(rpc, 0.99),
		decisionMeanUs,
	};
}
