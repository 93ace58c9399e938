import * as os from 'node:os';
import type { RestartPolicy } from '../actors/supervisor/supervisor';
import { InvalidArgumentError } from './errors';
import type { AppData, MafaldaOptions, MafaldaRouterOptions } from './types';
import { optionalBoolean, optionalNumber, optionalObject, optionalString } from './validate';
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
	mediasoupEntry: string | undefined;
	restart: RestartPolicy;
}

export function resolveMafaldaOptions(input: unknown, cluster = false): ResolvedMafaldaOptions {
	const o = (optionalObject(input, 'options') ?? {}) as MafaldaOptions;
	const cpus = os.availableParallelism();
	return {
		// A cluster controller may run no workers of its own (its nodes run them).
		numWorkers: optionalNumber(o.numWorkers, 'options.numWorkers', cluster ? 0 : 1, 1024, true) ?? cpus,
		loadReportIntervalMs: optionalNumber(o.loadReportIntervalMs, 'options.loadReportIntervalMs', 10, 3_600_000) ?? 1000,
		pipeListenIp: optionalString(o.pipeListenIp, 'options.pipeListenIp') ?? '127.0.0.1',
		pipeEnableSrtp: optionalBoolean(o.pipeEnableSrtp, 'options.pipeEnableSrtp') ?? false,
		cpuSlotDir: optionalString(o.cpuSlotDir, 'options.cpuSlotDir'),
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
