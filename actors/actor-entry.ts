import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Path of the compiled entry of an actor thread, e.g. 'worker-host/worker-host-actor'.
 * Threads always run the compiled JS in dist/ (ts-jest cannot transform a
 * thread's entry), whether the caller runs from dist/ or from sources.
 */
export function actorEntry(relative: string): string {
	const candidates = [
		path.resolve(__dirname, `${relative}.js`),
		path.resolve(__dirname, '..', 'dist', 'actors', `${relative}.js`),
	];
	const found = candidates.find((c) => fs.existsSync(c));
	if (!found) throw new Error(`mafalda: actor entry ${relative}.js not found; run \`npm run build\` (looked in ${candidates.join(', ')})`);
	return found;
}
