const { mediasoupPackageName } = require('./scripts/mediasoup-under-test');

const mediasoup = mediasoupPackageName();

/** @type {import('jest').Config} */
module.exports = {
	testTimeout: 60000,
	maxWorkers: 2,
	projects: [
		{
			displayName: 'mafalda',
			preset: 'ts-jest',
			testEnvironment: 'node',
			roots: ['<rootDir>/test'],
			testMatch: ['**/*.test.ts'],
			setupFiles: ['<rootDir>/test/setup-env.ts'],
			// Actors run compiled code from dist/ in worker threads (ts-jest cannot
			// transform a thread's entry), so setup builds dist/ before jest starts.
			// Another installed mediasoup (MAFALDA_TEST_MEDIASOUP): every import of
			// `mediasoup` loads it instead. Types stay the dev dependency's.
			...(mediasoup === 'mediasoup' ? {} : { moduleNameMapper: { '^mediasoup$': mediasoup, '^mediasoup/(.*)$': `${mediasoup}/$1` } }),
		},
		// mediasoup's own Node tests against the worker set-up built.
		require('./scripts/mediasoup-suite/project'),
	],
};
