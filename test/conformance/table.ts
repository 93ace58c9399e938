// Turns a jest --json run of the conformance test file into README.md's
// table for the mediasoup version it ran on (suite, tests, plain mediasoup,
// mafalda) and list of exceptions, so the figures there always come from a
// real run:
//   npm run conformance                 (the dev dependency, mediasoup 3.27)
//   npm run conformance:mediasoup-3.14  (mediasoup 3.14 through its npm alias)
import * as fs from 'node:fs';
import { conformanceSet, type Target, WORKERS_PER_MAFALDA } from './suites';

interface AssertionResult {
	ancestorTitles: string[];
	title: string;
	status: 'passed' | 'failed' | 'pending' | 'skipped' | 'todo' | 'disabled';
	duration?: number | null;
}

interface JestJson {
	startTime: number;
	testResults: Array<{ name: string; startTime: number; endTime: number; assertionResults: AssertionResult[] }>;
}

const TARGETS: readonly Target[] = ['mediasoup', 'mafalda'];
/** README.md's block for one mediasoup minor version. */
const start = (minor: string): string => `<!-- conformance-table:${minor}:start -->`;
const end = (minor: string): string => `<!-- conformance-table:${minor}:end -->`;

interface Count {
	tests: number;
	passed: number;
}

/** The mediasoup version of the run, from the outer describe block (run-suites.ts's runTitle). */
function runVersion(run: JestJson): string {
	const titles = new Set(run.testResults.flatMap((f) => f.assertionResults.map((a) => a.ancestorTitles[0])));
	const versions = [...titles].map((t) => /^mediasoup (\d+\.\d+\.\d+)$/.exec(t ?? '')?.[1]);
	if (versions.length !== 1 || !versions[0]) throw new Error(`expected one run of one mediasoup version, got ${[...titles].join(', ')}`);
	return versions[0];
}

export function conformanceTable(run: JestJson): { minor: string; table: string } {
	const version = runVersion(run);
	const set = conformanceSet(version);
	const counts = new Map<string, Count>();
	const seconds = new Map<Target, number>();
	for (const file of run.testResults) {
		for (const a of file.assertionResults) {
			const [, target, suite] = a.ancestorTitles as [string, Target, string];
			const key = `${target}/${suite}`;
			const count = counts.get(key) ?? { tests: 0, passed: 0 };
			count.tests++;
			if (a.status === 'passed') count.passed++;
			counts.set(key, count);
			seconds.set(target, (seconds.get(target) ?? 0) + (a.duration ?? 0) / 1000);
		}
	}
	const total = (target: Target, suites: readonly string[]): Count =>
		suites.reduce(
			(sum, s) => ({ tests: sum.tests + (counts.get(`${target}/${s}`)?.tests ?? 0), passed: sum.passed + (counts.get(`${target}/${s}`)?.passed ?? 0) }),
			{ tests: 0, passed: 0 },
		);
	const rows = ['| suite | tests | plain mediasoup | mafalda |', '|---|---:|---:|---:|'];
	for (const suite of [...set.suites, undefined]) {
		const suites = suite ? [suite] : set.suites;
		const [ms, mf] = TARGETS.map((t) => total(t, suites));
		rows.push(`| ${suite ?? '**total**'} | ${ms.tests} | ${ms.passed} | ${mf.passed} |`);
	}
	const wall = run.testResults.reduce((sum, f) => sum + (f.endTime - f.startTime) / 1000, 0);
	const timing = TARGETS.map((t) => `${t} ${seconds.get(t)?.toFixed(0) ?? '?'} s`).join(', ');
	const date = new Date(run.startTime).toISOString().slice(0, 16).replace('T', ' ');
	const exceptions = set.exceptions.map((e) => `- ${e.suite}: \`${e.test}\` (skipped on ${e.targets.join(' and ')}): ${e.reason}.`);
	const table = [
		`mediasoup ${version}, tests from ${set.source}. Run of ${date} UTC, mafalda with ${WORKERS_PER_MAFALDA} workers per adapter Worker; the file took ${wall.toFixed(0)} s (time in the tests: ${timing}).`,
		'',
		...rows,
		'',
		'Skipped tests (the exceptions, each with its reason):',
		'',
		...(exceptions.length > 0 ? exceptions : ['- none']),
	].join('\n');
	return { minor: set.mediasoup, table };
}

function main(): void {
	const [jsonPath, readmePath] = process.argv.slice(2);
	if (!jsonPath) throw new Error('usage: table.js <jest --json output> [README.md]');
	const { minor, table } = conformanceTable(JSON.parse(fs.readFileSync(jsonPath, 'utf8')) as JestJson);
	console.log(table);
	if (!readmePath) return;
	const readme = fs.readFileSync(readmePath, 'utf8');
	const from = readme.indexOf(start(minor));
	const to = readme.indexOf(end(minor));
	if (from < 0 || to < from) throw new Error(`${readmePath} has no ${start(minor)} ... ${end(minor)} block`);
	fs.writeFileSync(readmePath, `${readme.slice(0, from + start(minor).length)}\n${table}\n${readme.slice(to)}`);
}

if (require.main === module) main();
