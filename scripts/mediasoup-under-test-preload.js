'use strict';
// Test tooling, loaded with `node -r` into the processes the tests start
// (mafalda-node on a test host): `require('mediasoup')` there loads the
// package MAFALDA_TEST_MEDIASOUP names, as jest maps it for the tests
// themselves. Without it a node under `npm run test:mediasoup-3.14` would load
// the dev dependency (3.27.1) with the 3.14 worker binary the test set up.
const Module = require('node:module');
const { mediasoupPackageDir, mediasoupPackageName } = require('./mediasoup-under-test');

if (mediasoupPackageName() !== 'mediasoup') {
	const dir = mediasoupPackageDir();
	const resolveFilename = Module._resolveFilename;
	Module._resolveFilename = function (request, ...rest) {
		const mapped = request === 'mediasoup' || request.startsWith('mediasoup/') ? dir + request.slice('mediasoup'.length) : request;
		return resolveFilename.call(this, mapped, ...rest);
	};
}
