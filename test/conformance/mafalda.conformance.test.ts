// mediasoup's own Router-level tests, through MafaldaRouter (see suites.ts).
import * as mediasoup from 'mediasoup';
import { mafaldaAsMediasoup } from './adapter';
import { defineSuites } from './run-suites';

const mafaldaModule = mafaldaAsMediasoup(mediasoup);

defineSuites('mafalda', mafaldaModule);

afterAll(async () => {
	// A suite that failed half-way may leave a Worker open: close what is left.
	await Promise.all([...mafaldaModule.openWorkers].map((w) => {
		w.close();
		return w.mafalda.close();
	}));
});
