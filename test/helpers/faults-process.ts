// Process-level probes for the fault tests: which mediasoup-worker processes
// run, whether a pid is alive, how many sockets a process holds. They read
// /proc (Linux), which is where the tests run and what mediasoup targets.
import * as fs from 'node:fs';

export function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True while the pid exists and is not a zombie (a zombie is dead but not yet reaped). */
export function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
	return procState(pid) !== 'Z';
}

function procState(pid: number): string | undefined {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		// The command name sits in parentheses and may contain spaces: the state follows the last ')'.
		return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
	} catch {
		return undefined;
	}
}

function parentOf(pid: number): number | undefined {
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
	} catch {
		return undefined;
	}
}

/** Live (non-zombie) mediasoup-worker processes, optionally only the children of the given parents. */
export function mediasoupWorkerPids(parents?: readonly number[]): number[] {
	const pids: number[] = [];
	for (const name of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(name)) continue;
		const pid = Number(name);
		let comm: string;
		try {
			comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
		} catch {
			continue;
		}
		// comm is cut to 15 characters: "mediasoup-worke".
		if (!comm.startsWith('mediasoup-work')) continue;
		if (procState(pid) === 'Z') continue;
		if (parents && !parents.includes(parentOf(pid) ?? -1)) continue;
		pids.push(pid);
	}
	return pids;
}

/** Number of sockets (UDP, TCP, unix) a process holds open. */
export function socketCount(pid: number): number {
	let n = 0;
	for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
		try {
			if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
		} catch {
			// The fd closed while we looked.
		}
	}
	return n;
}

/** Local ports of the UDP sockets (IPv4 and IPv6) a process holds. */
export function udpPortsOf(pid: number): Set<number> {
	const inodes = new Set<string>();
	for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
		try {
			const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
			if (m) inodes.add(m[1]);
		} catch {
			// closed meanwhile
		}
	}
	const ports = new Set<number>();
	for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
		let text: string;
		try {
			text = fs.readFileSync(table, 'utf8');
		} catch {
			continue;
		}
		for (const line of text.split('\n').slice(1)) {
			const cols = line.trim().split(/\s+/);
			if (cols.length < 10) continue;
			if (inodes.has(cols[9])) ports.add(Number.parseInt(cols[1].split(':')[1], 16));
		}
	}
	return ports;
}

/** Polls until `check` returns a truthy value, or fails with `what` after the timeout. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 5000, stepMs = 10): Promise<NonNullable<T>> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value) return value as NonNullable<T>;
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await sleep(stepMs);
	}
}

interface Emitterish {
	once(event: string, listener: (arg: never) => void): unknown;
	off(event: string, listener: (arg: never) => void): unknown;
}

/** Resolves with the first argument of the next `event` (optionally matching `filter`). */
export function nextEvent<T>(source: object, event: string, timeoutMs = 5000, filter?: (arg: T) => boolean): Promise<T> {
	// Mafalda's emitters are typed per event; listening by name needs the untyped view.
	const emitter = source as Emitterish;
	const promise = new Promise<T>((resolve, reject) => {
		const listener = (arg: T): void => {
			if (filter && !filter(arg)) {
				emitter.once(event, listener as (arg: never) => void);
				return;
			}
			clearTimeout(timer);
			resolve(arg);
		};
		const timer = setTimeout(() => {
			emitter.off(event, listener as (arg: never) => void);
			reject(new Error(`no "${event}" event within ${timeoutMs} ms`));
		}, timeoutMs);
		// Nor keep jest alive after it.
		timer.unref();
		emitter.once(event, listener as (arg: never) => void);
	});
	// A test that fails before awaiting this must not leave an unhandled rejection behind.
	promise.catch(() => undefined);
	return promise;
}
