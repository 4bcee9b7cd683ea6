import { buildRootPackages, type BuildRootQuery, type PublishedProvider } from './build-dependencies';

const pkg = (name: string, index: string, over: Partial<PublishedProvider> = {}): PublishedProvider => ({
  name, index, provides: [], depends: [], uri: `pool/${name[0]}/${name}/${name}.stone`, sha256: `${name}-${index}`, ...over,
});
const query = (over: Partial<BuildRootQuery> = {}): BuildRootQuery => ({
  source: 'app', index: 'main', baselineIndex: 'main', buildDepends: [], packagesBaseUrl: 'http://vessel/', ...over,
});
const names = (q: BuildRootQuery, published: PublishedProvider[]) => buildRootPackages(q, published).map((p) => p.name);

describe('the packages a build root gets', () => {
  test('the providers of the build dependencies, with the URL under the index and the hash', () => {
    expect(buildRootPackages(query({ buildDepends: ['liba'] }), [pkg('liba', 'main')])).toEqual([
      { name: 'liba', url: 'http://vessel/main/pool/l/liba/liba.stone', sha256: 'liba-main' },
    ]);
  });

  test('run-time dependencies of those providers follow, transitively, each once', () => {
    const published = [pkg('liba', 'main', { depends: ['libb'] }), pkg('libb', 'main', { depends: ['libc', 'liba'] }), pkg('libc', 'main'), pkg('unrelated', 'main')];
    expect(names(query({ buildDepends: ['liba'] }), published)).toEqual(['liba', 'libb', 'libc']);
  });

  test('a dependency on a provided name resolves to the package providing it', () => {
    const published = [pkg('zlib-devel', 'main', { provides: ['pkgconfig(zlib)'] })];
    expect(names(query({ buildDepends: ['pkgconfig(zlib)'] }), published)).toEqual(['zlib-devel']);
  });

  test('packages of other indexes stay out, the baseline of a variant comes in', () => {
    const published = [pkg('liba', 'main'), pkg('libb', 'other'), pkg('libc', 'main-v3x')];
    expect(names(query({ index: 'main-v3x', buildDepends: ['liba', 'libb', 'libc'] }), published)).toEqual(['liba', 'libc']);
  });

  test("a package published in both the variant's index and the baseline comes from the variant's index", () => {
    const published = [pkg('liba', 'main'), pkg('liba', 'main-v3x')];
    expect(buildRootPackages(query({ index: 'main-v3x', buildDepends: ['liba'] }), published)).toEqual([
      { name: 'liba', url: 'http://vessel/main-v3x/pool/l/liba/liba.stone', sha256: 'liba-main-v3x' },
    ]);
  });

  test("the recipe's own packages never enter its build root, nor do unresolved names", () => {
    expect(names(query({ source: 'app', buildDepends: ['app', 'missing'] }), [pkg('app', 'main')])).toEqual([]);
  });

  test('one list of published packages answers builds of different indexes, each from its own indexes', () => {
    // Planning hands the same list to every dispatch of a round: the providers prepared for one pair of indexes
    // must not answer for another.
    const published = [pkg('liba', 'main'), pkg('liba', 'main-v3x'), pkg('libb', 'other')];
    const v3x = query({ index: 'main-v3x', buildDepends: ['liba', 'libb'] });
    expect(buildRootPackages(v3x, published).map((p) => p.sha256)).toEqual(['liba-main-v3x']);
    expect(buildRootPackages(query({ buildDepends: ['liba', 'libb'] }), published).map((p) => p.sha256)).toEqual(['liba-main']);
    expect(buildRootPackages(query({ index: 'other', baselineIndex: 'other', buildDepends: ['liba', 'libb'] }), published).map((p) => p.sha256)).toEqual(['libb-other']);
    expect(buildRootPackages(v3x, published).map((p) => p.sha256)).toEqual(['liba-main-v3x']);
  });
});
