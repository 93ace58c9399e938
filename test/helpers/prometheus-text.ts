// Reads Prometheus' text exposition format (what a scrape returns) into
// samples, so tests check what Prometheus itself would store.

export interface Sample {
	name: string;
	labels: Record<string, string>;
	value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): Sample[] {
	const samples: Sample[] = [];
	for (const line of text.split('\n')) {
		if (line === '' || line.startsWith('#')) continue;
		const match = SAMPLE_LINE.exec(line);
		if (!match) throw new Error(`not a sample line: ${line}`);
		const labels: Record<string, string> = {};
		for (const [, key, raw] of (match[2] ?? '').matchAll(LABEL)) labels[key] = raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
		samples.push({ name: match[1], labels, value: Number(match[3]) });
	}
	return samples;
}

/** Samples of `name` whose labels include `labels`. */
export function select(samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
	return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The one sample of `name` with `labels`, or undefined (throws when several match). */
export function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
	const found = select(samples, name, labels);
	if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
	return found[0]?.value;
}

/** Sum of the samples of `name` whose labels include `labels` (0 when none). */
export function sumOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
	return select(samples, name, labels).reduce((total, s) => total + s.value, 0);
}
