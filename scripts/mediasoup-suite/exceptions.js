// mediasoup's own tests that are skipped when run against the worker mafalda
// builds, each with the reason. Keyed by test file (basename) and full test
// name; README.md's build section reports the same list.
const path = require('node:path');

/** @type {Record<string, Record<string, string>>} file -> test name -> reason */
const EXCEPTIONS = {};

const file = path.basename(expect.getState().testPath ?? '');
const skipped = EXCEPTIONS[file] ?? {};

// Wraps the global test() so that a listed test is declared as skipped.
const originalTest = global.test;
function test(name, ...rest) {
	return name in skipped ? originalTest.skip(name, ...rest) : originalTest(name, ...rest);
}
Object.assign(test, originalTest);
global.test = test;
global.it = test;

module.exports = { EXCEPTIONS };
