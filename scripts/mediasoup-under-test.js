'use strict';
// Which installed mediasoup package `npm test` runs against. The default is the
// dev dependency `mediasoup` (3.27.1, the latest 3.x);
// MAFALDA_TEST_MEDIASOUP=mediasoup-3.14 picks the npm alias of 3.14.16. Set-up
// builds that package's worker (only that one), and jest maps every
// `mediasoup` import onto it.
// Plain CommonJS: set-up and jest.config.js read it before anything is built.
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

function mediasoupPackageName() {
	const name = process.env.MAFALDA_TEST_MEDIASOUP || 'mediasoup';
	if (!/^mediasoup(-[\w.]+)?$/.test(name)) {
		throw new Error(`MAFALDA_TEST_MEDIASOUP must name an installed mediasoup package (mediasoup, mediasoup-3.14), got "${name}"`);
	}
	return name;
}

function mediasoupPackageDir() {
	return path.join(ROOT, 'node_modules', mediasoupPackageName());
}

module.exports = { mediasoupPackageName, mediasoupPackageDir };
