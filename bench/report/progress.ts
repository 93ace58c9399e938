/**
 * The live status line: rewritten in place on a terminal, and on a pipe or a
 * CI log printed only when a phase ends, so logs stay readable.
 */
export class LiveLine {
	readonly #tty = process.stdout.isTTY === true;
	#last = 0;
	#shown = false;

	/** Shows `text` now if on a terminal (at most ~10 times a second). */
	update(text: string, force = false): void {
		if (!this.#tty) return;
		const now = Date.now();
		if (!force && now - this.#last < 100) return;
		this.#last = now;
		const width = process.stdout.columns ?? 120;
		process.stdout.write(`\r${text.length > width - 1 ? text.slice(0, width - 2) + '…' : text.padEnd(width - 1)}`);
		this.#shown = true;
	}

	/** Ends the live line and prints `text` as a line of its own. */
	log(text: string): void {
		if (this.#shown) process.stdout.write('\r\x1b[2K');
		this.#shown = false;
		console.log(text);
	}
}

export function progressBar(done: number, total: number, width = 20): string {
	const filled = total > 0 ? Math.round((Math.min(done, total) / total) * width) : 0;
	return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}
