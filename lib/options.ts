import * as os from 'node:os';
import type { RestartPolicy } from '../actors/supervisor/supervisor';
import { InvalidArgumentError } from './errors';
import type { AppData, MafaldaOptions, MafaldaRouterOptions, WebRtcServerOptions } from './types';
import { checkListenInfo, optionalArray, optionalBoolean, optionalNumber, optionalObject, optionalString, requireNumber } from './validate';
import { randomUUID } from 'node:crypto';

/** Defaults of `createMafaldaRouter()`, as Mafalda documents them. */
export const mafaldaRouterDefaultOptions = Object.freeze({
	maxWorkers: os.availableParallelism(),
	watermarkWorker: 60,
	maxConsumersPerWorker: 500,
});

export interface ResolvedMafaldaOptions {
	numWorkers: number;
	loadReportIntervalMs: number;
	pipeListenIp: string;
	pipeEnableSrtp: boolean;
	cpuSlotDir: string | undefined;
	cpuSlotCount: number;
	mediasoupEntry: string | undefined;
	restart: RestartPolicy;
	/** CPU slots this process may hold at most (all its Mafalda instances on the same slot folder). */
	maxCpuSlots: number | undefined;
	/** Workers started at construction; ready() waits for them. */
	prestartWorkers: number;
	/** WorkerSettings of workers not started for a router (prestarted ones, the first one of a WebRtcServer). */
	workerSettings: Record<string, unknown>;
}

export function resolveMafaldaOptions(input: unknown, cluster = false): ResolvedMafaldaOptions {
	const o = (optionalObject(input, 'options') ?? {}) as MafaldaOptions;
	const cpus = os.availableParallelism();
	// A cluster controller may run no workers of its own (its nodes run them).
	const numWorkers = optionalNumber(o.numWorkers, 'options.numWorkers', cluster ? 0 : 1, 1024, true) ?? cpus;
	const maxCpuSlots = optionalNumber(o.maxCpuSlots, 'options.maxCpuSlots', 1, 1024, true);
	// A prestart the limits cannot give is a misconfiguration: said now, not as a start-up failure later.
	const prestartLimit = Math.min(numWorkers, maxCpuSlots ?? numWorkers);
	const prestartWorkers = optionalNumber(o.prestartWorkers, 'options.prestartWorkers', 0, prestartLimit, true) ?? 0;
	const { appData: _workerAppData, ...workerSettings } = optionalObject(o.workerSettings, 'options.workerSettings') ?? {};
	return {
		numWorkers,
		maxCpuSlots,
		prestartWorkers,
		workerSettings,
		loadReportIntervalMs: optionalNumber(o.loadReportIntervalMs, 'options.loadReportIntervalMs', 10, 3_600_000) ?? 1000,
		pipeListenIp: optionalString(o.pipeListenIp, 'options.pipeListenIp') ?? '127.0.0.1',
		pipeEnableSrtp: optionalBoolean(o.pipeEnableSrtp, 'options.pipeEnableSrtp') ?? false,
		cpuSlotDir: optionalString(o.cpuSlotDir, 'options.cpuSlotDir'),
		cpuSlotCount: optionalNumber(o.cpuSlotCount, 'options.cpuSlotCount', 1, 1024, true) ?? cpus,
		mediasoupEntry: optionalString(o.mediasoupEntry, 'options.mediasoupEntry'),
		restart: {
			maxRestarts: optionalNumber(o.maxRestarts, 'options.maxRestarts', 0, 1_000_000, true) ?? 5,
			windowMs: optionalNumber(o.restartWindowMs, 'options.restartWindowMs', 0, 86_400_000) ?? 60_000,
			baseDelayMs: optionalNumber(o.restartDelayMs, 'options.restartDelayMs', 0, 3_600_000) ?? 100,
			maxDelayMs: optionalNumber(o.maxRestartDelayMs, 'options.maxRestartDelayMs', 0, 3_600_000) ?? 5000,
		},
	};
}

export interface ResolvedRouterOptions {
	id: string;
	maxWorkers: number;
	routerOptions: Record<string, unknown>;
	workerSettings: Record<string, unknown>;
	watermarkWorker: number;
	maxConsumersPerWorker: number;
	appData: AppData;
}

/** `cluster`: the router belongs to a cluster controller, whose own CPU count says nothing of its nodes' workers. */
export function resolveRouterOptions(input: unknown, cluster = false): ResolvedRouterOptions {
	const o = (optionalObject(input, 'options') ?? {}) as MafaldaRouterOptions;
	const routerOptions = optionalObject(o.routerOptions, 'options.routerOptions') ?? {};
	if (routerOptions.mediaCodecs !== undefined && !Array.isArray(routerOptions.mediaCodecs)) {
		throw new InvalidArgumentError('options.routerOptions.mediaCodecs', 'must be an array');
	}
	const workerSettings = optionalObject(o.workerSettings, 'options.workerSettings') ?? {};
	const { appData: _workerAppData, ...clonableWorkerSettings } = workerSettings;
	return {
		id: optionalString(o.id, 'options.id') ?? randomUUID(),
		maxWorkers: optionalNumber(o.maxWorkers, 'options.maxWorkers', 0, 1024, true) ?? (cluster ? 1024 : mafaldaRouterDefaultOptions.maxWorkers),
		routerOptions,
		workerSettings: clonableWorkerSettings,
		watermarkWorker: optionalNumber(o.watermarkWorker, 'options.watermarkWorker', 0, 100) ?? mafaldaRouterDefaultOptions.watermarkWorker,
		maxConsumersPerWorker:
			optionalNumber(o.maxConsumersPerWorker, 'options.maxConsumersPerWorker', 1, 1_000_000, true) ?? mafaldaRouterDefaultOptions.maxConsumersPerWorker,
		appData: (optionalObject(o.appData, 'options.appData') ?? {}) as AppData,
	};
}

export interface ResolvedWebRtcServerOptions {
	/** mediasoup's listenInfos of the server on a worker: the given port plus the worker index, or the worker's entry of `ports`. */
	listenInfosFor(workerIndex: number): Array<Record<string, unknown>>;
	appData: AppData;
}

/** The highest port a listenInfo's `port` may have when each worker adds its index to it. */
const MAX_PORT = 65535;

export function resolveWebRtcServerOptions(input: unknown, numWorkers: number): ResolvedWebRtcServerOptions {
	const o = (optionalObject(input, 'options') ?? {}) as Partial<WebRtcServerOptions>;
	const infos = optionalArray(o.listenInfos, 'options.listenInfos');
	if (!infos || infos.length === 0) throw new InvalidArgumentError('options.listenInfos', 'must be a non-empty array of listen infos');
	const perInfo = infos.map((value, i) => {
		const field = `options.listenInfos[${i}]`;
		checkListenInfo(value, field);
		const { ports: portList, ...info } = value as Record<string, unknown>;
		const ports = optionalArray(portList, `${field}.ports`);
		if (ports) {
			if (info.port !== undefined) throw new InvalidArgumentError(`${field}.ports`, 'cannot be given with port');
			if (ports.length < numWorkers) {
				throw new InvalidArgumentError(`${field}.ports`, `must have one port per worker (numWorkers ${numWorkers}), got ${ports.length}`);
			}
			ports.forEach((p, w) => requireNumber(p, `${field}.ports[${w}]`, 1, MAX_PORT, true));
			return (w: number): Record<string, unknown> => ({ ...info, port: ports[w] });
		}
		const port = info.port as number | undefined;
		// 0 or none: each worker's server takes a free port of its own (or one of portRange).
		if (!port) return (): Record<string, unknown> => info;
		if (port + numWorkers - 1 > MAX_PORT) {
			throw new InvalidArgumentError(`${field}.port`, `plus the worker index must be a port: with numWorkers ${numWorkers}, at most ${MAX_PORT - numWorkers + 1}, got ${port}`);
		}
		return (w: number): Record<string, unknown> => ({ ...info, port: port + w });
	});
	return {
		listenInfosFor: (workerIndex) => perInfo.map((forWorker) => forWorker(workerIndex)),
		appData: (optionalObject(o.appData, 'options.appData') ?? {}) as AppData,
	};
}
