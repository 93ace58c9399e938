import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mediasoupPackageDir } from '../../lib/mediasoup-compat';
import { packageRoot } from '../../lib/package-root';

export interface MachineInfo {
	cpuModel: string;
	cores: number;
	totalMemoryGiB: number;
	os: string;
	node: string;
	mediasoup: string;
	mafalda: string;
	date: string;
}

function versionOf(packageJson: string): string {
	return (JSON.parse(fs.readFileSync(packageJson, 'utf8')) as { version: string }).version;
}

export function machineInfo(): MachineInfo {
	return {
		cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
		cores: os.availableParallelism(),
		totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
		os: `${os.type()} ${os.release()} ${os.arch()}`,
		node: process.version,
		mediasoup: versionOf(path.join(mediasoupPackageDir(), 'package.json')),
		mafalda: versionOf(path.join(packageRoot(), 'package.json')),
		date: new Date().toISOString(),
	};
}

export function machineLine(m: MachineInfo): string {
	return `${m.cpuModel}, ${m.cores} cores, ${m.totalMemoryGiB} GiB, ${m.os}, Node ${m.node}, mediasoup ${m.mediasoup}, mafalda ${m.mafalda}`;
}

/**
 * The caveat every run prints: the simulator (senders, receivers) and the
 * SFU under test share this machine's CPUs, so on a small machine the
 * simulator's own cost is part of what limits the figures.
 */
export function sharedCpuWarning(m: MachineInfo): string {
	return (
		`Note: the simulator's sender and receiver threads run on the same ${m.cores} cores as the mediasoup workers; ` +
		'their CPU is part of what limits these figures (see "machine busy" and bench/README.md).'
	);
}

/** Whole-machine CPU counters from /proc/stat (Linux); undefined elsewhere. */
export function machineCpuTicks(): { busy: number; total: number } | undefined {
	try {
		const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
		const fields = line.trim().split(/\s+/).slice(1).map(Number);
		// user nice system idle iowait irq softirq steal: idle + iowait are not busy.
		const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
		const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
		return { busy: total - idle, total };
	} catch {
		return undefined;
	}
}

/** Resident memory of a process in bytes, from /proc (Linux); undefined elsewhere. */
export function processRssBytes(pid: number): number | undefined {
	try {
		const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
		const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
		return match ? Number(match[1]) * 1024 : undefined;
	} catch {
		return undefined;
	}
}

/**
 * How busy the machine is before a run, % of all cores over `ms`: other
 * processes (a test suite, a compiler) take CPU from the run and lower its
 * figures, so runs record and print it.
 */
export async function backgroundBusyPct(ms = 1000): Promise<number | undefined> {
	const a = machineCpuTicks();
	await new Promise((r) => setTimeout(r, ms));
	const b = machineCpuTicks();
	if (!a || !b || b.total === a.total) return undefined;
	return (100 * (b.busy - a.busy)) / (b.total - a.total);
}
