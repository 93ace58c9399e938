import * as fs from 'node:fs';

/**
 * CPU time of the calling thread, ms: the first field of
 * /proc/thread-self/schedstat (ns on CPU), else user + system ticks of
 * /proc/thread-self/stat. Node 20 has no per-thread cpuUsage(), and the
 * process' figure mixes the simulator's threads with the SFU's (mafalda's
 * threads, mediasoup's Node side). Undefined off Linux.
 */
export function threadCpuMs(): number | undefined {
	try {
		const ns = Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
		if (Number.isFinite(ns)) return ns / 1e6;
	} catch {
		// No schedstat: fall back to ticks.
	}
	try {
		const stat = fs.readFileSync('/proc/thread-self/stat', 'utf8');
		// Fields after the command name (which may hold spaces), 14th and 15th overall: utime, stime in ticks.
		const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		return ((Number(rest[11]) + Number(rest[12])) * 1000) / 100;
	} catch {
		return undefined;
	}
}
