import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../lib/package-root';

/**
 * Path of the compiled thread entry `relative` (without .js) next to the
 * caller's folder `callerDir`. Threads always run the compiled JS in dist/
 * (ts-jest cannot transform a thread's entry), whether the caller runs from
 * dist/ or from sources: beside the caller first, else the same place in dist/.
 */
export function compiledEntry(callerDir: string, relative: string): string {
	const root = packageRoot();
	const candidates = [path.resolve(callerDir, `${relative}.js`), path.resolve(root, 'dist', path.relative(root, callerDir), `${relative}.js`)];
	const found = candidates.find((c) => fs.existsSync(c));
	if (!found) throw new Error(`mafalda: thread entry ${relative}.js not found; run \`npm run build\` (looked in ${candidates.join(', ')})`);
	return found;
}

/** Path of the compiled entry of an actor thread, e.g. 'worker-host/worker-host-actor'. */
export function actorEntry(relative: string): string {
	return compiledEntry(__dirname, relative);
}
