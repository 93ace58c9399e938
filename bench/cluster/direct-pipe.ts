// A stream piped straight from its producer's node A to a viewer's node C
// (depth 1), with paced real RTP, for the partition faults of issue 11
// (test/cluster-relay.test.ts): the link A-C is the one cut. With `transit`,
// a third node B has a shard of the router but not the stream: the way around.
import type { Mafalda, MafaldaRouter, PipeInfo, PlainTransport } from '../../lib';
import { plainOptions, publishVideo, type Publisher, type Viewer } from '../../test/helpers/mafalda-media';
import { paceVideo, placeOfWorker, shapeRouter, TreeShapeError, viewOn, withShapeRetries } from './relay-tree';

export interface DirectPipe {
	router: MafaldaRouter;
	pub: Publisher;
	/** Node ids: the producer's (A), the viewer's (C), and B's when asked for (`transit`). */
	origin: string;
	leaf: string;
	transit: string | undefined;
	/** The viewer on C, fed by the pipe A -> C. */
	viewer: Viewer;
	pipe: PipeInfo;
	close(): Promise<void>;
}

export interface DirectPipeOptions {
	routerId: string;
	ssrc: number;
	/** This process's address as the nodes reach it. */
	address: string;
	/** Also open a shard of the router on a third node, with no stream (a transport that nobody consumes on). */
	transit: boolean;
}

/**
 * One worker per node, `maxConsumersPerWorker: 1` (as in cluster.test.ts):
 * the producer's transport fills A; with `transit`, a filler fills B (its
 * shard exists, the stream is not piped there); the viewer's transport goes
 * to the next node, C, and its consume is piped from A, the only carrier.
 * (One transport per node: two placed back to back on one worker can count
 * twice there until its next load report, and the second spills.)
 */
export function buildDirectPipe(mafalda: Mafalda, options: DirectPipeOptions): Promise<DirectPipe> {
	return withShapeRetries(options.routerId, (routerId) => buildOnce(mafalda, { ...options, routerId }));
}

async function buildOnce(mafalda: Mafalda, options: DirectPipeOptions): Promise<DirectPipe> {
	const { router, pipes, track, untrack } = await shapeRouter(mafalda, options.routerId, 1);
	let pub: Publisher | undefined;
	let viewer: Viewer | undefined;
	let stop: (() => void) | undefined;
	const close = async (): Promise<void> => {
		stop?.();
		untrack();
		router.close();
		await pub?.sender.close();
		await viewer?.receiver.close();
	};
	try {
		pub = await publishVideo(router, options.ssrc, options.address);
		track(pub.producer.id);
		const origin = placeOfWorker(mafalda, pub.producer.workerIndex);
		const place = async (): Promise<{ transport: PlainTransport; node: string }> => {
			const transport = await router.createPlainTransport(plainOptions());
			return { transport, node: placeOfWorker(mafalda, transport.workerIndex) };
		};
		const transit = options.transit ? (await place()).node : undefined;
		if (transit === origin) throw new TreeShapeError(`B's filler went to the producer's node ${origin}`);
		const toC = await place();
		const leaf = toC.node;
		if (leaf === origin || leaf === transit) throw new TreeShapeError(`the viewer's transport went to ${leaf}`);
		viewer = await viewOn(router, toC.transport, pub.producer.id, options.address);
		const pipe = pipes.find((p) => p.toNode === leaf);
		if (pipe?.fromNode !== origin || pipe.depth !== 1) throw new TreeShapeError(`${leaf} is fed by ${pipe?.fromNode ?? 'none'}, not straight from ${origin}`);
		stop = paceVideo(pub);
		await viewer.receiver.waitForPackets(20, 10_000);
		untrack();
		return { router, pub, origin, leaf, transit, viewer, pipe, close };
	} catch (error) {
		await close();
		throw error;
	}
}
