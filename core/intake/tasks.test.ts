import type { TaskStatus } from '../task/state';
import { decideIntake, decideTree, needsTask, type SiblingTask } from './tasks';

const ID = 'build/p/r/liba-1.0-3/x86_64';
const task = (release: number, status: TaskStatus, commit = 'aaa'): SiblingTask => ({ id: `build/p/r/liba-1.0-${release}/x86_64`, release, commit, status });

describe('what intake does with a recipe', () => {
  test('a release already published needs no task, whatever tasks exist', () => {
    expect(needsTask(3, 3)).toBe(false);
    expect(needsTask(2, 3)).toBe(false);
    expect(decideIntake({ taskId: ID, release: 3, commit: 'bbb', publishedRelease: 3, siblings: [task(3, 'new')] })).toEqual({ action: 'none' });
  });

  test('a new release with no task creates one and supersedes nothing when no older task exists', () => {
    expect(needsTask(1, 0)).toBe(true);
    expect(decideIntake({ taskId: ID, release: 3, commit: 'bbb', publishedRelease: 0, siblings: [] })).toEqual({ action: 'create', taskId: ID, supersede: [] });
  });

  test('a new release supersedes the older releases that have not run or did not succeed', () => {
    const siblings = [task(2, 'new'), task(1, 'failed'), task(0, 'cancelled')];
    expect(decideIntake({ taskId: ID, release: 3, commit: 'bbb', publishedRelease: 0, siblings })).toEqual({
      action: 'create', taskId: ID, supersede: [siblings[0].id, siblings[1].id, siblings[2].id],
    });
  });

  test.each<TaskStatus>(['building', 'publishing', 'completed', 'superseded'])('an older release that is %s is left alone', (status) => {
    expect(decideIntake({ taskId: ID, release: 3, commit: 'bbb', publishedRelease: 0, siblings: [task(2, status)] })).toEqual({ action: 'create', taskId: ID, supersede: [] });
  });

  test('a newer release than the one pushed is never superseded by it', () => {
    expect(decideIntake({ taskId: ID, release: 3, commit: 'bbb', publishedRelease: 0, siblings: [task(4, 'new')] })).toEqual({ action: 'create', taskId: ID, supersede: [] });
  });

  test.each<TaskStatus>(['new', 'blocked'])('the same release at a newer commit updates the task while it is %s', (status) => {
    expect(decideIntake({ taskId: ID, release: 3, commit: 'bbb', publishedRelease: 0, siblings: [task(3, status, 'aaa')] })).toEqual({ action: 'update', taskId: ID });
  });

  test.each<TaskStatus>(['building', 'publishing', 'failed', 'cancelled'])('the same release at a newer commit leaves a task that is %s alone', (status) => {
    expect(decideIntake({ taskId: ID, release: 3, commit: 'bbb', publishedRelease: 0, siblings: [task(3, status, 'aaa')] })).toEqual({ action: 'none' });
  });

  test('the same release at the same commit does nothing (intake is idempotent)', () => {
    expect(decideIntake({ taskId: ID, release: 3, commit: 'aaa', publishedRelease: 0, siblings: [task(3, 'new', 'aaa'), task(2, 'new')] })).toEqual({ action: 'none' });
  });
});

describe('what intake does with a whole tree', () => {
  const known = (id: string, key: string, release: number, status: TaskStatus, commit = 'aaa', recipePath = `r/${key}`) => ({ id, key, release, status, commit, recipePath });
  const wanted = (taskId: string, key: string, release: number, publishedRelease = 0, recipePath = `r/${key}`) => ({ taskId, key, release, recipePath, publishedRelease });

  test('decides each wanted task against the known tasks of its own source and variant only', () => {
    const decision = decideTree('bbb', [
      wanted('a-2', 'a', 2),
      wanted('b-1', 'b', 1),
      wanted('c-1', 'c', 1),
      wanted('d-1', 'd', 1, 0, 'moved/d'),
    ], [
      known('a-1', 'a', 1, 'new'),
      known('b-1', 'b', 1, 'new'),
      known('c-1', 'c', 1, 'building'),
      known('d-1', 'd', 1, 'blocked'),
      known('x-1', 'x', 1, 'new'),
    ]);
    expect(decision).toEqual({
      create: ['a-2'],
      supersede: [{ taskId: 'a-1', by: 'a-2' }],
      update: ['b-1'],
      move: [{ taskId: 'd-1', recipePath: 'moved/d' }],
    });
  });

  test('supersedes older releases newest first, and leaves a task already at the commit alone', () => {
    const decision = decideTree('bbb', [wanted('a-3', 'a', 3), wanted('b-1', 'b', 1)], [
      known('a-1', 'a', 1, 'failed'), known('a-2', 'a', 2, 'new'), known('b-1', 'b', 1, 'new', 'bbb'),
    ]);
    expect(decision).toEqual({ create: ['a-3'], supersede: [{ taskId: 'a-2', by: 'a-3' }, { taskId: 'a-1', by: 'a-3' }], update: [], move: [] });
  });
});
