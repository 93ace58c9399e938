import * as dgram from 'node:dgram';

/** A UDP socket that takes whatever mediasoup sends (RTCP, probation) to transports no simulator listens behind. */
export async function bindSink(): Promise<{ port: number; close: () => Promise<void> }> {
	const socket = dgram.createSocket('udp4');
	socket.on('message', () => undefined);
	await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
	return { port: socket.address().port, close: () => new Promise<void>((r) => socket.close(() => r())) };
}

/** Runs `task(i)` for i in [0, count), `concurrency` at a time, in order of i. */
export async function inLanes(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
	let next = 0;
	const lane = async (): Promise<void> => {
		while (next < count) await task(next++);
	};
	await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, lane));
}

export function median(values: number[]): number {
	return quantile(values, 0.5);
}

export function quantile(values: number[], q: number): number {
	if (values.length === 0) return Number.NaN;
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export function ratio(value: number, baseline: number): number | undefined {
	return baseline > 0 && Number.isFinite(value) ? value / baseline : undefined;
}
