// The same suites against plain mediasoup on the same worker build: the baseline
// of the conformance table (see suites.ts).
import * as mediasoup from 'mediasoup';
import { defineSuites } from './run-suites';

defineSuites('mediasoup', mediasoup);
