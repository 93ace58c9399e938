import { InvalidArgumentError } from '../errors';
import { mediasoupPackageDir } from '../mediasoup-compat';
import type { MediasoupModule } from '../types';
import { useCachedWorkerBinary } from '../worker-binary';
import type { MafaldaNodeOptions } from './cluster-options';
import { MafaldaNode } from './MafaldaNode';

const USAGE = `usage: mafalda-node --redis URL --announced-ip IP [--listen-ip IP] [--workers N]
                    [--rtc-ports MIN-MAX] [--secret S] [--control-port P] [--node-id ID]
                    [--key-prefix P] [--drain-timeout MS] [--metrics-port P] [--metrics-host IP]
  The cluster secret may come from MAFALDA_CLUSTER_SECRET instead of --secret.
  SIGTERM or SIGINT drains the node (no new placements) and exits.`;

const FLAGS: Record<string, keyof MafaldaNodeOptions | 'rtcPorts'> = {
	'--redis': 'redis',
	'--announced-ip': 'announcedIp',
	'--listen-ip': 'listenIp',
	'--workers': 'workers',
	'--rtc-ports': 'rtcPorts',
	'--secret': 'secret',
	'--control-port': 'controlPort',
	'--node-id': 'nodeId',
	'--key-prefix': 'keyPrefix',
	'--drain-timeout': 'drainTimeoutMs',
	'--heartbeat': 'heartbeatMs',
	'--ttl': 'ttlMs',
	'--cpu-slot-dir': 'cpuSlotDir',
	'--metrics-port': 'metricsPort',
	'--metrics-host': 'metricsHost',
};
const NUMERIC = new Set(['workers', 'controlPort', 'drainTimeoutMs', 'heartbeatMs', 'ttlMs', 'metricsPort']);

/** Turns the command line into MafaldaNode options; a bad flag throws InvalidArgumentError naming it. */
export function parseNodeArgs(argv: readonly string[]): MafaldaNodeOptions {
	const out: Record<string, unknown> = {};
	for (let i = 0; i < argv.length; i++) {
		const [flag, inline] = argv[i].split(/=(.*)/s, 2);
		const key = FLAGS[flag];
		if (!key) throw new InvalidArgumentError(flag, `is not an option\n${USAGE}`);
		const value = inline ?? argv[++i];
		if (value === undefined || value.startsWith('--')) throw new InvalidArgumentError(flag, 'needs a value');
		if (key === 'rtcPorts') {
			const m = /^(\d+)-(\d+)$/.exec(value);
			if (!m) throw new InvalidArgumentError(flag, 'must be MIN-MAX, e.g. 40000-49999');
			out.rtcMinPort = Number(m[1]);
			out.rtcMaxPort = Number(m[2]);
		} else if (NUMERIC.has(key)) {
			if (!/^\d+$/.test(value)) throw new InvalidArgumentError(flag, 'must be a whole number');
			out[key] = Number(value);
		} else out[key] = value;
	}
	return out as unknown as MafaldaNodeOptions;
}

/**
 * `npx mafalda-node ...`: starts a node, prints one JSON line when it is
 * registered (what scripts and tests wait for), drains on SIGTERM/SIGINT.
 */
export async function runNodeCli(argv: readonly string[]): Promise<void> {
	if (argv.includes('--help') || argv.includes('-h')) {
		console.log(USAGE);
		return;
	}
	let options: MafaldaNodeOptions;
	try {
		options = parseNodeArgs(argv);
	} catch (error) {
		console.error(`mafalda-node: ${(error as Error).message}`);
		process.exitCode = 2;
		return;
	}
	// The peer dependency, as the app installs it; its worker binary may be the one set-up built.
	// eslint-disable-next-line @typescript-eslint/no-require-imports
	const mediasoup = require('mediasoup') as MediasoupModule;
	// mediasoupPackageDir(): 3.27's `exports` hides its package.json from require.resolve.
	useCachedWorkerBinary(mediasoupPackageDir());
	let node: MafaldaNode;
	try {
		node = new MafaldaNode(mediasoup, options);
		await node.start();
	} catch (error) {
		console.error(`mafalda-node: ${(error as Error).message}`);
		process.exitCode = 1;
		return;
	}
	node.on('error', (error) => console.error(`mafalda-node: ${error.message}`));
	// One line per outage and one per recovery, not one per failed beat.
	node.on('redislost', (error) => console.log(JSON.stringify({ event: 'redislost', at: Date.now(), message: error.message })));
	node.on('reregistered', ({ outageMs }) => console.log(JSON.stringify({ event: 'reregistered', at: Date.now(), outageMs })));
	const summary = node.summary();
	console.log(JSON.stringify({
		event: 'ready',
		nodeId: node.nodeId,
		control: `${summary.controlHost}:${summary.controlPort}`,
		listenIp: summary.listenIp,
		announcedIp: summary.announcedIp,
		workers: summary.workers.length,
		...(node.metricsUrl ? { metrics: node.metricsUrl } : {}),
	}));
	let stopping = false;
	const stop = (signal: string): void => {
		if (stopping) return;
		stopping = true;
		console.log(JSON.stringify({ event: 'draining', signal }));
		node.drain().then(
			() => console.log(JSON.stringify({ event: 'closed' })),
			(error: Error) => {
				console.error(`mafalda-node: ${error.message}`);
				process.exitCode = 1;
			},
		);
	};
	process.on('SIGTERM', () => stop('SIGTERM'));
	process.on('SIGINT', () => stop('SIGINT'));
}
