'use strict';
// Where the mediasoup-worker binary built by scripts/worker-build.js is cached.
// Plain CommonJS with no dependencies: setup runs it before `npm install`, and
// lib/worker-binary.ts uses it at run time, so both agree on one key.
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

// worker-build.js and every file under worker-build/ (the bridge headers).
function recipeFiles() {
	const dir = path.join(__dirname, 'worker-build');
	const headers = fs.readdirSync(dir, { recursive: true })
		.map((rel) => path.join(dir, rel))
		.filter((file) => fs.statSync(file).isFile())
		.sort();
	return [path.join(__dirname, 'worker-build.js'), ...headers];
}

function cacheRoot() {
	const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
	return path.join(base, 'mafalda');
}

// The recipe hash changes whenever the way we build changes, so an old binary
// is never reused for a new recipe.
function recipeHash() {
	const hash = crypto.createHash('sha256');
	for (const file of recipeFiles()) {
		// The name too, so moving a header to another file changes the hash.
		hash.update(path.relative(__dirname, file));
		hash.update(fs.readFileSync(file));
	}
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
