// Hosts for the cluster tests and the cluster bench: a real redis-server on a free port, and
// one "machine" per mafalda node. As root, each machine is a Linux network
// namespace on a bridge of its own (ip netns + veth), with its own address in
// a private /24 that exists only on this bridge; traffic between them never
// leaves this machine. Without root, the machines are the loopback addresses
// 127.0.0.2, 127.0.0.3, ... of one namespace, and the tests say so.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { packageRoot } from '../../lib/package-root';

export function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A time limit to race against: it does not keep the process alive once the race is won. */
export function timeLimit(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function ip(args: string[], netns?: string): void {
	execFileSync('ip', netns ? ['netns', 'exec', netns, 'ip', ...args] : args, { stdio: 'pipe' });
}

/** A free TCP port on 127.0.0.1 (the OS's choice, released at once). */
export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as net.AddressInfo;
			server.close(() => resolve(port));
		});
	});
}

export interface Host {
	name: string;
	/** The host's own address: its node listens and announces on it. */
	address: string;
	/** The network namespace it runs in (undefined: loopback fallback, no namespace). */
	netns?: string;
}

export interface HostNetwork {
	/** 'netns' (root: namespaces, veth, a bridge) or 'loopback' (127.0.0.x of one namespace). */
	mode: 'netns' | 'loopback';
	hosts: Host[];
	/** Where this test process is reached from the hosts (the bridge's address, or 127.0.0.1). */
	testAddress: string;
	/** Adds `ms` of delay to what every host sends (tc netem); returns the undo, or undefined where the mode has no links. */
	addLatency(ms: number): (() => void) | undefined;
	/**
	 * Cuts (false) or restores (true) host `index`'s only link (its veth on the
	 * bridge): the machine stays up but nothing reaches it. False where the mode has no links.
	 */
	setLink(index: number, up: boolean): boolean;
	/**
	 * Cuts (true) or mends (false) the path between hosts `a` and `b` only: a
	 * blackhole route to the other's address in each namespace, so that both
	 * still reach the bridge (Redis, the controller) and every other host.
	 * False where the mode has no routes of its own.
	 */
	partition(a: number, b: number, cut: boolean): boolean;
	destroy(): void;
}

let runSeq = 0;

/** Namespaces and bridges of earlier runs whose process is gone (a killed test run): removed before making new ones. */
function removeStale(): void {
	const alive = (pid: number): boolean => {
		try {
			process.kill(pid, 0);
			return true;
		} catch (error) {
			return (error as NodeJS.ErrnoException).code === 'EPERM';
		}
	};
	const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
	for (const m of list.matchAll(/^mafalda-(\d+)-(\d+)-\d+/gm)) {
		if (!alive(Number(m[1]))) spawnSync('ip', ['netns', 'del', m[0]], { stdio: 'ignore' });
	}
	const links = spawnSync('ip', ['-o', 'link', 'show', 'type', 'bridge'], { encoding: 'utf8' }).stdout ?? '';
	for (const m of links.matchAll(/^\d+: (mfb(\d+)x\d+):/gm)) {
		if (!alive(Number(m[2]))) spawnSync('ip', ['link', 'del', m[1]], { stdio: 'ignore' });
	}
}

/**
 * Makes `count` hosts. As root: a bridge `mfb<pid>x<seq>` holding 10.231.<n>.1/24,
 * and per host a namespace `mafalda-<pid>-<seq>-<i>` joined by a veth pair, with
 * 10.231.<n>.<10+i>. Falls back to loopback when any step fails (not root, no
 * `ip`, no netns support), undoing what it made, or when MAFALDA_TEST_HOSTS=loopback.
 */
export function makeHosts(count: number, names: string[]): HostNetwork {
	const seq = runSeq++;
	// MAFALDA_TEST_HOSTS=loopback runs the fallback as root too (to test it).
	const namespaces = process.env.MAFALDA_TEST_HOSTS !== 'loopback' && process.getuid?.() === 0 && spawnSync('ip', ['-V']).status === 0;
	if (namespaces) {
		removeStale();
		const made: { bridge?: string; netns: string[] } = { netns: [] };
		const subnet = `10.231.${(process.pid + seq * 7) % 200 + 20}`;
		const destroy = (): void => {
			for (const ns of made.netns) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
			if (made.bridge) spawnSync('ip', ['link', 'del', made.bridge], { stdio: 'ignore' });
		};
		try {
			// Names carry the pid (for removeStale) and fit the 15 characters of an interface name.
			const bridge = `mfb${process.pid}x${seq}`;
			ip(['link', 'add', bridge, 'type', 'bridge']);
			made.bridge = bridge;
			ip(['addr', 'add', `${subnet}.1/24`, 'dev', bridge]);
			ip(['link', 'set', bridge, 'up']);
			const hosts: Host[] = [];
			for (let i = 0; i < count; i++) {
				const netns = `mafalda-${process.pid}-${seq}-${i}`;
				ip(['netns', 'add', netns]);
				made.netns.push(netns);
				// Deleting a namespace deletes its veth end, and with it the pair.
				const outer = `mfv${process.pid}x${seq}${i}`;
				const inner = `mfi${process.pid}x${seq}${i}`;
				ip(['link', 'add', outer, 'type', 'veth', 'peer', 'name', inner]);
				ip(['link', 'set', inner, 'netns', netns]);
				ip(['link', 'set', outer, 'master', bridge]);
				ip(['link', 'set', outer, 'up']);
				const address = `${subnet}.${10 + i}`;
				ip(['addr', 'add', `${address}/24`, 'dev', inner], netns);
				ip(['link', 'set', inner, 'up'], netns);
				ip(['link', 'set', 'lo', 'up'], netns);
				hosts.push({ name: names[i] ?? `host-${i}`, address, netns });
			}
			return {
				mode: 'netns',
				hosts,
				testAddress: `${subnet}.1`,
				addLatency(ms: number): (() => void) | undefined {
					const devs: Array<[string, string]> = [];
					const undo = (): void => {
						for (const [netns, dev] of devs) spawnSync('ip', ['netns', 'exec', netns, 'tc', 'qdisc', 'del', 'dev', dev, 'root'], { stdio: 'ignore' });
					};
					try {
						for (const host of hosts) {
							const dev = `mfi${process.pid}x${seq}${hosts.indexOf(host)}`;
							execFileSync('ip', ['netns', 'exec', host.netns!, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'netem', 'delay', `${ms}ms`], { stdio: 'pipe' });
							devs.push([host.netns!, dev]);
						}
						return undo;
					} catch {
						undo();
						return undefined;
					}
				},
				setLink(index: number, up: boolean): boolean {
					ip(['link', 'set', `mfv${process.pid}x${seq}${index}`, up ? 'up' : 'down']);
					return true;
				},
				partition(a: number, b: number, cut: boolean): boolean {
					for (const [from, to] of [[a, b], [b, a]]) {
						// A /32 beats the bridge's /24; routes need no netfilter, which this kernel may lack.
						const args = ['route', cut ? 'add' : 'del', 'blackhole', `${hosts[to].address}/32`];
						if (cut) ip(args, hosts[from].netns);
						else spawnSync('ip', ['netns', 'exec', hosts[from].netns!, 'ip', ...args], { stdio: 'ignore' });
					}
					return true;
				},
				destroy,
			};
		} catch {
			destroy();
		}
	}
	return {
		mode: 'loopback',
		hosts: Array.from({ length: count }, (_, i) => ({ name: names[i] ?? `host-${i}`, address: `127.0.0.${2 + i}` })),
		testAddress: '127.0.0.1',
		addLatency: () => undefined,
		setLink: () => false,
		partition: () => false,
		destroy: () => undefined,
	};
}

export interface RedisServer {
	url: string;
	port: number;
	/** `redis-cli` against this server (for assertions on keys). */
	cli(...args: string[]): string;
	/** Kills the server (SIGKILL) and starts it again, empty, on the same port after `downMs`. */
	restart(downMs: number): Promise<void>;
	/** Freezes the server (SIGSTOP) for `ms`, then lets it go on (SIGCONT): connections stay open, nothing answers. */
	freeze(ms: number): Promise<void>;
	/** Commands the server ran so far (INFO commandstats, the INFO calls themselves left out). */
	commands(): number;
	stop(): Promise<void>;
}

/** A real redis-server on a free port, bound to loopback and `alsoBind` (the bridge), with no persistence. */
export async function startRedis(alsoBind?: string): Promise<RedisServer> {
	const port = await freePort();
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mafalda-redis-'));
	const binds = ['127.0.0.1', ...(alsoBind && alsoBind !== '127.0.0.1' ? [alsoBind] : [])];
	const cli = (...args: string[]): string =>
		execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
	let child: ChildProcess;
	const launch = async (): Promise<void> => {
		child = spawn(
			'redis-server',
			['--port', String(port), '--bind', ...binds, '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'no', '--loglevel', 'warning'],
			{ stdio: ['ignore', 'pipe', 'pipe'] },
		);
		let log = '';
		child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
		child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
		const deadline = Date.now() + 10_000;
		for (;;) {
			if (child.exitCode !== null) throw new Error(`redis-server exited: ${log}`);
			try {
				if (cli('ping') === 'PONG') break;
			} catch {
				// not up yet
			}
			if (Date.now() > deadline) {
				child.kill('SIGKILL');
				throw new Error(`redis-server did not answer on port ${port}: ${log}`);
			}
			await sleep(50);
		}
	};
	const kill = async (signal: NodeJS.Signals): Promise<void> => {
		if (child.exitCode !== null || child.signalCode !== null) return;
		const exited = new Promise((resolve) => child.once('exit', resolve));
		child.kill(signal);
		await Promise.race([exited, timeLimit(3000)]);
		if (child.exitCode === null && child.signalCode === null) {
			child.kill('SIGKILL');
			await exited;
		}
	};
	await launch();
	return {
		url: `redis://${alsoBind ?? '127.0.0.1'}:${port}`,
		port,
		cli,
		async restart(downMs: number): Promise<void> {
			await kill('SIGKILL');
			await sleep(downMs);
			await launch();
		},
		commands(): number {
			let total = 0;
			for (const m of cli('info', 'commandstats').matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) if (m[1] !== 'info') total += Number(m[2]);
			return total;
		},
		async freeze(ms: number): Promise<void> {
			child.kill('SIGSTOP');
			try {
				await sleep(ms);
			} finally {
				child.kill('SIGCONT');
			}
		},
		async stop(): Promise<void> {
			child.kill('SIGCONT');
			await kill('SIGTERM');
			fs.rmSync(dir, { recursive: true, force: true });
		},
	};
}

export interface NodeProcess {
	nodeId: string;
	host: Host;
	child: ChildProcess;
	/** Lines the node printed (JSON events and errors). */
	output: string[];
	/** Resolves with the exit code once the process is gone. */
	exited: Promise<number | null>;
	stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const BIN = path.join(packageRoot(), 'bin', 'mafalda-node.js');
const UNDER_TEST_PRELOAD = path.join(packageRoot(), 'scripts', 'mediasoup-under-test-preload.js');

/** Starts `npx mafalda-node` on a host (inside its namespace) and waits for its ready line. */
export async function startNode(
	host: Host,
	options: { redisUrl: string; secret: string; keyPrefix: string; nodeId: string; workers?: number; extra?: string[] },
): Promise<NodeProcess> {
	const slotDir = fs.mkdtempSync(path.join(os.tmpdir(), `mafalda-slots-${options.nodeId}-`));
	const args = [
		// Under a test of another mediasoup (MAFALDA_TEST_MEDIASOUP), the node loads that one too.
		...(process.env.MAFALDA_TEST_MEDIASOUP ? ['-r', UNDER_TEST_PRELOAD] : []),
		BIN,
		'--redis', options.redisUrl,
		'--announced-ip', host.address,
		'--workers', String(options.workers ?? 1),
		'--node-id', options.nodeId,
		'--key-prefix', options.keyPrefix,
		'--cpu-slot-dir', slotDir,
		...(options.extra ?? []),
	];
	const env = { ...process.env, MAFALDA_CLUSTER_SECRET: options.secret };
	const child = host.netns
		? spawn('ip', ['netns', 'exec', host.netns, process.execPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
		: spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
	const output: string[] = [];
	let readyResolve!: () => void;
	const ready = new Promise<void>((resolve) => (readyResolve = resolve));
	const onData = (d: Buffer): void => {
		for (const line of d.toString().split('\n')) {
			if (!line) continue;
			output.push(line);
			if (line.includes('"event":"ready"')) readyResolve();
		}
	};
	child.stdout?.on('data', onData);
	child.stderr?.on('data', onData);
	const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
		fs.rmSync(slotDir, { recursive: true, force: true });
		resolve(code);
	}));
	const node: NodeProcess = {
		nodeId: options.nodeId,
		host,
		child,
		output,
		exited,
		async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
			if (child.exitCode === null && child.signalCode === null) child.kill(signal);
			const code = await Promise.race([exited, timeLimit(15_000).then(() => 'timeout' as const)]);
			if (code === 'timeout') {
				child.kill('SIGKILL');
				return exited;
			}
			return code;
		},
	};
	const outcome = await Promise.race([
		ready.then(() => 'ready' as const),
		exited.then(() => 'exited' as const),
		timeLimit(30_000).then(() => 'timeout' as const),
	]);
	if (outcome !== 'ready') {
		await node.stop('SIGKILL');
		throw new Error(`node ${options.nodeId} did not start (${outcome}):\n${output.join('\n')}`);
	}
	return node;
}
