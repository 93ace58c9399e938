// The one place to change what the conformance run covers: how many mediasoup
// Workers each adapter Worker (one Mafalda) may run, which of mediasoup's own
// test suites run for each mediasoup version mafalda is tested with, and which
// of their tests are known exceptions there (and why).
import * as path from 'node:path';
import { mediasoupMinor, mediasoupPackageDir } from '../../lib/mediasoup-compat';

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

export type Target = 'mediasoup' | 'mafalda';

export interface Exception {
	suite: string;
	/** The test's name, exactly as the suite writes it. */
	test: string;
	/** Where it is skipped. */
	targets: readonly Target[];
	reason: string;
}

/**
 * How a suite's file defines its tests: `function`, a module whose default
 * export takes the mediasoup-like module (@mafalda-sfu/mediasoup-node-tests);
 * `package`, mediasoup's own compiled test file, which takes mediasoup from
 * `require("../")` (run-suites.ts hands it the module under test there).
 */
export type SuiteStyle = 'function' | 'package';

/** The conformance run for one mediasoup minor version. */
export interface ConformanceSet {
	/** major.minor of the mediasoup these tests were written for. */
	mediasoup: string;
	/** Where the tests come from, for README.md's table. */
	source: string;
	style: SuiteStyle;
	/** The Router-level suites, and WebRtcServer (through mafalda.createWebRtcServer()). Worker, mediasoup and ortc test the Worker and the module, not a Router, and do not run. */
	suites: readonly string[];
	exceptions: readonly Exception[];
	/** The file that defines `suite`'s tests. */
	file(suite: string): string;
}

const CHANNEL_FOR_TESTING =
	"injects a fake worker notification through the private `channelForTesting` of a mediasoup object; mafalda's objects live in worker threads, so no wrapper can offer it";
const CLOSED_BEFORE_ARGUMENTS =
	"one line calls a closed object's method with a bad argument and expects mediasoup's TypeError: mediasoup 3.27 checks the arguments before it asks the worker (whose answer, for a closed object, is NotFoundError); mafalda answers a call on a closed object at once with its closed error (a NotFoundError, which every other line of the test expects) and never hands the arguments to mediasoup in the worker thread";
const IMPL_CLASS_NAME =
	"picks the pipe transports out of observer 'newtransport' by mediasoup 3.27's internal class name (`constructor.name === 'PipeTransportImpl'`); mafalda's class is `PipeTransport` (`transport.type` is 'pipe' in both)";
const PLAYOUT_DELAY =
	'version drift: the 3.14.7 tests predate the `playout-delay` header extension that mediasoup 3.14.16 adds to RTP capabilities and parameters';

/** The same three tests in both versions. */
const CHANNEL_FOR_TESTING_EXCEPTIONS: readonly Exception[] = [
	{ suite: 'Producer', test: 'Producer emits "score"', targets: ['mafalda'], reason: CHANNEL_FOR_TESTING },
	{ suite: 'Consumer', test: 'Consumer emits "score"', targets: ['mafalda'], reason: CHANNEL_FOR_TESTING },
	{ suite: 'WebRtcTransport', test: 'WebRtcTransport events succeed', targets: ['mafalda'], reason: CHANNEL_FOR_TESTING },
];

/** The suites, the same in both versions but for the SCTP one (3.14.7's node-sctp, 3.27's werift-sctp). */
function suitesWith(sctpSuite: string): readonly string[] {
	return [
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
		sctpSuite,
		'WebRtcServer',
	];
}

/** mediasoup 3.14: @mafalda-sfu/mediasoup-node-tests 3.14.7, mediasoup's own tests taking the module as an argument. */
const MEDIASOUP_3_14: ConformanceSet = {
	mediasoup: '3.14',
	source: '@mafalda-sfu/mediasoup-node-tests 3.14.7',
	style: 'function',
	suites: suitesWith('node-sctp'),
	exceptions: [
		...CHANNEL_FOR_TESTING_EXCEPTIONS,
		{ suite: 'PipeTransport', test: 'router.pipeToRouter() succeeds with audio', targets: ['mediasoup', 'mafalda'], reason: PLAYOUT_DELAY },
		{ suite: 'PipeTransport', test: 'router.pipeToRouter() succeeds with video', targets: ['mediasoup', 'mafalda'], reason: PLAYOUT_DELAY },
		{ suite: 'PipeTransport', test: 'router.createPipeTransport() with enableRtx succeeds', targets: ['mediasoup', 'mafalda'], reason: PLAYOUT_DELAY },
	],
	file: (suite) => require.resolve(`@mafalda-sfu/mediasoup-node-tests/${suite}`),
};

/**
 * mediasoup 3.27: the compiled tests its npm package ships in node/lib/test/
 * (the same files the `mediasoup` jest project runs against plain mediasoup).
 * No @mafalda-sfu/mediasoup-node-tests release matches 3.27 (the registry's
 * latest is 3.14.7).
 */
const MEDIASOUP_3_27: ConformanceSet = {
	mediasoup: '3.27',
	source: "mediasoup 3.27.1's own node/lib/test/",
	style: 'package',
	suites: suitesWith('werift-sctp'),
	exceptions: [
		...CHANNEL_FOR_TESTING_EXCEPTIONS,
		{ suite: 'WebRtcTransport', test: 'WebRtcTransport methods reject if closed', targets: ['mafalda'], reason: CLOSED_BEFORE_ARGUMENTS },
		{ suite: 'Consumer', test: 'Consumer methods reject if closed', targets: ['mafalda'], reason: CLOSED_BEFORE_ARGUMENTS },
		{
			suite: 'PipeTransport',
			test: 'router.pipeToRouter() called in two Routers passing one to each other as argument generates a single PipeTransport pair',
			targets: ['mafalda'],
			reason: IMPL_CLASS_NAME,
		},
	],
	// jest maps `mediasoup` onto the package under test, also for require.resolve.
	file: (suite) => path.join(mediasoupPackageDir(), 'node', 'lib', 'test', `test-${suite}.js`),
};

const SETS: readonly ConformanceSet[] = [MEDIASOUP_3_14, MEDIASOUP_3_27];

/** The conformance run for a mediasoup version; a version without one is an error, not an empty run. */
export function conformanceSet(version: string): ConformanceSet {
	const minor = `3.${mediasoupMinor(version)}`;
	const set = SETS.find((s) => s.mediasoup === minor);
	if (!set) throw new Error(`no conformance set for mediasoup ${version} in test/conformance/suites.ts (there are: ${SETS.map((s) => s.mediasoup).join(', ')})`);
	return set;
}

export function exceptionFor(set: ConformanceSet, target: Target, suite: string, test: string): Exception | undefined {
	return set.exceptions.find((e) => e.suite === suite && e.test === test && e.targets.includes(target));
}

/** mediasoup's suites give each test 2 s; two cores shared with other jobs need a more generous bound. */
export const MIN_TEST_TIMEOUT_MS = 20_000;
