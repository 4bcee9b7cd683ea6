import { refusalKind, taskOutcome } from './outcomes';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

describe('task outcomes for the metrics', () => {
  it.each([
    ['vessel refused a.stone: a.stone: sha256 mismatch: expected 00, actual 11', 'hash_mismatch'],
    ['vessel refused a.stone: a.stone: size mismatch: declared 3 bytes, received 4', 'size_mismatch'],
    ['vessel refused a.stone: a.stone: not a valid stone package: bad magic (at a.stone)', 'invalid_stone'],
    ['vessel refused (none): the build has no packages to import', 'no_packages'],
    ['vessel refused a.stone: published in history 2', 'release_rule'],
    ['vessel refused a.stone: something new', 'other'],
  ])('classifies %j as %s', (reason, kind) => {
    expect(refusalKind(reason)).toBe(kind);
  });

  it('times a published build: build from pickup to built, publish from built to finished', () => {
    expect(taskOutcome({ status: 'completed', isa: 'x86_64', reason: null, startedAt: at(0), builtAt: at(30), finishedAt: at(35) }))
      .toEqual({ build: { seconds: 30, outcome: 'built' }, publish: { seconds: 5, outcome: 'published' } });
  });

  it('times a failed build to its end, and counts a refused import by kind', () => {
    expect(taskOutcome({ status: 'failed', isa: 'x86_64', reason: 'build failed in step build (exit 1)', startedAt: at(0), builtAt: null, finishedAt: at(12) }))
      .toEqual({ build: { seconds: 12, outcome: 'failed' } });
    expect(taskOutcome({ status: 'failed', isa: 'x86_64', reason: 'vessel refused a.stone: a.stone: sha256 mismatch: x', startedAt: at(0), builtAt: at(10), finishedAt: at(11) }))
      .toEqual({ build: { seconds: 10, outcome: 'built' }, publish: { seconds: 1, outcome: 'refused' }, refusal: 'hash_mismatch' });
  });

  it('says nothing of a task cancelled before a builder took it', () => {
    expect(taskOutcome({ status: 'cancelled', isa: 'x86_64', reason: null, startedAt: null, builtAt: null, finishedAt: at(3) })).toEqual({});
  });
});
