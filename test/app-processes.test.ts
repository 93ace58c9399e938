// Two app processes using mafalda on one machine. The one-Worker-per-CPU rule
// holds across them, and it shows: a second process that finds every CPU slot
// taken fails at start-up (`await mafalda.ready()`), with an error naming the
// processes that hold the slots; `maxCpuSlots` lets each take a share.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import * as mediasoup from 'mediasoup';
import { InvalidArgumentError, Mafalda, NoCpuSlotError } from '../lib';
import { isAlive, mediasoupWorkerPids, waitFor } from './helpers/faults-process';

const CPUS = os.availableParallelism();
let dir: string;
let mafalda: Mafalda | undefined;
let child: AppProcess | undefined;

beforeEach(() => {
	dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mafalda-app-slots-'));
});

afterEach(async () => {
	child?.kill();
	await child?.exited;
	await mafalda?.close();
	child = mafalda = undefined;
	fs.rmSync(dir, { recursive: true, force: true });
});

/** Lock files of the shared slot folder, by slot, with the pid each names. */
function lockOwners(): number[] {
	return fs
		.readdirSync(dir)
		.filter((f) => /^cpu-\d+\.lock$/.test(f))
		.map((f) => Number.parseInt(fs.readFileSync(path.join(dir, f), 'utf8'), 10));
}

/** A second app process (test/fixtures/app-process-child.js) started with these Mafalda options. */
class AppProcess {
	readonly lines: Array<Record<string, unknown>> = [];
	readonly exited: Promise<number | null>;
	readonly #child: ChildProcessWithoutNullStreams;

	constructor(options: Record<string, unknown>) {
		this.#child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'app-process-child.js'), JSON.stringify(options)]);
		readline.createInterface({ input: this.#child.stdout }).on('line', (line) => this.lines.push(JSON.parse(line) as Record<string, unknown>));
		this.#child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
		this.exited = new Promise((resolve) => {
			if (this.#child.exitCode !== null) resolve(this.#child.exitCode);
			else this.#child.once('exit', (code) => resolve(code));
		});
	}

	get pid(): number {
		return this.#child.pid as number;
	}

	/** Its first report: started (`ready`) or why not (`error`). */
	started(): Promise<Record<string, unknown>> {
		return waitFor(() => this.lines[0], `process ${this.pid} to report its start`, 20_000);
	}

	async close(): Promise<number | null> {
		this.#child.stdin.end('close\n');
		return this.exited;
	}

	kill(): void {
		if (this.#child.exitCode === null) this.#child.kill('SIGKILL');
	}
}

test('a second process finds every CPU slot held: its ready() fails at start-up naming the holder, and it leaves nothing running', async () => {
	// The first app holds the whole machine.
	mafalda = new Mafalda(mediasoup, { cpuSlotDir: dir, prestartWorkers: CPUS });
	await mafalda.ready();
	const ownWorkerPids = [...mafalda.workers.values()].map((w) => w.pid);
	expect(ownWorkerPids).toHaveLength(CPUS);
	expect(lockOwners()).toEqual(Array(CPUS).fill(process.pid));

	child = new AppProcess({ cpuSlotDir: dir });
	const report = await child.started();
	expect(await child.exited).toBe(1);
	expect(report).toMatchObject({ name: 'NoCpuSlotError', code: 'ERR_MAFALDA_NO_CPU_SLOT' });
	// The error names who holds each slot: this process, its command line, and the mediasoup-worker it runs there.
	const holders = report.holders as Array<{ slot: number; pid: number; command?: string; workerPid?: number }>;
	expect(holders.map((h) => h.pid)).toEqual(Array(CPUS).fill(process.pid));
	expect(holders.map((h) => h.workerPid).sort()).toEqual([...ownWorkerPids].sort());
	expect(holders.every((h) => h.command?.includes('node'))).toBe(true);
	expect(report.error).toContain(`pid ${process.pid}`);
	expect(report.error).toContain(`mediasoup-worker ${ownWorkerPids[0]}`);
	expect(report.error).toContain(dir);
	// The failed process started no worker, and the first keeps all of its own.
	expect(mediasoupWorkerPids([child.pid])).toEqual([]);
	expect(lockOwners()).toEqual(Array(CPUS).fill(process.pid));
	expect(ownWorkerPids.every(isAlive)).toBe(true);

	// Within one process too: another instance's ready() says the slots are this process's own.
	const second = new Mafalda(mediasoup, { cpuSlotDir: dir });
	try {
		const attempt = second.ready();
		await expect(attempt).rejects.toBeInstanceOf(NoCpuSlotError);
		await expect(attempt).rejects.toMatchObject({ message: expect.stringContaining(`pid ${process.pid} (this process)`), slotDir: dir });
		// And its first room fails the same way, not later and not differently.
		await expect(second.createMafaldaRouter()).rejects.toBeInstanceOf(NoCpuSlotError);
	} finally {
		await second.close();
	}
}, 60_000);

(CPUS >= 2 ? test : test.skip)('with maxCpuSlots, two processes share the machine: each starts, serves, and never takes more than its share', async () => {
	const share = CPUS - 1;
	mafalda = new Mafalda(mediasoup, { cpuSlotDir: dir, maxCpuSlots: share });
	await mafalda.ready();
	const overloaded = jest.fn();
	mafalda.on('overloaded', overloaded);
	// One unit per worker and more transports than CPUs: this process grows to its share, then stops.
	const router = await mafalda.createMafaldaRouter({ maxConsumersPerWorker: 1 });
	for (let i = 0; i <= CPUS; i++) await router.createDirectTransport();
	expect(mafalda.workers.size).toBe(share);
	expect(overloaded).toHaveBeenCalled();
	expect(lockOwners()).toEqual(Array(share).fill(process.pid));

	// The other process asks for the rest and gets it at start-up.
	child = new AppProcess({ cpuSlotDir: dir, maxCpuSlots: CPUS - share, prestartWorkers: CPUS - share });
	const report = await child.started();
	expect(report).toMatchObject({ ready: true, workers: [expect.any(Number)], port: expect.any(Number) });
	expect(mediasoupWorkerPids([child.pid])).toEqual(report.workers);
	expect(lockOwners().sort()).toEqual([...Array(share).fill(process.pid), child.pid].sort());

	// A third instance here is past this process's share, and says so.
	const third = new Mafalda(mediasoup, { cpuSlotDir: dir });
	try {
		await expect(third.ready()).rejects.toMatchObject({ code: 'ERR_MAFALDA_NO_CPU_SLOT' });
	} finally {
		await third.close();
	}
	const overShare = new Mafalda(mediasoup, { cpuSlotDir: dir, maxCpuSlots: share });
	try {
		await expect(overShare.ready()).rejects.toMatchObject({ maxCpuSlots: share, message: expect.stringContaining(`maxCpuSlots (${share})`) });
	} finally {
		await overShare.close();
	}

	expect(await child.close()).toBe(0);
	expect(child.lines.at(-1)).toMatchObject({ closed: true });
	expect(lockOwners()).toEqual(Array(share).fill(process.pid));
}, 60_000);

test('a prestart no share or numWorkers can give is refused when Mafalda is made, naming the field', () => {
	for (const options of [
		{ maxCpuSlots: 1, prestartWorkers: 2 },
		{ numWorkers: 1, prestartWorkers: 2 },
		{ prestartWorkers: -1 },
		{ prestartWorkers: 1.5 },
		{ prestartWorkers: 'all' },
	]) {
		expect(() => new Mafalda(mediasoup, { cpuSlotDir: dir, ...options })).toThrow(expect.objectContaining({ field: 'options.prestartWorkers' }));
	}
	for (const maxCpuSlots of [0, -1, 1.5, 'x']) {
		expect(() => new Mafalda(mediasoup, { cpuSlotDir: dir, maxCpuSlots })).toThrow(InvalidArgumentError);
	}
	// Nothing was started by any of them.
	expect(lockOwners()).toEqual([]);
});
