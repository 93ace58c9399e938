// mediasoup's own Router-level tests (the ConformanceSet of suites.ts for the
// mediasoup under test), first against plain mediasoup on the same worker
// build (the baseline of the table in README.md), then through MafaldaRouter.
// One file, so that the two runs never overlap: some tests bind fixed ports
// (a portRange of two), which a run in a parallel jest worker would take.
import * as mediasoup from 'mediasoup';
import { mafaldaAsMediasoup } from './adapter';
import { defineSuites, runTitle } from './run-suites';
import { conformanceSet } from './suites';

const set = conformanceSet(mediasoup.version);
const mafaldaModule = mafaldaAsMediasoup(mediasoup);

describe(runTitle(mediasoup.version), () => {
	defineSuites(set, 'mediasoup', mediasoup);
	defineSuites(set, 'mafalda', mafaldaModule);
});

afterAll(async () => {
	// A suite that failed half-way may leave a Worker open: close what is left.
	await Promise.all([...mafaldaModule.openWorkers].map((w) => {
		w.close();
		return w.mafalda.close();
	}));
});
