'use strict';
// The one set-up step behind `npm test`, `npm run demo` and `npm run bench`:
// installs whatever is missing and is quick when everything is there.
// Plain Node with no dependencies, because it runs before `npm install`.
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

// What the mediasoup worker build needs from Debian.
const DEBIAN_PACKAGES = [
	'g++', 'python3', 'pkg-config', 'meson', 'ninja-build',
	'libssl-dev', 'libuv1-dev', 'libsrtp2-dev', 'libusrsctp-dev', 'libabsl-dev',
	'flatbuffers-compiler', 'libflatbuffers-dev',
];

function log(msg) {
	console.log(`[mafalda setup] ${msg}`);
}

function sh(cmd, args, opts = {}) {
	execFileSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...opts });
}

// Whether node_modules was installed from this package-lock.json: by content,
// not by modification time (a checkout, a merge or \`npm install
// --package-lock-only\` moves times without changing what is installed, or
// changes it without moving them the right way).
const INSTALLED_LOCK = path.join(ROOT, 'node_modules', '.mafalda-installed-lock.sha256');

function lockHash(lock) {
	return require('node:crypto').createHash('sha256').update(fs.readFileSync(lock)).digest('hex');
}

function ensureNpmPackages() {
	const lock = path.join(ROOT, 'package-lock.json');
	const npmMarker = path.join(ROOT, 'node_modules', '.package-lock.json');
	if (fs.existsSync(lock) && fs.existsSync(npmMarker)) {
		const hash = lockHash(lock);
		if (fs.existsSync(INSTALLED_LOCK)) {
			if (fs.readFileSync(INSTALLED_LOCK, 'utf8').trim() === hash) return;
		} else if (fs.statSync(npmMarker).mtimeMs >= fs.statSync(lock).mtimeMs) {
			// Installed before this check existed, and not older than the lock: trust it once.
			fs.writeFileSync(INSTALLED_LOCK, `${hash}\n`);
			return;
		}
	}
	log('installing npm packages');
	// --ignore-scripts: mediasoup's postinstall would try to download a worker.
	sh('npm', [fs.existsSync(lock) ? 'ci' : 'install', '--ignore-scripts', '--no-audit', '--no-fund']);
	if (fs.existsSync(lock)) fs.writeFileSync(INSTALLED_LOCK, `${lockHash(lock)}\n`);
}

// What the cluster tests need (docs/CLUSTER.md): a real Redis server, and
// `ip` for the network namespaces that stand in for separate machines.
const CLUSTER_PACKAGES = ['redis-server', 'iproute2'];

// What test/browser-chromium.test.ts drives: Debian's own build, so nothing
// downloads a browser of its own.
const BROWSER_PACKAGES = ['chromium'];

function missingDebianPackages(packages) {
	return packages.filter((pkg) => {
		const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
		return r.status !== 0 || !r.stdout.includes('install ok installed');
	});
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Installs what is missing of `packages` as root; returns the apt-get line still to run otherwise. */
function installDebianPackages(packages) {
	const missing = missingDebianPackages(packages);
	if (missing.length === 0) return undefined;
	if (isRoot) {
		log(`installing Debian packages: ${missing.join(' ')}`);
		sh('apt-get', ['update', '-qq']);
		sh('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
			env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
		});
		return undefined;
	}
	return `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
}

function ensureDebianPackages() {
	const line = installDebianPackages(DEBIAN_PACKAGES);
	if (!line) return;
	console.error(`[mafalda setup] the mediasoup worker build needs Debian packages that are missing. Run as root:\n\n  ${line}\n`);
	process.exit(1);
}

function ensureClusterPackages() {
	const line = installDebianPackages(CLUSTER_PACKAGES);
	if (!line) return;
	console.error(`[mafalda setup] the cluster tests need Debian packages that are missing (a Redis server, network namespaces). Run as root:\n\n  ${line}\n`);
	process.exit(1);
}

function ensureBrowser() {
	if (process.env.CHROMIUM_BIN && fs.existsSync(process.env.CHROMIUM_BIN)) return;
	const line = installDebianPackages(BROWSER_PACKAGES);
	// Not fatal: only the browser test needs it, and it says why it skips.
	if (line) log(`chromium is missing (the browser test will skip). Run as root:\n\n  ${line}\n`);
}

function ensureWorker() {
	// The dev dependency, or the other mediasoup MAFALDA_TEST_MEDIASOUP names:
	// only the worker of the version under test (README.md, "CI time").
	const mediasoupDir = require('./mediasoup-under-test').mediasoupPackageDir();
	const { packagedWorkerBin, cachedWorkerBin } = require('./worker-cache');
	if (process.env.MEDIASOUP_WORKER_BIN && fs.existsSync(process.env.MEDIASOUP_WORKER_BIN)) return;
	if (fs.existsSync(packagedWorkerBin(mediasoupDir))) return;
	const version = require(path.join(mediasoupDir, 'package.json')).version;
	if (fs.existsSync(cachedWorkerBin(version))) return;
	ensureDebianPackages();
	require('./worker-build').buildWorker(mediasoupDir);
}

function ensureTypeScriptBuild() {
	// tsc is incremental (dist/.tsbuildinfo): a no-change build takes a second.
	const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
	sh(process.execPath, [tsc, '-p', 'tsconfig.json']);
	// The browser test's page script: esbuild bundles it without type-checking, so check it here (DOM types, no emit).
	const page = path.join(ROOT, 'test', 'browser', 'page', 'tsconfig.json');
	if (fs.existsSync(page)) sh(process.execPath, [tsc, '-p', page]);
}

ensureNpmPackages();
ensureClusterPackages();
ensureWorker();
ensureBrowser();
ensureTypeScriptBuild();
