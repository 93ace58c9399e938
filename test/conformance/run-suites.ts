// Defines mediasoup's own test suites (SUITES) against one mediasoup-like
// module, skipping the listed exceptions with their reason in the test name.
import { exceptionFor, MIN_TEST_TIMEOUT_MS, type Suite, SUITES, type Target } from './suites';

type TestFn = (name: string, fn?: jest.ProvidesCallback, timeout?: number) => void;

export function defineSuites(target: Target, module: unknown): void {
	describe(target, () => {
		for (const suite of SUITES) defineSuite(target, suite, module);
	});
}

function defineSuite(target: Target, suite: Suite, module: unknown): void {
	const g = globalThis as unknown as { test: TestFn & { skip: TestFn } };
	const realTest = g.test;
	// The suites call the global `test` while they are defined; wrap it for that time only.
	const wrapped: TestFn = (name, fn, timeout) => {
		const exception = exceptionFor(target, suite, name);
		if (exception) realTest.skip(`${name} [exception: ${exception.reason}]`, fn);
		else realTest(name, fn, Math.max(timeout ?? 0, MIN_TEST_TIMEOUT_MS));
	};
	g.test = Object.assign(wrapped, realTest);
	try {
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		(require(`@mafalda-sfu/mediasoup-node-tests/${suite}`) as { default: (m: unknown) => void }).default(module);
	} finally {
		g.test = realTest as TestFn & { skip: TestFn };
	}
}
