import { CompletedHistory, LatestPublished } from './completed';

describe('CompletedHistory', () => {
  it('keeps the last builds of each source by finish time, whatever order they are folded in', () => {
    const h = new CompletedHistory(3);
    h.add('gcc', 40, 4);
    h.add('gcc', 10, 1);
    h.add('gcc', 30, 3);
    h.add('gcc', 50, 5);
    h.add('gcc', 20, 2);
    h.add('zlib', 5, 9);
    expect(h.durations()).toEqual(new Map([['gcc', [3, 4, 5]], ['zlib', [9]]]));
  });

  it('hands out the same map until a build is added', () => {
    const h = new CompletedHistory();
    h.add('gcc', 1, 10);
    const first = h.durations();
    expect(h.durations()).toBe(first);
    h.add('gcc', 2, 20);
    expect(h.durations()).not.toBe(first);
    expect(h.durations().get('gcc')).toEqual([10, 20]);
  });
});

describe('LatestPublished', () => {
  const done = (source: string, release: number, index = 'main', repository = 'recipes') => ({
    repository, source, index, release, published: [{ name: source, uri: `pool/${source}-${release}.stone`, sha256: String(release).repeat(64).slice(0, 64) }],
  });
  const recipes = new Map([['recipes/zlib', { packages: [{ name: 'zlib', provides: ['soname(libz.so.1)'], depends: [], buildDepends: [] }] }]]);

  it('keeps the newest release of each repository, source and index, whatever order they complete in', () => {
    const l = new LatestPublished();
    l.add(done('zlib', 2));
    l.add(done('zlib', 1));
    l.add(done('zlib', 1, 'main-v3x'));
    l.add(done('zlib', 3, 'main', 'other'));
    expect(l.providers(recipes).map((p) => `${p.uri} ${p.index}`)).toEqual(['pool/zlib-3.stone main', 'pool/zlib-2.stone main', 'pool/zlib-1.stone main-v3x']);
  });

  it('describes each package with what its current recipe says it provides and depends on', () => {
    const l = new LatestPublished();
    l.add(done('zlib', 1));
    l.add(done('gone', 1));
    expect(l.providers(recipes)).toEqual([
      { name: 'gone', provides: [], depends: [], index: 'main', uri: 'pool/gone-1.stone', sha256: expect.any(String) },
      { name: 'zlib', provides: ['soname(libz.so.1)'], depends: [], index: 'main', uri: 'pool/zlib-1.stone', sha256: expect.any(String) },
    ]);
  });
});
