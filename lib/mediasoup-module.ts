import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError } from './errors';
import { packageDirOf } from './mediasoup-compat';
import type { MediasoupModule } from './types';

export interface LocatedModule {
	/** The file a worker host thread requires to get the same module. */
	entry: string;
	/** The package folder (with package.json and, maybe, worker/out/Release). */
	packageDir: string;
}

/**
 * Finds the file of the mediasoup module the app handed us. Worker host
 * threads cannot receive a module object, so they load the same file. The
 * module is found in require's cache by identity of its createWorker function
 * (which also holds for an ES module namespace of the CommonJS package).
 */
export function locateMediasoupModule(mediasoup: MediasoupModule, explicitEntry?: string): LocatedModule {
	if (explicitEntry !== undefined) {
		if (typeof explicitEntry !== 'string' || !path.isAbsolute(explicitEntry) || !fs.existsSync(explicitEntry)) {
			throw new InvalidArgumentError('options.mediasoupEntry', 'must be the absolute path of an existing file');
		}
		return { entry: explicitEntry, packageDir: packageDirOf(explicitEntry) };
	}
	for (const [file, mod] of Object.entries(require.cache)) {
		const exports = mod?.exports as Partial<MediasoupModule> | undefined;
		if (exports && typeof exports === 'object' && exports.createWorker === mediasoup.createWorker) {
			return { entry: file, packageDir: packageDirOf(file) };
		}
	}
	const fallback = require.resolve('mediasoup');
	const fallbackModule = require(fallback) as Partial<MediasoupModule>;
	if (fallbackModule.createWorker === mediasoup.createWorker) return { entry: fallback, packageDir: packageDirOf(fallback) };
	throw new InvalidArgumentError(
		'mediasoup',
		'is not a loaded mediasoup module file mafalda can find; pass options.mediasoupEntry with the path of its entry file',
	);
}
