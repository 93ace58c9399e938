/** What `within` answers when the promise had not settled in time. */
export const LATE = Symbol('late');

/**
 * `p`'s value, or LATE if it has not settled within `ms` (a rejection within
 * it rejects). A late promise goes on unawaited, its rejection swallowed: the
 * callers' pending calls fail when their backend closes.
 */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | typeof LATE> {
	// setTimeout takes Infinity as 1 ms.
	if (!Number.isFinite(ms)) return p;
	let timer: NodeJS.Timeout | undefined;
	const late = new Promise<typeof LATE>((resolve) => (timer = setTimeout(() => resolve(LATE), ms)));
	p.catch(() => undefined);
	try {
		return await Promise.race([p, late]);
	} finally {
		clearTimeout(timer);
	}
}
