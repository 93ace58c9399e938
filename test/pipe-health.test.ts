// PairHealth, the pure part of the partition check (lib/pipe-health.ts): which
// direction of a PipeTransport pair is dead, from its ends' byte counters.
import { type EndCounters, PairHealth, PIPE_DEAD_CHECKS } from '../lib/pipe-health';

const reading = (a: EndCounters, b: EndCounters): Map<string, EndCounters> => new Map([['a', a], ['b', b]]);

test('a direction is dead after PIPE_DEAD_CHECKS readings in a row in which one end sent and the other received nothing', () => {
	const health = new PairHealth();
	expect(health.observe(reading({ sent: 100, received: 10 }, { sent: 10, received: 100 }))).toEqual([]);
	// Flowing both ways: nothing dead.
	expect(health.observe(reading({ sent: 200, received: 20 }, { sent: 20, received: 200 }))).toEqual([]);
	// a keeps sending, b hears none of it; b's own packets still reach a.
	const silent: string[][] = [];
	for (let i = 1; i <= PIPE_DEAD_CHECKS; i++) silent.push(health.observe(reading({ sent: 200 + 100 * i, received: 20 + 10 * i }, { sent: 20 + 10 * i, received: 200 })));
	expect(silent.slice(0, -1).every((dead) => dead.length === 0)).toBe(true);
	expect(silent[silent.length - 1]).toEqual(['a']);
});

test('one silent reading, a paused stream, or an end that did not answer is no death', () => {
	const health = new PairHealth();
	health.observe(reading({ sent: 100, received: 0 }, { sent: 0, received: 100 }));
	// A packet sent just before a's read arrived just after b's: silent once, then heard.
	expect(health.observe(reading({ sent: 150, received: 0 }, { sent: 0, received: 100 }))).toEqual([]);
	expect(health.observe(reading({ sent: 200, received: 0 }, { sent: 0, received: 200 }))).toEqual([]);
	// Nothing sent (paused): however long, nothing to tell by.
	for (let i = 0; i < 3; i++) expect(health.observe(reading({ sent: 200, received: 0 }, { sent: 0, received: 200 }))).toEqual([]);
	// b did not answer: that reading is skipped, and the next compares with the last whole one.
	health.observe(reading({ sent: 250, received: 0 }, { sent: 0, received: 200 }));
	expect(health.observe(new Map([['a', { sent: 300, received: 0 }]]))).toEqual([]);
	expect(health.observe(reading({ sent: 350, received: 0 }, { sent: 0, received: 350 }))).toEqual([]);
});
