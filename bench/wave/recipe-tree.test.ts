import { parseRecipe } from '../../core/formats/recipe';
import { CYCLE_SIZE, dependenciesOf, generateRecipeTree, recipeYaml } from './recipe-tree';

describe('the wave benchmark recipe tree', () => {
  it.each([8, 20, 50, 100, 1000])('has exactly %d recipes, unique names, every dependency inside the tree', (n) => {
    const tree = generateRecipeTree({ packages: n });
    expect(tree).toHaveLength(n);
    const names = new Set(tree.map((r) => r.name));
    expect(names.size).toBe(n);
    for (const deps of dependenciesOf(tree).values()) for (const d of deps) expect(names.has(d)).toBe(true);
  });

  it('is layered with fan-in: base recipes need nothing, popular ones are needed by many', () => {
    const tree = generateRecipeTree({ packages: 100 });
    expect(tree.filter((r) => r.layer === 'base').every((r) => r.builddeps.length === 0)).toBe(true);
    const needed = new Map<string, number>();
    for (const r of tree) for (const d of r.builddeps) needed.set(d, (needed.get(d) ?? 0) + 1);
    const top = Math.max(...tree.filter((r) => r.layer === 'popular').map((r) => needed.get(r.name) ?? 0));
    expect(top).toBeGreaterThanOrEqual(10);
    expect(tree.some((r) => r.compiles)).toBe(true);
  });

  it('has one cycle of three closed by a run-time edge, or none when asked', () => {
    const cyc = generateRecipeTree({ packages: 50 }).filter((r) => r.layer === 'cycle');
    expect(cyc).toHaveLength(CYCLE_SIZE);
    expect(cyc.flatMap((r) => r.rundeps)).toEqual(['wb-cyc-a']);
    expect(generateRecipeTree({ packages: 50, cycle: false }).filter((r) => r.layer === 'cycle')).toHaveLength(0);
  });

  it('is the same for the same seed', () => {
    expect(generateRecipeTree({ packages: 60, seed: 3 })).toEqual(generateRecipeTree({ packages: 60, seed: 3 }));
  });

  it('writes recipes that parse, with their dependencies', () => {
    for (const r of generateRecipeTree({ packages: 30 })) {
      const { recipe } = parseRecipe(recipeYaml(r), `${r.name}/stone.yaml`);
      expect(recipe.source.name).toBe(r.name);
    }
  });
});
