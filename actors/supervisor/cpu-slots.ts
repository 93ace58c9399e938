import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * One lock file per CPU of the machine, shared by every process that uses
 * mafalda, so that all of them together never run more mediasoup Workers than
 * there are CPUs. A lock names its owner's pid; a lock whose process is gone is
 * stale and taken over, which is how a process that died releases its slots.
 */
export class CpuSlots {
	readonly #held = new Set<number>();

	constructor(
		readonly dir: string = defaultSlotDir(),
		readonly count: number = os.availableParallelism(),
	) {}

	/** Takes a free slot and returns its number, or undefined when all are taken. */
	acquire(): number | undefined {
		fs.mkdirSync(this.dir, { recursive: true });
		for (let slot = 0; slot < this.count; slot++) {
			if (this.#held.has(slot)) continue;
			if (this.#tryLock(slot)) {
				this.#held.add(slot);
				return slot;
			}
		}
		return undefined;
	}

	release(slot: number): void {
		if (!this.#held.delete(slot)) return;
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
		for (let attempt = 0; attempt < 2; attempt++) {
			try {
				fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
				return true;
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
			}
			const owner = readOwner(file);
			if (owner !== undefined && (owner === process.pid || isAlive(owner))) return false;
			// Stale: its process is gone. Remove and try once more; if another
			// process wins that race, the 'wx' write above fails for us.
			try {
				fs.unlinkSync(file);
			} catch {
				return false;
			}
		}
		return false;
	}
}

export function defaultSlotDir(): string {
	return process.env.MAFALDA_CPU_SLOT_DIR || path.join(os.tmpdir(), 'mafalda-cpu-slots');
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
