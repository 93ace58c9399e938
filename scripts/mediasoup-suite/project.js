// The jest project of mediasoup's own Node tests: the compiled ones the npm
// package of the mediasoup under test (../mediasoup-under-test.js) ships in
// node/lib/test/, run against the worker mafalda's set-up built. They prove the
// build's bridges (README.md, "What the worker build changes, and why").
const path = require('node:path');
const { mediasoupPackageDir } = require('../mediasoup-under-test');

/** @type {import('jest').Config} */
module.exports = {
	displayName: 'mediasoup',
	rootDir: path.join(mediasoupPackageDir(), 'node', 'lib', 'test'),
	testEnvironment: 'node',
	testMatch: ['<rootDir>/test-*.js'],
	// The tests live inside node_modules, which jest leaves out of its file map
	// and of the test paths by default.
	testPathIgnorePatterns: [],
	haste: { retainAllFiles: true },
	transform: {},
	setupFiles: [path.join(__dirname, 'setup.js')],
	setupFilesAfterEnv: [path.join(__dirname, 'timeouts.js')],
};
