/** What one end of a PipeTransport pair had sent and received at a check (its getStats() counters). */
export interface EndCounters {
	sent: number;
	received: number;
}

/**
 * After how many checks in a row in which one end sent and the other received
 * nothing a direction of a pipe pair is dead. One silent check is not enough:
 * the two ends are read at slightly different moments, so a packet sent just
 * before a read may arrive just after the other end's.
 */
export const PIPE_DEAD_CHECKS = 2;

/**
 * Tells dead directions of one PipeTransport pair from its ends' byte
 * counters, read at each check. A partition between two nodes that both still
 * reach the controller is told by nothing else: mediasoup scores a pipe
 * producer only from Sender Reports and runs its RTP inactivity timer only for
 * simulcast, so a pipe cut off keeps its last score. Pure: the caller reads.
 */
export class PairHealth {
	#last: Map<string, EndCounters> | undefined;
	/** Per sending end: checks in a row in which it sent and the other end received nothing. */
	readonly #silent = new Map<string, number>();

	/**
	 * Takes one reading of both ends (by end id) and returns the ends whose
	 * direction out is dead now. A direction with nothing to send (a paused
	 * stream) is never dead: there is nothing to tell by.
	 */
	observe(now: ReadonlyMap<string, EndCounters>): string[] {
		// An end that did not answer: this reading tells nothing, and the next one compares with the last whole one.
		if (now.size !== 2) return [];
		const last = this.#last;
		this.#last = new Map(now);
		if (!last) return [];
		const [a, b] = [...now.keys()];
		const dead: string[] = [];
		for (const [from, to] of [[a, b], [b, a]]) {
			const sent = now.get(from)!.sent - (last.get(from)?.sent ?? 0);
			const received = now.get(to)!.received - (last.get(to)?.received ?? 0);
			const silent = sent > 0 && received === 0 ? (this.#silent.get(from) ?? 0) + 1 : 0;
			this.#silent.set(from, silent);
			if (silent >= PIPE_DEAD_CHECKS) dead.push(from);
		}
		return dead;
	}
}
