'use strict';
// Where the mediasoup-worker binary built by scripts/worker-build.js is cached.
// Plain CommonJS with no dependencies: setup runs it before `npm install`, and
// lib/worker-binary.ts uses it at run time, so both agree on one key.
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const RECIPE_FILES = [
	path.join(__dirname, 'worker-build.js'),
	path.join(__dirname, 'worker-build', 'srtp-compat.h'),
];

function cacheRoot() {
	const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
	return path.join(base, 'mafalda');
}

// The recipe hash changes whenever the way we build changes, so an old binary
// is never reused for a new recipe.
function recipeHash() {
	const hash = crypto.createHash('sha256');
	for (const file of RECIPE_FILES) hash.update(fs.readFileSync(file));
	return hash.digest('hex').slice(0, 12);
}

function cachedWorkerDir(mediasoupVersion) {
	return path.join(cacheRoot(), 'mediasoup-worker', `${mediasoupVersion}-${recipeHash()}`);
}

function cachedWorkerBin(mediasoupVersion) {
	return path.join(cachedWorkerDir(mediasoupVersion), 'mediasoup-worker');
}

// mediasoup's own location for a binary built by its postinstall.
function packagedWorkerBin(mediasoupDir) {
	return path.join(mediasoupDir, 'worker', 'out', 'Release', 'mediasoup-worker');
}

module.exports = { cacheRoot, recipeHash, cachedWorkerDir, cachedWorkerBin, packagedWorkerBin };
