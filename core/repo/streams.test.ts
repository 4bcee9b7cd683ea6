import { emptyRootIndex, resolveIndexPath, rootIndexSchema, type RootIndex } from '../formats/root-index';
import { historyIds, nextHistoryId, recordHistory, volatileHistory } from './history';
import { pointStream, promote, removeTag, StreamCommandError, tagHistory } from './streams';

function withHistories(n: number): RootIndex {
  let root = emptyRootIndex();
  for (let i = 1; i <= n; i++) root = recordHistory(root, String(i));
  return root;
}

describe('history bookkeeping', () => {
  it('counts history ids up from 1 and moves volatile onto each new one', () => {
    let root = emptyRootIndex();
    expect(nextHistoryId(root)).toBe('1');
    root = recordHistory(root, '1');
    expect(volatileHistory(root)).toBe('1');
    root = recordHistory(root, nextHistoryId(root));
    expect(volatileHistory(root)).toBe('2');
    expect(historyIds(root)).toEqual(['1', '2']);
    expect(resolveIndexPath(root, 'volatile', 'x86_64')).toBe('history/2/x86_64/stone.index');
    expect(rootIndexSchema.safeParse(root).success).toBe(true);
  });

  it.each<[string, string[], string[], string]>([
    ['skips ids a crashed import left on disk', ['1', '2'], ['1', '2', '3'], '4'],
    ['orders numerically, not as text', ['9', '10'], [], '11'],
    ['ignores folders that are not history ids', ['1'], ['.tmp-2-ab', 'junk'], '2'],
  ])('nextHistoryId %s', (_title, ids, onDisk, next) => {
    let root = emptyRootIndex();
    for (const id of ids) root = recordHistory(root, id);
    expect(nextHistoryId(root, onDisk)).toBe(next);
  });

  it.each([
    ['an existing id', '2', /exists already/],
    ['an id not newer than the newest', '1', /exists already|not newer/],
    ['a non-numeric id', 'abc', /not a positive integer/],
  ])('refuses to record %s', (_title, id, error) => {
    expect(() => recordHistory(withHistories(2), id)).toThrow(error);
  });

  it('does not modify the root index it is given', () => {
    const root = withHistories(1);
    const before = JSON.stringify(root);
    recordHistory(root, '2');
    expect(JSON.stringify(root)).toBe(before);
  });
});

describe('stream and tag commands', () => {
  const root = withHistories(3);

  it('promotes unstable to the history volatile names', () => {
    expect(promote(root).streams.unstable).toEqual({ format: 'v0', history: '3' });
    expect(promote(root).streams.volatile.history).toBe('3');
  });

  it('rolls a stream back (and forward) to any existing history', () => {
    const back = pointStream(root, 'volatile', '1');
    expect(back.streams.volatile.history).toBe('1');
    expect(pointStream(pointStream(root, 'unstable', '1'), 'unstable', '3').streams.unstable.history).toBe('3');
    // A new history after a rollback still counts up from the newest id ever recorded.
    expect(nextHistoryId(back)).toBe('4');
  });

  it('tags a history; repeating the same tag is harmless; moving it needs replace', () => {
    const tagged = tagHistory(root, 'release-2025-01', '2');
    expect(tagged.tags['release-2025-01']).toEqual({ format: 'v0', history: '2' });
    expect(tagHistory(tagged, 'release-2025-01', '2')).toEqual(tagged);
    expect(() => tagHistory(tagged, 'release-2025-01', '3')).toThrow(/already names history 2; pass replace/);
    expect(tagHistory(tagged, 'release-2025-01', '3', { replace: true }).tags['release-2025-01'].history).toBe('3');
    expect(resolveIndexPath(tagged, 'release-2025-01', 'x86_64')).toBe('history/2/x86_64/stone.index');
    expect(removeTag(tagged, 'release-2025-01').tags).toEqual({});
  });

  it.each<[string, (r: RootIndex) => RootIndex, RegExp]>([
    ['a stream to a history that does not exist', (r) => pointStream(r, 'unstable', '9'), /history 9 does not exist/],
    ['a stream that does not exist', (r) => pointStream(r, 'stable', '1'), /"stable" is not a stream/],
    ['promoting a stream onto itself', (r) => promote(r, 'volatile', 'volatile'), /onto itself/],
    ['promoting from a stream with no history', (r) => promote(r, 'volatile', 'unstable'), /points at no history/],
    ['a tag with a slash', (r) => tagHistory(r, 'a/b', '1'), /must match/],
    ['a tag named like a stream', (r) => tagHistory(r, 'unstable', '1'), /is a stream name/],
    ['a tag of a missing history', (r) => tagHistory(r, 'v1', '42'), /history 42 does not exist/],
    ['removing a tag that does not exist', (r) => removeTag(r, 'v1'), /does not exist/],
  ])('refuses %s with a StreamCommandError', (_title, command, message) => {
    expect(() => command(root)).toThrow(StreamCommandError);
    expect(() => command(root)).toThrow(message);
  });

  it('never modifies the root index it is given', () => {
    const before = JSON.stringify(root);
    promote(root);
    pointStream(root, 'volatile', '1');
    tagHistory(root, 't', '1');
    expect(JSON.stringify(root)).toBe(before);
  });
});
