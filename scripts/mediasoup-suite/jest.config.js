// jest configuration for mediasoup's own Node tests, the compiled ones its npm
// package ships in node/lib/test/, run against the worker mafalda built
// (scripts/mediasoup-suite/run.js sets MEDIASOUP_WORKER_BIN first).
const path = require('node:path');
const { mediasoupPackageDir } = require('../mediasoup-under-test');

/** @type {import('jest').Config} */
module.exports = {
	rootDir: path.join(mediasoupPackageDir(), 'node', 'lib', 'test'),
	testEnvironment: 'node',
	testMatch: ['<rootDir>/test-*.js'],
	// The tests live inside node_modules, which jest skips by default.
	testPathIgnorePatterns: [],
	haste: { retainAllFiles: true },
	transform: {},
	setupFilesAfterEnv: [path.join(__dirname, 'exceptions.js')],
	testTimeout: 60000,
	maxWorkers: 2,
};
