import { overheadPerPackage, percentile, summarize, utilisation } from './statistics';

describe('wave benchmark statistics', () => {
  it.each([
    [[5], 50, 5],
    [[1, 2, 3, 4, 5], 50, 3],
    [[5, 1, 4, 2, 3], 0, 1],
    [[5, 1, 4, 2, 3], 100, 5],
    [[10, 20], 50, 15],
    [[0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 95, 95],
  ])('percentile of %j at %d is %d (linear between ranks, input order does not matter)', (values, p, want) => {
    expect(percentile(values, p)).toBeCloseTo(want);
  });

  it('has no percentile of nothing and refuses one outside 0–100', () => {
    expect(percentile([], 50)).toBeUndefined();
    expect(() => percentile([1], 101)).toThrow(/outside/);
  });

  it('summarizes count, percentiles, max and total', () => {
    expect(summarize([3, 1, 2])).toEqual({ n: 3, p50: 2, p95: expect.closeTo(2.9), p99: expect.closeTo(2.98), max: 3, total: 6 });
    expect(summarize([])).toEqual({ n: 0, p50: undefined, p95: undefined, p99: undefined, max: undefined, total: 0 });
  });

  it('counts utilisation against every slot for the whole wall time', () => {
    expect(utilisation(10_000, 10_000, 2)).toBe(0.5);
    expect(utilisation(1, 0, 2)).toBe(0);
  });

  it('spreads the slot time not spent in containers over the packages', () => {
    expect(overheadPerPackage(10_000, 2, 5_000, 50)).toBe(300);
    expect(overheadPerPackage(10_000, 2, 5_000, 0)).toBe(0);
  });
});
