import * as fs from 'node:fs';
import * as path from 'node:path';
import { mediasoupPackageDir } from './mediasoup-compat';
import { packageRoot } from './package-root';

interface WorkerCache {
	cachedWorkerBin(mediasoupVersion: string): string;
	packagedWorkerBin(mediasoupDir: string): string;
}

// scripts/worker-cache.js is plain JS shared with the set-up script, so both
// agree on where the built worker is cached.
function loadWorkerCache(): WorkerCache {
	return require(path.join(packageRoot(), 'scripts', 'worker-cache.js')) as WorkerCache;
}

/**
 * The mediasoup-worker binary that a mediasoup package at `mediasoupDir`
 * (default: the one `require('mediasoup')` loads) will run: the user's
 * MEDIASOUP_WORKER_BIN, else the package's own build, else the one mafalda's
 * set-up built and cached. Undefined when none exists.
 */
export function findWorkerBinary(mediasoupDir: string = mediasoupPackageDir()): string | undefined {
	const fromEnv = process.env.MEDIASOUP_WORKER_BIN;
	if (fromEnv) return fromEnv;
	const cache = loadWorkerCache();
	const packaged = cache.packagedWorkerBin(mediasoupDir);
	if (fs.existsSync(packaged)) return packaged;
	const pkg = JSON.parse(fs.readFileSync(path.join(mediasoupDir, 'package.json'), 'utf8')) as { version: string };
	const cached = cache.cachedWorkerBin(pkg.version);
	return fs.existsSync(cached) ? cached : undefined;
}

/**
 * Points mediasoup at mafalda's cached worker when the user set nothing and the
 * package has no binary of its own. Must run before the mediasoup module loads,
 * because mediasoup reads MEDIASOUP_WORKER_BIN once, at load time.
 */
export function useCachedWorkerBinary(mediasoupDir: string = mediasoupPackageDir()): string | undefined {
	const bin = findWorkerBinary(mediasoupDir);
	if (bin && !process.env.MEDIASOUP_WORKER_BIN) process.env.MEDIASOUP_WORKER_BIN = bin;
	return bin;
}
