// The one place to change what the conformance run covers: how many mediasoup
// Workers each adapter Worker (one Mafalda) may run, which of mediasoup's own
// test suites run, and which of their tests are known exceptions (and why).

/** Workers per Mafalda behind each adapter Worker: two, so that shards and pipes are exercised. */
export const WORKERS_PER_MAFALDA = 2;

/**
 * maxConsumersPerWorker of the adapter's MafaldaRouters. 1 spreads the suites'
 * transports over both workers (the first fills worker 0, the second goes to
 * worker 1), so that most consumers, data consumers and observers are fed
 * through mafalda's pipes between shards instead of sitting beside their
 * producers; mafalda's default (500) would put a whole suite test on one worker.
 */
export const MAX_CONSUMERS_PER_WORKER = 1;

/**
 * The Router-level suites of @mafalda-sfu/mediasoup-node-tests (mediasoup's
 * own node tests, 3.14.7), and WebRtcServer (through mafalda.createWebRtcServer()).
 * Worker, mediasoup and ortc test the Worker and the module, not a Router.
 */
export const SUITES = [
	'Router',
	'WebRtcTransport',
	'PlainTransport',
	'PipeTransport',
	'DirectTransport',
	'Producer',
	'Consumer',
	'DataProducer',
	'DataConsumer',
	'AudioLevelObserver',
	'ActiveSpeakerObserver',
	'multiopus',
	'node-sctp',
	'WebRtcServer',
] as const;

export type Suite = (typeof SUITES)[number];
export type Target = 'mediasoup' | 'mafalda';

export interface Exception {
	suite: Suite;
	/** The test's name, exactly as the suite writes it. */
	test: string;
	/** Where it is skipped. */
	targets: readonly Target[];
	reason: string;
}

const CHANNEL_FOR_TESTING =
	'injects a fake worker notification through the private `channelForTesting` of a mediasoup object; mafalda\'s objects live in worker threads, so no wrapper can offer it';
const PLAYOUT_DELAY =
	'version drift: the 3.14.7 tests predate the `playout-delay` header extension that mediasoup 3.14.16 adds to RTP capabilities and parameters';

export const EXCEPTIONS: readonly Exception[] = [
	{ suite: 'Producer', test: 'Producer emits "score"', targets: ['mafalda'], reason: CHANNEL_FOR_TESTING },
	{ suite: 'Consumer', test: 'Consumer emits "score"', targets: ['mafalda'], reason: CHANNEL_FOR_TESTING },
	{ suite: 'WebRtcTransport', test: 'WebRtcTransport events succeed', targets: ['mafalda'], reason: CHANNEL_FOR_TESTING },
	{ suite: 'PipeTransport', test: 'router.pipeToRouter() succeeds with audio', targets: ['mediasoup', 'mafalda'], reason: PLAYOUT_DELAY },
	{ suite: 'PipeTransport', test: 'router.pipeToRouter() succeeds with video', targets: ['mediasoup', 'mafalda'], reason: PLAYOUT_DELAY },
	{ suite: 'PipeTransport', test: 'router.createPipeTransport() with enableRtx succeeds', targets: ['mediasoup', 'mafalda'], reason: PLAYOUT_DELAY },
];

export function exceptionFor(target: Target, suite: Suite, test: string): Exception | undefined {
	return EXCEPTIONS.find((e) => e.suite === suite && e.test === test && e.targets.includes(target));
}

/** mediasoup's suites give each test 2 s; two cores shared with other jobs need a more generous bound. */
export const MIN_TEST_TIMEOUT_MS = 20_000;

