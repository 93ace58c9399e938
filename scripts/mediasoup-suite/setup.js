// Runs before each of mediasoup's own test files (see project.js).
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { mediasoupPackageDir } = require('../mediasoup-under-test');
// dist/ is built by set-up before jest starts, as for mafalda's own tests.
const { useCachedWorkerBinary } = require('../../dist/lib/worker-binary');

const pkgDir = mediasoupPackageDir();
// mediasoup reads MEDIASOUP_WORKER_BIN when it loads, after this file.
if (!useCachedWorkerBinary(pkgDir)) throw new Error(`no mediasoup-worker for ${pkgDir}: run node scripts/setup.js`);

// The package ships the compiled tests but not their data/ folder, where one
// test finds a DTLS certificate and key. Test files run in parallel, so the
// pair is made in a folder of its own and renamed into place whole: a loser
// of the race finds the winner's folder and drops its own.
const dataDir = path.join(pkgDir, 'node', 'lib', 'test', 'data');
if (!fs.existsSync(dataDir)) {
	const tmp = fs.mkdtempSync(`${dataDir}-`);
	execFileSync('openssl', [
		'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '3650',
		'-subj', '/CN=mediasoup-test', '-keyout', path.join(tmp, 'dtls-key.pem'), '-out', path.join(tmp, 'dtls-cert.pem'),
	], { stdio: 'ignore' });
	try {
		fs.renameSync(tmp, dataDir);
	} catch (error) {
		fs.rmSync(tmp, { recursive: true, force: true });
		if (!fs.existsSync(dataDir)) throw error;
	}
}
