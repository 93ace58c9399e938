import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CpuSlotHolder } from '../../lib/errors';

/** Slots held by this process in each slot folder, over all its CpuSlots (for maxHeld). */
const heldByProcess = new Map<string, number>();

/**
 * One lock file per CPU of the machine, shared by every process that uses
 * mafalda, so that all of them together never run more mediasoup Workers than
 * there are CPUs. A lock names its owner's pid and, once started, the pid of
 * the mediasoup-worker it holds the slot for; a lock whose process and worker
 * are both gone is stale and taken over, which is how a process that died
 * releases its slots. (The worker of a killed process outlives it for a
 * moment: until it is gone, its CPU is still taken.)
 */
export class CpuSlots {
	readonly #held = new Set<number>();

	constructor(
		readonly dir: string = defaultSlotDir(),
		readonly count: number = os.availableParallelism(),
		/** Slots this process may hold in `dir` at most, all its CpuSlots together (its share of the machine). */
		readonly maxHeld?: number,
	) {}

	/** Takes a free slot and returns its number, or undefined when all are taken (or this process's share is). */
	acquire(): number | undefined {
		if (this.shareUsedUp()) return undefined;
		fs.mkdirSync(this.dir, { recursive: true });
		for (let slot = 0; slot < this.count; slot++) {
			if (this.#held.has(slot)) continue;
			if (this.#tryLock(slot)) {
				this.#held.add(slot);
				this.#countInProcess(+1);
				return slot;
			}
		}
		return undefined;
	}

	/** Whether this process already holds `maxHeld` slots. */
	shareUsedUp(): boolean {
		return this.maxHeld !== undefined && (heldByProcess.get(path.resolve(this.dir)) ?? 0) >= this.maxHeld;
	}

	/** Who holds each taken slot: pid, command line (from /proc, where readable) and mediasoup-worker. */
	holders(): CpuSlotHolder[] {
		const holders: CpuSlotHolder[] = [];
		for (let slot = 0; slot < this.count; slot++) {
			let lock: ReturnType<typeof readLock>;
			try {
				lock = readLock(this.#file(slot));
			} catch {
				continue;
			}
			if (!lock.exists) continue;
			const command = lock.pid === undefined ? undefined : commandLine(lock.pid);
			holders.push({
				slot,
				pid: lock.pid,
				...(command ? { command } : {}),
				...(lock.workerPid !== undefined ? { workerPid: lock.workerPid } : {}),
			});
		}
		return holders;
	}

	#countInProcess(delta: number): void {
		const key = path.resolve(this.dir);
		const held = (heldByProcess.get(key) ?? 0) + delta;
		if (held > 0) heldByProcess.set(key, held);
		else heldByProcess.delete(key);
	}

	/** Records the mediasoup-worker that runs in a held slot (see the class comment). */
	setWorkerPid(slot: number, workerPid: number): void {
		if (!this.#held.has(slot)) return;
		const file = this.#file(slot);
		if (readOwner(file) !== process.pid) return;
		// Written aside and renamed over, so a reader never sees a half-written lock.
		const tmp = `${file}.${process.pid}.worker.tmp`;
		fs.writeFileSync(tmp, `${process.pid} ${workerPid}`);
		fs.renameSync(tmp, file);
	}

	release(slot: number): void {
		if (!this.#held.delete(slot)) return;
		this.#countInProcess(-1);
		try {
			if (readOwner(this.#file(slot)) === process.pid) fs.unlinkSync(this.#file(slot));
		} catch {
			// Already gone: nothing to release.
		}
	}

	releaseAll(): void {
		for (const slot of [...this.#held]) this.release(slot);
	}

	get held(): number {
		return this.#held.size;
	}

	#file(slot: number): string {
		return path.join(this.dir, `cpu-${slot}.lock`);
	}

	#tryLock(slot: number): boolean {
		const file = this.#file(slot);
		if (createLock(file)) return true;
		let lock = readLock(file);
		// Released between our attempt and the read: one more attempt.
		if (!lock.exists) {
			if (createLock(file)) return true;
			lock = readLock(file);
			if (!lock.exists) return false;
		}
		const owner = lock.pid;
		if (owner !== undefined && (owner === process.pid || isAlive(owner))) return false;
		if (lock.workerPid !== undefined && isAlive(lock.workerPid)) return false;
		// Stale: its process is gone. Removing the stale file and creating ours
		// are two steps, so two processes doing it at once could each remove the
		// other's fresh lock and both hold the slot. Only the holder of the
		// slot's takeover guard may do it; the others try another slot.
		const guard = `${file}.takeover`;
		if (!createLock(guard)) {
			const guardLock = readLock(guard);
			// A process that died while taking over leaves its guard behind:
			// clear it, and a later acquire takes the slot over. (Two processes
			// clearing the same dead guard at once is the one race left, and it
			// needs a process to die in the middle of a takeover.)
			if (guardLock.exists && guardLock.pid !== undefined && guardLock.pid !== process.pid && !isAlive(guardLock.pid)) {
				removeQuietly(guard);
			}
			return false;
		}
		try {
			// Only replace the lock we judged stale, not one a live process made meanwhile.
			const current = readLock(file);
			if (current.exists && current.pid !== owner) return false;
			removeQuietly(file);
			return createLock(file);
		} finally {
			removeQuietly(guard);
		}
	}
}

/**
 * Creates a lock file holding our pid, atomically: the file appears with its
 * content already written (a hard link of a finished temporary file). With a
 * plain exclusive create, another process could read the file between its
 * creation and the write, find no owner in it, judge it stale and take the
 * slot too.
 */
function createLock(file: string): boolean {
	const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
	fs.writeFileSync(tmp, String(process.pid));
	try {
		fs.linkSync(tmp, file);
		return true;
	} catch (error) {
		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'EEXIST') return false;
		// A file system without hard links: fall back to an exclusive create.
		if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') return createExclusive(file);
		throw error;
	} finally {
		removeQuietly(tmp);
	}
}

function createExclusive(file: string): boolean {
	try {
		fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
		return true;
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
		throw error;
	}
}

function removeQuietly(file: string): void {
	try {
		fs.unlinkSync(file);
	} catch {
		// Already gone.
	}
}

/** A lock file's owner; `pid` is undefined when the file holds no valid pid. */
function readLock(file: string): { exists: false } | { exists: true; pid: number | undefined; workerPid?: number } {
	let text: string;
	try {
		text = fs.readFileSync(file, 'utf8');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { exists: false };
		throw error;
	}
	const [pid, workerPid] = text.trim().split(/\s+/).map((t) => Number.parseInt(t, 10));
	const valid = (n: number | undefined): n is number => n !== undefined && Number.isFinite(n) && n > 0;
	return { exists: true, pid: valid(pid) ? pid : undefined, ...(valid(workerPid) ? { workerPid } : {}) };
}

export function defaultSlotDir(): string {
	return process.env.MAFALDA_CPU_SLOT_DIR || path.join(os.tmpdir(), 'mafalda-cpu-slots');
}

/** A process's command line as /proc shows it (arguments joined by spaces), cut to a readable length. */
function commandLine(pid: number): string | undefined {
	try {
		const text = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
		return text.length > 200 ? `${text.slice(0, 200)}...` : text || undefined;
	} catch {
		return undefined;
	}
}

function readOwner(file: string): number | undefined {
	try {
		const pid = Number.parseInt(fs.readFileSync(file, 'utf8'), 10);
		return Number.isFinite(pid) ? pid : undefined;
	} catch {
		return undefined;
	}
}

function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}
