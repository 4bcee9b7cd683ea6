import { buildGraph, GraphInputError } from './graph';
import { providerKey } from './provider-index';
import { RecipeNode } from './recipe';

/** A one-package recipe: provides `name` implicitly plus `provides`. */
function recipe(source: string, deps: { build?: string[]; run?: string[]; check?: string[]; provides?: string[] } = {}): RecipeNode {
  return {
    source,
    packages: [{ name: source, provides: deps.provides ?? [], depends: deps.run ?? [], buildDepends: [...(deps.build ?? []), ...(deps.check ?? [])] }],
    checkDepends: deps.check,
  };
}

const pairs = (g: ReturnType<typeof buildGraph>) => g.edges.map((e) => `${e.from}>${e.to}:${e.kind}`);

describe('buildGraph', () => {
  it('resolves every dependency kind to the recipe that provides it', () => {
    const g = buildGraph([
      recipe('zlib', { provides: ['soname(libz.so.1(x86_64))', 'pkgconfig(zlib)', 'pkgconfig32(zlib)'] }),
      recipe('perl', { provides: ['binary(perl)', 'interpreter(/usr/bin/perl)'] }),
      recipe('cmake', { provides: ['cmake(Foo)', 'sysbinary(cmake)'] }),
      recipe('python', { provides: ['python(six)'] }),
      recipe('app', {
        build: ['pkgconfig(zlib)', 'pkgconfig32(zlib)', 'binary(perl)', 'cmake(Foo)', 'sysbinary(cmake)', 'python(six)'],
        run: ['soname(libz.so.1(x86_64))', 'interpreter(/usr/bin/perl)'],
      }),
    ]);
    expect(pairs(g)).toEqual(['cmake>app:build', 'perl>app:build', 'python>app:build', 'zlib>app:build']);
    expect(g.unresolved).toEqual([]);
  });

  it('treats a package name, bare or as name(…), as an implied provider', () => {
    const g = buildGraph([recipe('a'), recipe('b', { build: ['name(a)'] }), recipe('c', { run: ['a'] })]);
    expect(pairs(g)).toEqual(['a>b:build', 'a>c:run']);
    expect(providerKey('name(a)')).toBe('a');
    expect(providerKey('soname(libz.so.1(x86_64))')).toBe('soname(libz.so.1(x86_64))');
  });

  it('gives an edge the strongest kind of the dependencies behind it and keeps the first of that kind as via', () => {
    const g = buildGraph([
      recipe('lib', { provides: ['soname(libx.so.1(x86_64))', 'pkgconfig(x)'] }),
      recipe('runonly', { run: ['soname(libx.so.1(x86_64))'] }),
      recipe('both', { run: ['soname(libx.so.1(x86_64))'], build: ['pkgconfig(x)'] }),
      recipe('tests', { check: ['pkgconfig(x)'], run: ['soname(libx.so.1(x86_64))'] }),
      recipe('testsonly', { check: ['pkgconfig(x)'] }),
    ]);
    expect(g.edges.map((e) => [e.to, e.kind, e.via])).toEqual([
      ['both', 'build', 'pkgconfig(x)'],
      ['runonly', 'run', 'soname(libx.so.1(x86_64))'],
      // Run outranks check: cutting it would also publish `tests` before what it needs at run time.
      ['tests', 'run', 'soname(libx.so.1(x86_64))'],
      ['testsonly', 'check', 'pkgconfig(x)'],
    ]);
  });

  it('names as via the first dependency of the edge\'s kind, across packages, and reads a repeated build list once', () => {
    const g = buildGraph([
      recipe('lib', { provides: ['soname(libx.so.1(x86_64))', 'pkgconfig(x)', 'binary(x)'] }),
      {
        source: 'app',
        packages: [
          // The first package needs the library at run time only (its soname comes first, but as a run
          // dependency); the next ones build against it, the third with the second's list again.
          { name: 'app', provides: [], depends: ['soname(libx.so.1(x86_64))'], buildDepends: [] },
          { name: 'app-devel', provides: [], depends: [], buildDepends: ['pkgconfig(x)', 'soname(libx.so.1(x86_64))'] },
          { name: 'app-docs', provides: [], depends: [], buildDepends: ['pkgconfig(x)', 'soname(libx.so.1(x86_64))'] },
        ],
      },
    ]);
    expect(g.edges.map((e) => [e.from, e.to, e.kind, e.via])).toEqual([['lib', 'app', 'build', 'pkgconfig(x)']]);
  });

  it('makes no edge for a dependency a recipe provides itself (a self-cycle is not a cycle)', () => {
    const g = buildGraph([
      recipe('rust', { provides: ['binary(rustc)'], build: ['binary(rustc)', 'rust'] }),
      recipe('other', { provides: ['binary(rustc)'] }),
    ]);
    expect(g.edges).toEqual([]);
    expect(g.unresolved).toEqual([]);
  });

  it('lists unresolved dependencies once, with who wants them, as external or missing', () => {
    const g = buildGraph(
      [recipe('a', { build: ['pkgconfig(gone)', 'binary(published)'] }), recipe('b', { run: ['pkgconfig(gone)'] })],
      { external: new Set(['binary(published)']) },
    );
    expect(g.unresolved).toEqual([
      { dependency: 'binary(published)', status: 'external', kind: 'build', wantedBy: ['a'] },
      { dependency: 'pkgconfig(gone)', status: 'missing', kind: 'build', wantedBy: ['a', 'b'] },
    ]);
    const byPredicate = buildGraph([recipe('a', { run: ['x'] })], { external: (d) => d === 'x' });
    expect(byPredicate.unresolved[0].status).toBe('external');
  });

  it('links a dependent to every provider of an ambiguous provider and reports the ambiguity', () => {
    const g = buildGraph([
      recipe('openssl', { provides: ['soname(libssl.so.3(x86_64))'] }),
      recipe('libressl', { provides: ['soname(libssl.so.3(x86_64))'] }),
      recipe('curl', { build: ['soname(libssl.so.3(x86_64))'] }),
    ]);
    expect(pairs(g)).toEqual(['libressl>curl:build', 'openssl>curl:build']);
    expect(g.ambiguous).toEqual([{ scope: '', provider: 'soname(libssl.so.3(x86_64))', nodes: ['libressl', 'openssl'] }]);
  });

  it('resolves only within the scopes a node sees', () => {
    const g = buildGraph(
      [
        { ...recipe('lib', { provides: ['pkgconfig(l)'] }), id: 'lib@base', scope: 'base' },
        { ...recipe('lib', { provides: ['pkgconfig(l)'] }), id: 'lib@v3', scope: 'v3' },
        { ...recipe('app', { build: ['pkgconfig(l)'] }), id: 'app@base', scope: 'base' },
        { ...recipe('app', { build: ['pkgconfig(l)'] }), id: 'app@v3', scope: 'v3' },
      ],
      { visibleScopes: (s) => (s === 'v3' ? ['v3', 'base'] : [s]) },
    );
    expect(pairs(g)).toEqual(['lib@base>app@base:build', 'lib@base>app@v3:build', 'lib@v3>app@v3:build']);
  });

  it('is independent of input order and indexes edges both ways', () => {
    const input = [recipe('c', { build: ['b'] }), recipe('a'), recipe('b', { build: ['a'], run: ['a'] })];
    const g = buildGraph(input);
    expect(buildGraph([...input].reverse()).edges).toEqual(g.edges);
    expect(g.nodes).toEqual(['a', 'b', 'c']);
    const out = (i: number) => Array.from(g.outEdges.subarray(g.outOffsets[i], g.outOffsets[i + 1]), (e) => g.edges[e].to);
    const into = (i: number) => Array.from(g.inEdges.subarray(g.inOffsets[i], g.inOffsets[i + 1]), (e) => g.edges[e].from);
    expect([out(0), out(1), out(2)]).toEqual([['b'], ['c'], []]);
    expect([into(0), into(1), into(2)]).toEqual([[], ['a'], ['b']]);
  });

  it('refuses two recipes with the same id', () => {
    expect(() => buildGraph([recipe('a'), recipe('a')])).toThrow(GraphInputError);
  });
});
