// mediasoup's own Router-level tests (see suites.ts), first against plain
// mediasoup on the same worker build (the baseline of the table in README.md),
// then through MafaldaRouter. One file, so that the two runs never overlap:
// some tests bind fixed ports (a portRange of two), which a run in a parallel
// jest worker would take.
import * as mediasoup from 'mediasoup';
import { mafaldaAsMediasoup } from './adapter';
import { defineSuites } from './run-suites';

const mafaldaModule = mafaldaAsMediasoup(mediasoup);

defineSuites('mediasoup', mediasoup);
defineSuites('mafalda', mafaldaModule);

afterAll(async () => {
	// A suite that failed half-way may leave a Worker open: close what is left.
	await Promise.all([...mafaldaModule.openWorkers].map((w) => {
		w.close();
		return w.mafalda.close();
	}));
});
