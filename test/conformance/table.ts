// Turns a jest --json run of the two conformance test files into README.md's
// table (suite, tests, plain mediasoup, mafalda) and list of exceptions, so
// the figures there always come from a real run:
//   npm run conformance    (runs both files, then this script)
import * as fs from 'node:fs';
import { EXCEPTIONS, SUITES, type Suite, type Target, WORKERS_PER_MAFALDA } from './suites';

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
const START = '<!-- conformance-table:start -->';
const END = '<!-- conformance-table:end -->';

interface Count {
	tests: number;
	passed: number;
}

export function conformanceTable(run: JestJson): string {
	const counts = new Map<string, Count>();
	const seconds = new Map<Target, number>();
	for (const file of run.testResults) {
		for (const a of file.assertionResults) {
			const [target, suite] = a.ancestorTitles as [Target, Suite];
			const key = `${target}/${suite}`;
			const count = counts.get(key) ?? { tests: 0, passed: 0 };
			count.tests++;
			if (a.status === 'passed') count.passed++;
			counts.set(key, count);
			seconds.set(target, (seconds.get(target) ?? 0) + (a.duration ?? 0) / 1000);
		}
	}
	const total = (target: Target, suites: readonly Suite[]): Count =>
		suites.reduce(
			(sum, s) => ({ tests: sum.tests + (counts.get(`${target}/${s}`)?.tests ?? 0), passed: sum.passed + (counts.get(`${target}/${s}`)?.passed ?? 0) }),
			{ tests: 0, passed: 0 },
		);
	const rows = ['| suite | tests | plain mediasoup | mafalda |', '|---|---:|---:|---:|'];
	for (const suite of [...SUITES, undefined]) {
		const suites = suite ? [suite] : SUITES;
		const [ms, mf] = TARGETS.map((t) => total(t, suites));
		rows.push(`| ${suite ?? '**total**'} | ${ms.tests} | ${ms.passed} | ${mf.passed} |`);
	}
	const wall = run.testResults.reduce((sum, f) => sum + (f.endTime - f.startTime) / 1000, 0);
	const timing = TARGETS.map((t) => `${t} ${seconds.get(t)?.toFixed(0) ?? '?'} s`).join(', ');
	const date = new Date(run.startTime).toISOString().slice(0, 16).replace('T', ' ');
	const exceptions = EXCEPTIONS.map((e) => `- ${e.suite}: \`${e.test}\` (skipped on ${e.targets.join(' and ')}): ${e.reason}.`);
	return [
		`Run of ${date} UTC, mafalda with ${WORKERS_PER_MAFALDA} workers per adapter Worker; the file took ${wall.toFixed(0)} s (time in the tests: ${timing}).`,
		'',
		...rows,
		'',
		'Skipped tests (the exceptions, each with its reason):',
		'',
		...exceptions,
	].join('\n');
}

function main(): void {
	const [jsonPath, readmePath] = process.argv.slice(2);
	if (!jsonPath) throw new Error('usage: table.js <jest --json output> [README.md]');
	const table = conformanceTable(JSON.parse(fs.readFileSync(jsonPath, 'utf8')) as JestJson);
	console.log(table);
	if (!readmePath) return;
	const readme = fs.readFileSync(readmePath, 'utf8');
	const start = readme.indexOf(START);
	const end = readme.indexOf(END);
	if (start < 0 || end < start) throw new Error(`${readmePath} has no ${START} ... ${END} block`);
	fs.writeFileSync(readmePath, `${readme.slice(0, start + START.length)}\n${table}\n${readme.slice(end)}`);
}

if (require.main === module) main();
