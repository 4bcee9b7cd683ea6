import { rebuildCascade } from './cascade';
import { buildGraph } from './graph';
import { RecipeNode } from './recipe';

function recipe(source: string, deps: { build?: string[]; run?: string[]; check?: string[] } = {}): RecipeNode {
  return {
    source,
    packages: [{ name: source, provides: [], depends: deps.run ?? [], buildDepends: [...(deps.build ?? []), ...(deps.check ?? [])] }],
    checkDepends: deps.check,
  };
}

describe('rebuildCascade', () => {
  // openssl <- curl (build) <- git (run); openssl <- python (check only); curl <- cmake (build)
  const g = buildGraph([
    recipe('openssl'),
    recipe('curl', { build: ['openssl'] }),
    recipe('git', { run: ['curl'] }),
    recipe('python', { check: ['openssl'] }),
    recipe('cmake', { build: ['curl'] }),
    recipe('unrelated'),
  ]);

  it('lists direct dependents by default', () => {
    expect(rebuildCascade(g, ['openssl'])).toEqual({ rebuild: [{ id: 'curl', depth: 1, cause: 'openssl' }], unknown: [] });
  });

  it('follows dependents of dependents when transitive', () => {
    expect(rebuildCascade(g, ['openssl'], { transitive: true }).rebuild).toEqual([
      { id: 'curl', depth: 1, cause: 'openssl' },
      { id: 'cmake', depth: 2, cause: 'openssl' },
      { id: 'git', depth: 2, cause: 'openssl' },
    ]);
  });

  it('can include check-only dependents and restrict to build edges', () => {
    expect(rebuildCascade(g, ['openssl'], { kinds: ['build', 'check'] }).rebuild.map((e) => e.id)).toEqual(['curl', 'python']);
    expect(rebuildCascade(g, ['curl'], { kinds: ['build'], transitive: true }).rebuild.map((e) => e.id)).toEqual(['cmake']);
  });

  it('never lists a changed recipe and reports unknown ones', () => {
    expect(rebuildCascade(g, ['openssl', 'curl', 'nope'], { transitive: true })).toEqual({
      rebuild: [
        { id: 'cmake', depth: 1, cause: 'curl' },
        { id: 'git', depth: 1, cause: 'curl' },
      ],
      unknown: ['nope'],
    });
  });
});
