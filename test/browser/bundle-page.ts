// Bundles the page script with mediasoup-client from node_modules, as an
// app's build would, into one classic script for the page to load.
import * as path from 'node:path';
import { build } from 'esbuild';

export async function bundlePage(): Promise<string> {
	const result = await build({
		entryPoints: [path.join(__dirname, 'page', 'client.ts')],
		bundle: true,
		write: false,
		format: 'iife',
		platform: 'browser',
		target: 'chrome120',
		tsconfig: path.join(__dirname, 'page', 'tsconfig.json'),
		logLevel: 'silent',
	});
	return result.outputFiles[0].text;
}
