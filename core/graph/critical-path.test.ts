import { byPriority, criticalPaths, dagFromPairs, lowerBound } from './critical-path';
import { DEFAULT_ESTIMATE_SECONDS, estimateDurations, estimateFromHistory, modelDuration, parseDurations } from './durations';
import { FormatError } from '../formats/errors';
import { loadBound } from './load-bound';

describe('criticalPaths', () => {
  // a(2) -> b(3) -> d(1); a -> c(10); e(4) alone
  const ids = ['a', 'b', 'c', 'd', 'e'];
  const dag = dagFromPairs(ids, [[0, 1], [1, 3], [0, 2]]);
  const duration = [2, 3, 10, 1, 4];

  it('is a task’s duration plus the longest chain after it', () => {
    expect(Array.from(criticalPaths(dag, duration))).toEqual([12, 4, 10, 1, 4]);
  });

  it('orders ready tasks by highest critical path, ties by id', () => {
    const cp = [5, 7, 5, 7, 1];
    expect([0, 1, 2, 3, 4].sort(byPriority(ids, cp)).map((i) => ids[i])).toEqual(['b', 'd', 'a', 'c', 'e']);
  });

  it('bounds a schedule by the longest chain and by total work over slots', () => {
    const cp = criticalPaths(dag, duration);
    expect(lowerBound(cp, duration, 1)).toEqual({ criticalPath: 12, totalWork: 20, bound: 20 });
    expect(lowerBound(cp, duration, 4)).toEqual({ criticalPath: 12, totalWork: 20, bound: 12 });
  });

  it('bounds a schedule tighter when much of the work must wait for a long chain', () => {
    // a(10) → b(10) → c(10), and c → x, y, z, w (10 each). On 2 slots: chain 30 + 40 of work / 2 after it = 50;
    // the classic bound only sees max(critical path 40, total work 70 / 2 = 35) = 40.
    const chain = dagFromPairs(['a', 'b', 'c', 'w', 'x', 'y', 'z'], [[0, 1], [1, 2], [2, 3], [2, 4], [2, 5], [2, 6]]);
    const d = [10, 10, 10, 10, 10, 10, 10];
    const cp = criticalPaths(chain, d);
    expect(lowerBound(cp, d, 2).bound).toBe(40);
    expect(loadBound(chain, d, cp, 2)).toBe(50);
    // Mirrored (everything feeds a chain at the end): the tail bound finds the same.
    const mirrored = dagFromPairs(['a', 'b', 'c', 'w', 'x', 'y', 'z'], [[1, 0], [2, 1], [3, 2], [4, 2], [5, 2], [6, 2]]);
    expect(loadBound(mirrored, d, criticalPaths(mirrored, d), 2)).toBe(50);
    // Never above what a schedule achieves: the earlier example on 1 and 4 slots.
    expect(loadBound(dag, duration, criticalPaths(dag, duration), 1)).toBe(20);
    expect(loadBound(dag, duration, criticalPaths(dag, duration), 4)).toBeLessThanOrEqual(12);
  });

  it('refuses a graph with a cycle', () => {
    expect(() => criticalPaths(dagFromPairs(['x', 'y'], [[0, 1], [1, 0]]), [1, 1])).toThrow(/cycle/);
  });
});

describe('durations', () => {
  it('estimates from the median of the last five builds', () => {
    expect(estimateFromHistory([1000, 10, 20, 30, 40, 50])).toBe(30);
    expect(estimateFromHistory([10, 20, 30, 40])).toBe(25);
    expect(estimateFromHistory([])).toBeUndefined();
  });

  it('falls back to the median of known estimates, then to the documented default', () => {
    const history = new Map([
      ['a', [100]],
      ['b', [300]],
      ['c', [200]],
    ]);
    expect(estimateDurations(['a', 'b', 'c', 'new'], history)).toEqual(
      new Map([['a', 100], ['b', 300], ['c', 200], ['new', 200]]),
    );
    expect(estimateDurations(['new'], new Map()).get('new')).toBe(DEFAULT_ESTIMATE_SECONDS);
    expect(estimateDurations(['new'], new Map(), { fallback: (s) => s.length }).get('new')).toBe(3);
  });

  it('models a duration from what a manifest holds', () => {
    const pkg = (name: string, provides: string[], depends: string[], buildDepends: string[]) => ({ name, provides, depends, buildDepends });
    const recipe = {
      source: 'x',
      packages: [pkg('x', ['binary(x)', 'soname(libx.so.1(x86_64))'], ['soname(libc.so.6(x86_64))'], ['pkgconfig(z)', 'binary(cc)']), pkg('x-devel', ['pkgconfig(x)'], ['x'], ['pkgconfig(z)', 'binary(cc)'])],
    };
    // 120 + 45×2 build deps + 90×1 extra package + 5×3 provides + 3×2 run deps
    expect(modelDuration(recipe)).toBe(120 + 90 + 90 + 15 + 6);
  });

  it('reads a durations file and names the offending entry', () => {
    expect(parseDurations({ a: 60, b: [10, 20] }, 'd.json')).toEqual(new Map([['a', [60]], ['b', [10, 20]]]));
    expect(() => parseDurations([1, 2], 'd.json')).toThrow(FormatError);
    expect(() => parseDurations({ a: 'slow' }, 'd.json')).toThrow('durations: d.json: "a": "slow" is not a duration in seconds');
    expect(() => parseDurations({ a: [] }, 'd.json')).toThrow('"a": empty list');
    expect(() => parseDurations({ a: -1 }, 'd.json')).toThrow(FormatError);
  });
});
