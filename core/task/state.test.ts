import { canTransition, IllegalTransitionError, TASK_STATUSES, TaskStatus, transition, TRANSITIONS } from './state';

const LEGAL: Array<[TaskStatus, TaskStatus]> = [
  ['blocked', 'new'], ['failed', 'new'], ['cancelled', 'new'], ['queued', 'new'], ['completed', 'new'],
  ['new', 'blocked'],
  ['new', 'queued'],
  ['queued', 'building'],
  ['building', 'publishing'],
  ['publishing', 'completed'],
  ['queued', 'failed'], ['building', 'failed'], ['publishing', 'failed'],
  ['new', 'cancelled'], ['blocked', 'cancelled'], ['queued', 'cancelled'], ['building', 'cancelled'], ['publishing', 'cancelled'],
  ['new', 'superseded'], ['blocked', 'superseded'], ['failed', 'superseded'], ['cancelled', 'superseded'],
];

describe('task state machine', () => {
  it.each(LEGAL)('allows %s → %s', (from, to) => {
    expect(transition('t', from, to)).toBe(to);
  });

  const illegal = TASK_STATUSES.flatMap((from) => TASK_STATUSES.map((to) => [from, to] as [TaskStatus, TaskStatus]))
    .filter(([from, to]) => !LEGAL.some(([f, t]) => f === from && t === to));

  it.each(illegal)('refuses %s → %s with a typed error naming the task and the legal sources', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    expect(() => transition('build/p/r/liba-1-1/x86_64', from, to)).toThrow(IllegalTransitionError);
    expect(() => transition('build/p/r/liba-1-1/x86_64', from, to)).toThrow(`task build/p/r/liba-1-1/x86_64: cannot go from ${from} to ${to}`);
  });

  it('leaves superseded terminal, and completed but for a cascade rebuild (back to new)', () => {
    for (const to of TASK_STATUSES) {
      if (to !== 'new') expect(TRANSITIONS[to].from).not.toContain('completed');
      expect(TRANSITIONS[to].from).not.toContain('superseded');
    }
  });
});
