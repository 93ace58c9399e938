import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../../lib/package-root';

/** bench/results/ of the repository (the source folder, not dist/), created if needed. */
export function resultsDir(): string {
	const dir = path.join(packageRoot(), 'bench', 'results');
	fs.mkdirSync(dir, { recursive: true });
	return dir;
}

/** Writes bench/results/<name>-latest.json; typed arrays become plain arrays, NaN becomes null. */
export function writeJsonResult(name: string, data: unknown): string {
	const file = path.join(resultsDir(), `${name}-latest.json`);
	const json = JSON.stringify(
		data,
		(_key, value: unknown) => {
			if (ArrayBuffer.isView(value)) return undefined;
			if (typeof value === 'number' && !Number.isFinite(value)) return null;
			return value;
		},
		2,
	);
	fs.writeFileSync(file, json + '\n');
	return file;
}

export function writeSvgResult(name: string, svg: string): string {
	const file = path.join(resultsDir(), `${name}-latest.svg`);
	fs.writeFileSync(file, svg);
	return file;
}
