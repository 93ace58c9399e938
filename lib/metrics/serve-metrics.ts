import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { InvalidArgumentError } from '../errors';
import { optionalNumber, optionalObject, optionalString } from '../validate';

export interface ServeMetricsOptions {
	/** TCP port; 0 (the default) picks a free one. */
	port?: number;
	/** Address to listen on (default '127.0.0.1': metrics are not for the open internet). */
	host?: string;
	/** URL path of the scrape endpoint (default '/metrics'). */
	path?: string;
}

export interface MetricsServer {
	readonly server: http.Server;
	readonly port: number;
	/** The scrape URL, e.g. http://127.0.0.1:9464/metrics. */
	readonly url: string;
	close(): Promise<void>;
}

/**
 * Serves a prom-client registry for Prometheus to scrape: GET `path` answers
 * the text exposition format, anything else 404 (405 for another method).
 * Resolves once listening.
 */
export async function serveMetrics(registry: Registry, options?: ServeMetricsOptions): Promise<MetricsServer> {
	if (typeof (registry as { metrics?: unknown } | null)?.metrics !== 'function') {
		throw new InvalidArgumentError('registry', 'must be a prom-client Registry (e.g. mafalda.metrics)');
	}
	const opts = optionalObject(options, 'options') ?? {};
	const port = optionalNumber(opts.port, 'options.port', 0, 65535, true) ?? 0;
	const host = optionalString(opts.host, 'options.host') ?? '127.0.0.1';
	const path = optionalString(opts.path, 'options.path') ?? '/metrics';
	if (!path.startsWith('/')) throw new InvalidArgumentError('options.path', `must start with "/", got "${path}"`);

	const server = http.createServer((req, res) => {
		const url = new URL(req.url ?? '/', 'http://localhost');
		if (url.pathname !== path) return end(res, 404, 'not found\n');
		if (req.method !== 'GET' && req.method !== 'HEAD') return end(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
		registry.metrics().then(
			(text) => end(res, 200, req.method === 'HEAD' ? '' : text, { 'content-type': registry.contentType }),
			(error: Error) => end(res, 500, `could not collect metrics: ${error.message}\n`),
		);
	});
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, host, () => {
			server.off('error', reject);
			resolve();
		});
	});
	const bound = (server.address() as AddressInfo).port;
	const hostInUrl = host.includes(':') ? `[${host}]` : host;
	return {
		server,
		port: bound,
		url: `http://${hostInUrl}:${bound}${path}`,
		close: () =>
			new Promise<void>((resolve) => {
				server.close(() => resolve());
				server.closeAllConnections();
			}),
	};
}

function end(res: http.ServerResponse, status: number, body: string, headers: http.OutgoingHttpHeaders = {}): void {
	res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
	res.end(body);
}
