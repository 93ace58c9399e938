'use strict';
// Runs mediasoup's own compiled Node tests (node/lib/test/ of the mediasoup
// package under test, see ../mediasoup-under-test.js) with jest against the
// worker that set-up built. `npm run test:mediasoup-suite [-- jest args]`.
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { mediasoupPackageDir } = require('../mediasoup-under-test');
const { cachedWorkerBin } = require('../worker-cache');

const ROOT = path.resolve(__dirname, '..', '..');
const pkgDir = mediasoupPackageDir();
const { version } = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));

const bin = process.env.MEDIASOUP_WORKER_BIN || cachedWorkerBin(version);
if (!fs.existsSync(bin)) {
	console.error(`[mafalda] no mediasoup-worker for mediasoup ${version} at ${bin}: run node scripts/setup.js first`);
	process.exit(1);
}

// The package ships the compiled tests but not their test/data/ folder; one
// test starts a worker with a DTLS certificate and key from it.
const dataDir = path.join(pkgDir, 'node', 'lib', 'test', 'data');
if (!fs.existsSync(path.join(dataDir, 'dtls-key.pem'))) {
	fs.mkdirSync(dataDir, { recursive: true });
	execFileSync('openssl', [
		'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '3650',
		'-subj', '/CN=mediasoup-test', '-keyout', path.join(dataDir, 'dtls-key.pem'), '-out', path.join(dataDir, 'dtls-cert.pem'),
	], { stdio: 'ignore' });
}

console.log(`[mafalda] mediasoup ${version}'s own tests against ${bin}`);
const jest = path.join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
const result = spawnSync(process.execPath, [jest, '--config', path.join(__dirname, 'jest.config.js'), ...process.argv.slice(2)], {
	stdio: 'inherit',
	cwd: ROOT,
	env: { ...process.env, MEDIASOUP_WORKER_BIN: bin },
});
process.exit(result.status ?? 1);
