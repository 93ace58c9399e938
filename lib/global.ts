import { EventEmitter } from 'eventemitter3';
import { CommonApi } from './common-api';
import type { MafaldaRouter } from './MafaldaRouter';
import type { Worker } from './remote/Worker';

/** Everything every Mafalda instance of this process made (the package-level Common API). */
export const globalCommon = new CommonApi();

/** Every open MafaldaRouter of every Mafalda instance, by id. */
export const globalMafaldaRouters = new Map<string, MafaldaRouter>();

export async function closeAllMafaldaRouters(): Promise<void> {
	const routers = [...globalMafaldaRouters.values()];
	for (const router of routers) router.close();
	await Promise.all(routers.map((r) => r.tornDown()));
}

/** mediasoup.observer's counterpart: `newworker` for the workers of every Mafalda instance of this process. */
export const globalObserver = new EventEmitter<{ newworker: [Worker] }>();
