import { PastBuildTimes } from './past-build-times';

/** The loader is the store's read; here it records what it was asked, so the test sees when a read happens. */
function setUp(maxAgeMs = 60_000, maxWaves = 64) {
  let clock = 0;
  const reads: string[][] = [];
  const times = new PastBuildTimes(async (sources) => {
    reads.push([...sources]);
    return new Map(sources.filter((s) => s !== 'new').map((s) => [s, [reads.length]]));
  }, maxAgeMs, maxWaves, () => clock);
  return { times, reads, tick: (ms: number) => (clock += ms) };
}

test('a wave reads past build times once, then again only when they are older than the limit', async () => {
  const { times, reads, tick } = setUp();
  expect((await times.of('w1', ['a', 'b', 'new'])).get('a')).toEqual([1]);
  tick(30_000);
  // Fewer open sources, and one with no past build: answered from the first read.
  expect((await times.of('w1', ['a', 'new'])).get('a')).toEqual([1]);
  expect(reads).toHaveLength(1);
  tick(30_000);
  expect((await times.of('w1', ['a'])).get('a')).toEqual([2]);
  expect(reads).toEqual([['a', 'b', 'new'], ['a']]);
});

test('a source the wave had not asked for reads again; waves do not share their reads', async () => {
  const { times, reads } = setUp();
  await times.of('w1', ['a']);
  await times.of('w1', ['a', 'c']);
  await times.of('w2', ['a']);
  expect(reads).toEqual([['a'], ['a', 'c'], ['a']]);
});

test('it remembers at most the newest few waves', async () => {
  const { times, reads } = setUp(60_000, 2);
  for (const w of ['w1', 'w2', 'w3']) await times.of(w, ['a']);
  await times.of('w3', ['a']);
  await times.of('w1', ['a']);
  expect(reads.length).toBe(4);
});
