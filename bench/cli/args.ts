/**
 * The benches' command-line options: `--name value`, `--name=value` and bare
 * `--flag`. Unknown options are an error, so a typo does not silently run
 * the defaults for ten minutes.
 */
export class Args {
	readonly #values = new Map<string, string>();
	readonly #known = new Set<string>(['help']);

	constructor(argv: string[] = process.argv.slice(2)) {
		for (let i = 0; i < argv.length; i++) {
			const arg = argv[i];
			if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}" (options are --name value)`);
			const eq = arg.indexOf('=');
			if (eq > 0) this.#values.set(arg.slice(2, eq), arg.slice(eq + 1));
			else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) this.#values.set(arg.slice(2), argv[++i]);
			else this.#values.set(arg.slice(2), 'true');
		}
	}

	get help(): boolean {
		return this.#values.has('help');
	}

	num(name: string, fallback: number): number {
		this.#known.add(name);
		const raw = this.#values.get(name);
		if (raw === undefined) return fallback;
		const n = Number(raw);
		if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got "${raw}"`);
		return n;
	}

	/** A number only if given: for options whose default is computed (e.g. sized by a calibration probe). */
	optionalNum(name: string): number | undefined {
		const n = this.num(name, Number.NaN);
		return Number.isNaN(n) ? undefined : n;
	}

	str<T extends string>(name: string, fallback: T, allowed?: readonly T[]): T {
		this.#known.add(name);
		const raw = this.#values.get(name) ?? fallback;
		if (allowed && !allowed.includes(raw as T)) throw new Error(`--${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
		return raw as T;
	}

	list<T extends string>(name: string, fallback: readonly T[], allowed?: readonly T[]): T[] {
		this.#known.add(name);
		const raw = this.#values.get(name);
		const items = raw === undefined ? [...fallback] : (raw.split(',').map((s) => s.trim()).filter(Boolean) as T[]);
		for (const item of items) {
			if (allowed && !allowed.includes(item)) throw new Error(`--${name} items must be among ${allowed.join(', ')}, got "${item}"`);
		}
		return items;
	}

	flag(name: string): boolean {
		this.#known.add(name);
		const raw = this.#values.get(name);
		return raw !== undefined && raw !== 'false';
	}

	/** Call after reading every option: rejects the ones nobody asked for. */
	assertAllKnown(): void {
		const unknown = [...this.#values.keys()].filter((k) => !this.#known.has(k));
		if (unknown.length > 0) throw new Error(`unknown option(s): ${unknown.map((k) => `--${k}`).join(', ')} (see --help)`);
	}
}

/** Evenly spaced steps up to `max`, e.g. (250, 5) -> 50, 100, 150, 200, 250. */
export function linearSteps(max: number, count: number, min = 1): number[] {
	const n = Math.max(1, Math.floor(count));
	const steps = Array.from({ length: n }, (_, i) => Math.max(min, Math.round((max * (i + 1)) / n)));
	return [...new Set(steps)];
}

/** Runs a bench's main, printing a failure the way a CLI should and setting the exit code. */
export function runMain(main: () => Promise<void>): void {
	main().then(
		() => undefined,
		(error: unknown) => {
			console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
			process.exitCode = 1;
		},
	);
}
