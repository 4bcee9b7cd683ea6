import { buildVariantGraph, Profile, variantScopes } from './variants';
import { GraphInputError } from './graph';
import { planOrder } from './order';
import { RecipeNode } from './recipe';

function recipe(source: string, build: string[] = []): RecipeNode {
  return { source, packages: [{ name: source, provides: [], depends: [], buildDepends: build }] };
}

const SERPENT: Profile = {
  variants: [
    { id: 'x86_64', index: 'volatile/x86_64' },
    { id: 'x86_64-v3x', index: 'volatile/x86_64-v3x', layersOn: 'x86_64', only: ['zlib', 'app'] },
  ],
};

describe('ISA variant fan-out', () => {
  const recipes = [recipe('zlib'), recipe('make'), recipe('app', ['zlib', 'make'])];

  it('makes one task per variant a recipe is built for, each carrying its variant and index', () => {
    const { tasks } = buildVariantGraph(recipes, SERPENT);
    expect(tasks).toEqual([
      { id: 'app@x86_64', source: 'app', variant: 'x86_64', index: 'volatile/x86_64' },
      { id: 'app@x86_64-v3x', source: 'app', variant: 'x86_64-v3x', index: 'volatile/x86_64-v3x' },
      { id: 'make@x86_64', source: 'make', variant: 'x86_64', index: 'volatile/x86_64' },
      { id: 'zlib@x86_64', source: 'zlib', variant: 'x86_64', index: 'volatile/x86_64' },
      { id: 'zlib@x86_64-v3x', source: 'zlib', variant: 'x86_64-v3x', index: 'volatile/x86_64-v3x' },
    ]);
  });

  it('lets a variant task depend on baseline and same-variant tasks, and never a baseline task on a variant', () => {
    const { graph } = buildVariantGraph(recipes, SERPENT);
    expect(graph.edges.map((e) => `${e.from} > ${e.to}`)).toEqual([
      'make@x86_64 > app@x86_64',
      'zlib@x86_64 > app@x86_64',
      'make@x86_64 > app@x86_64-v3x',
      'zlib@x86_64 > app@x86_64-v3x',
      'zlib@x86_64-v3x > app@x86_64-v3x',
    ]);
    expect(graph.edges.filter((e) => e.to.endsWith('@x86_64') && e.from.endsWith('-v3x'))).toEqual([]);
    expect(planOrder(graph).batches).toEqual([['make@x86_64', 'zlib@x86_64', 'zlib@x86_64-v3x'], ['app@x86_64', 'app@x86_64-v3x']]);
  });

  it('refuses a profile whose layering is broken', () => {
    expect(() => variantScopes({ variants: [{ id: 'v3', index: 'i', layersOn: 'nope' }] })).toThrow(GraphInputError);
    expect(() => variantScopes({ variants: [{ id: 'a', index: 'i', layersOn: 'b' }, { id: 'b', index: 'j', layersOn: 'a' }] })).toThrow(/loop/);
    expect(() => variantScopes({ variants: [{ id: 'a', index: 'i' }, { id: 'a', index: 'j' }] })).toThrow(/twice/);
  });
});
