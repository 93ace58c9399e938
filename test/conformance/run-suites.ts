// Defines mediasoup's own test suites (a ConformanceSet of suites.ts) against
// one mediasoup-like module, skipping the listed exceptions with their reason
// in the test name.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type ConformanceSet, exceptionFor, MIN_TEST_TIMEOUT_MS, type Target } from './suites';

type TestFn = (name: string, fn?: jest.ProvidesCallback, timeout?: number) => void;

/** The title of the outer describe block, which table.ts reads the version from. */
export function runTitle(version: string): string {
	return `mediasoup ${version}`;
}

export function defineSuites(set: ConformanceSet, target: Target, module: unknown): void {
	describe(target, () => {
		for (const suite of set.suites) defineSuite(set, target, suite, module);
	});
}

function defineSuite(set: ConformanceSet, target: Target, suite: string, module: unknown): void {
	const g = globalThis as unknown as { test: TestFn & { skip: TestFn } };
	const realTest = g.test;
	// The suites call the global `test` while they are defined; wrap it for that time only.
	const wrapped: TestFn = (name, fn, timeout) => {
		const exception = exceptionFor(set, target, suite, name);
		if (exception) realTest.skip(`${name} [exception: ${exception.reason}]`, fn);
		else realTest(name, fn, Math.max(timeout ?? 0, MIN_TEST_TIMEOUT_MS));
	};
	g.test = Object.assign(wrapped, realTest);
	try {
		if (set.style === 'function') {
			// eslint-disable-next-line @typescript-eslint/no-require-imports
			(require(set.file(suite)) as { default: (m: unknown) => void }).default(module);
		} else {
			// mediasoup's own test files have no describe block of their own: this one names the suite (table.ts reads it).
			describe(suite, () => loadPackageSuite(set.file(suite), module));
		}
	} finally {
		g.test = realTest as TestFn & { skip: TestFn };
	}
}

/**
 * Runs one of mediasoup's compiled test files with `module` as its mediasoup.
 * The file takes mediasoup from `require("../")`, the package's own entry,
 * and its error classes from `require("../errors")`. It is evaluated here
 * with a require of its own that answers "../" with the module under test and
 * loads everything else through jest's require, so "../errors" is the very
 * module whose classes mafalda's errors extend. (jest.doMock would change
 * "../" for the whole file, and jest.isolateModules would give the file fresh
 * copies of ../errors that mafalda's classes do not extend.)
 */
function loadPackageSuite(file: string, module: unknown): void {
	const dir = path.dirname(file);
	const load = (id: string): unknown => {
		if (id === '../' || id === '..') return module;
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		if (id.startsWith('node:')) return require(id);
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		if (id.startsWith('.')) return require(path.resolve(dir, id));
		// Bare names (werift-sctp, pick-port, flatbuffers): the versions the mediasoup package itself resolves.
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		return require(require.resolve(id, { paths: [dir] }));
	};
	// The test realm's Function, so the file sees jest's globals (test, expect, beforeEach) as a test file does.
	const body = new Function('exports', 'require', 'module', '__filename', '__dirname', 'jest', fs.readFileSync(file, 'utf8')) as (
		exports: object,
		require: (id: string) => unknown,
		module: { exports: object },
		filename: string,
		dirname: string,
		jestObject: typeof jest,
	) => void;
	const mod = { exports: {} };
	body(mod.exports, load, mod, file, dir, jest);
}
