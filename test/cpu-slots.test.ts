// No oversubscription across processes: the CPU slot locks let all processes
// that use mafalda together run at most one mediasoup Worker per CPU, and a
// process that dies gives its slots back.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { CpuSlots } from '../actors/supervisor/cpu-slots';
import { isAlive, mediasoupWorkerPids, waitFor } from './helpers/faults-process';

const CPUS = os.availableParallelism();
let dir: string;

beforeEach(() => {
	dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mafalda-slots-test-'));
});

afterEach(() => {
	fs.rmSync(dir, { recursive: true, force: true });
});

const locks = (): string[] => fs.readdirSync(dir).filter((f) => /^cpu-\d+\.lock$/.test(f));

/** The pid of a process that has exited (and been reaped). */
async function deadPid(): Promise<number> {
	const child = spawn(process.execPath, ['-e', '']);
	await new Promise((resolve) => child.once('exit', resolve));
	expect(isAlive(child.pid as number)).toBe(false);
	return child.pid as number;
}

describe('CpuSlots', () => {
	test('gives out each slot once, including to a second instance in the same process, and takes releases back', () => {
		const a = new CpuSlots(dir, 3);
		const b = new CpuSlots(dir, 3);
		expect([a.acquire(), a.acquire()]).toEqual([0, 1]);
		expect(b.acquire()).toBe(2);
		expect(a.acquire()).toBeUndefined();
		expect(b.acquire()).toBeUndefined();
		expect(locks().sort()).toEqual(['cpu-0.lock', 'cpu-1.lock', 'cpu-2.lock']);
		expect(fs.readFileSync(path.join(dir, 'cpu-1.lock'), 'utf8')).toBe(String(process.pid));
		// Releasing a slot one does not hold changes nothing.
		b.release(0);
		expect(locks()).toHaveLength(3);
		a.release(1);
		expect(b.acquire()).toBe(1);
		a.releaseAll();
		b.releaseAll();
		expect(locks()).toEqual([]);
		expect(a.held + b.held).toBe(0);
		// Nothing but lock files is left behind (no temporary files, no takeover guards).
		expect(fs.readdirSync(dir)).toEqual([]);
	});

	test('a lock of a dead process, or holding no pid, is taken over; a live process keeps its lock', async () => {
		const dead = await deadPid();
		fs.writeFileSync(path.join(dir, 'cpu-0.lock'), String(process.ppid)); // alive: jest's parent
		fs.writeFileSync(path.join(dir, 'cpu-1.lock'), String(dead));
		fs.writeFileSync(path.join(dir, 'cpu-2.lock'), 'not a pid');
		const slots = new CpuSlots(dir, 3);
		expect(slots.acquire()).toBe(1);
		expect(slots.acquire()).toBe(2);
		expect(slots.acquire()).toBeUndefined();
		expect(fs.readFileSync(path.join(dir, 'cpu-0.lock'), 'utf8')).toBe(String(process.ppid));
		expect(fs.readFileSync(path.join(dir, 'cpu-1.lock'), 'utf8')).toBe(String(process.pid));
		slots.releaseAll();
	});

	test('a takeover guard left by a process that died mid-takeover delays the slot by one attempt only', async () => {
		const dead = await deadPid();
		fs.writeFileSync(path.join(dir, 'cpu-0.lock'), String(dead));
		fs.writeFileSync(path.join(dir, 'cpu-0.lock.takeover'), String(dead));
		const slots = new CpuSlots(dir, 1);
		expect(slots.acquire()).toBeUndefined();
		expect(slots.acquire()).toBe(0);
		expect(fs.readdirSync(dir)).toEqual(['cpu-0.lock']);
		slots.releaseAll();
	});

	test('processes racing for the same stale slots never hold more slots than there are', async () => {
		const script = path.join(__dirname, 'fixtures', 'faults-slot-race-child.js');
		const racers = 4;
		const count = 2;
		for (let round = 0; round < 3; round++) {
			// Round 0 races on free slots; later rounds on the stale locks of the round before.
			const children = Array.from({ length: racers }, () => spawn(process.execPath, [script, dir, String(count)]));
			const outputs = children.map((child) => {
				const lines: string[] = [];
				readline.createInterface({ input: child.stdout }).on('line', (line) => lines.push(line));
				return lines;
			});
			const exited = children.map((child) => new Promise((resolve) => child.once('exit', resolve)));
			try {
				await waitFor(() => outputs.every((lines) => lines.includes('ready')), 'every racer to load', 10_000);
				// All race at the same instant, and all hold what they got until every one has tried.
				const startAt = Date.now() + 100;
				for (const child of children) child.stdin.write(`${startAt}\n`);
				await waitFor(() => outputs.every((lines) => lines.length === 2), 'every racer to try', 10_000);
			} finally {
				for (const child of children) child.stdin.end();
			}
			await Promise.all(exited);
			const held = outputs.map((lines) => (JSON.parse(lines[1]) as { slot: number }).slot).filter((slot) => slot >= 0).sort();
			expect(held).toEqual([0, 1]);
		}
	});
});

/** A child process running mafalda (test/fixtures/faults-slot-child.js), driven by stdin. */
class MafaldaProcess {
	readonly lines: Array<Record<string, unknown>> = [];
	readonly exited: Promise<number | null>;
	readonly #child: ChildProcessWithoutNullStreams;

	constructor(slotDir: string) {
		this.#child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'faults-slot-child.js'), slotDir, String(CPUS)], {
			env: { ...process.env },
		});
		readline.createInterface({ input: this.#child.stdout }).on('line', (line) => this.lines.push(JSON.parse(line) as Record<string, unknown>));
		this.#child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
		this.exited = new Promise((resolve) => this.#child.once('exit', (code) => resolve(code)));
	}

	get pid(): number {
		return this.#child.pid as number;
	}

	/** Sends a command and waits for its report. */
	async command(command: 'transport' | 'close'): Promise<Record<string, unknown>> {
		const seen = this.lines.length;
		if (command === 'close') this.#child.stdin.end('close\n');
		else this.#child.stdin.write(`${command}\n`);
		return waitFor(() => this.lines.slice(seen).find((l) => l.done === command || l.error !== undefined), `"${command}" in process ${this.pid}`, 10_000);
	}

	kill(): void {
		this.#child.kill('SIGKILL');
	}
}

test('two processes using mafalda at once never run more mediasoup Workers than CPUs; a killed one frees its slots', async () => {
	const a = new MafaldaProcess(dir);
	const b = new MafaldaProcess(dir);
	// Every mediasoup-worker either process ever started, counted while alive even if orphaned.
	const known = new Set<number>();
	let maxWorkers = 0;
	let maxLocks = 0;
	const monitor = setInterval(() => {
		for (const pid of mediasoupWorkerPids([a.pid, b.pid])) known.add(pid);
		maxWorkers = Math.max(maxWorkers, [...known].filter(isAlive).length);
		maxLocks = Math.max(maxLocks, locks().length);
	}, 5);
	try {
		await waitFor(() => a.lines.length > 0 && b.lines.length > 0, 'both processes to start', 10_000);
		// A takes a first worker, then B; then both ask for more, at once, until
		// each has asked for more workers than the machine has CPUs.
		expect(await a.command('transport')).toMatchObject({ workers: [expect.any(Number)] });
		expect(await b.command('transport')).toMatchObject({ workers: [expect.any(Number)] });
		const asks = await Promise.all(Array.from({ length: 2 * CPUS }, (_, i) => (i % 2 ? b : a).command('transport')));
		// Placement still succeeds, on the process's own (overloaded) workers.
		expect(asks.every((r) => r.error === undefined)).toBe(true);
		const [aWorkers, bWorkers] = [a, b].map((p) => (p.lines.at(-1)?.workers as number[]).length);
		expect(aWorkers).toBeGreaterThanOrEqual(1);
		expect(bWorkers).toBeGreaterThanOrEqual(1);
		expect(aWorkers + bWorkers).toBe(CPUS);
		expect(locks()).toHaveLength(CPUS);

		// A dies without releasing anything: its locks are stale, and B may grow into them.
		a.kill();
		await a.exited;
		const grown = await waitFor(async () => {
			const r = await b.command('transport');
			return (r.workers as number[]).length === CPUS ? r : undefined;
		}, 'process B to grow into the dead process\'s slots', 10_000);
		expect(grown.workers).toHaveLength(CPUS);

		// B closes and exits on its own, giving every slot back.
		expect(await b.command('close')).toMatchObject({ done: 'close' });
		expect(await b.exited).toBe(0);
		expect(locks()).toEqual([]);
		await waitFor(() => [...known].every((pid) => !isAlive(pid)), 'every mediasoup worker to be gone', 5000);
	} finally {
		clearInterval(monitor);
		a.kill();
		b.kill();
	}
	// A's, B's first ones, and at least one more B started after A died.
	expect(known.size).toBeGreaterThan(CPUS);
	expect(maxWorkers).toBeLessThanOrEqual(CPUS);
	expect(maxLocks).toBeLessThanOrEqual(CPUS);
});
