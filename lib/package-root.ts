import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The folder of mafalda's own package.json. Code runs from lib/ (under
 * ts-jest) or from dist/lib/, so the distance to the root varies.
 */
export function packageRoot(): string {
	let dir = __dirname;
	for (;;) {
		const candidate = path.join(dir, 'package.json');
		if (fs.existsSync(candidate) && (JSON.parse(fs.readFileSync(candidate, 'utf8')) as { name?: string }).name === 'mafalda') return dir;
		const parent = path.dirname(dir);
		if (parent === dir) throw new Error('mafalda: package.json of mafalda not found above ' + __dirname);
		dir = parent;
	}
}

export function packageVersion(): string {
	return (JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
