import { prng } from '../prng';
import { RecipeNode } from './recipe';

/**
 * Generated recipe trees with the shape of a real distribution, for benchmarks and for tests of the planner at a
 * size the fixtures do not reach. Seeded, so every run sees the same tree.
 *
 * The shape follows the real Serpent tree read through this graph code (835 recipes, 5,472 edges: 70 % build,
 * 30 % run; a recipe needs p50 4 / p90 14 / p99 42 others; a popular library is needed by up to 692; 162 leaves;
 * one 150-recipe core cycle with ~3 internal build and ~1.3 run edges per member, four cycles of 3–4) and the
 * issue's description of a bigger distribution (~1,700 recipes, ~15,000 edges, one ~600-recipe cycle):
 * - a toolchain core of `core` recipes (the first ones) forming one strongly connected component: each member
 *   builds with a few earlier members (power law: the first are the compilers and libc everything needs), and
 *   each is needed by one earlier member, at run time mostly, at build time or by its checks otherwise (the
 *   back edges a bootstrap must cut), plus a few random extra links of every kind inside the core;
 * - the rest in layers: half of a recipe's dependencies on popular recipes (power law over the first 800),
 *   half on any earlier recipe; about 30 % of them needed at run time only; a few recipes with check-only
 *   dependencies (test suites needing a later recipe: the python-pytest pattern);
 * - one recipe in a hundred forming a small cycle with a later recipe (run time one way, build the other);
 * - leaves: nothing depends on the last few percent; a few dependencies nobody provides.
 */
export interface SyntheticTreeOptions {
  recipes: number;
  /** Members of the toolchain cycle; default 600 (at most `recipes`). */
  core?: number;
  /** Mean dependencies per recipe outside the core; default 9 (about 15,000 edges at 1,700 recipes). */
  meanDependencies?: number;
  seed?: number;
}

export function syntheticTree(options: SyntheticTreeOptions): RecipeNode[] {
  const n = options.recipes;
  const core = Math.min(options.core ?? 600, n);
  const mean = options.meanDependencies ?? 9;
  const rand = prng(options.seed ?? 11);
  const pick = (below: number): number => Math.floor(rand() * below);
  const name = (i: number): string => `r${String(i).padStart(6, '0')}`;
  const soname = (i: number): string => `soname(lib${name(i)}.so.1(x86_64))`;
  // How a dependent names recipe i: like real manifests, mostly by soname or pkgconfig, sometimes by binary.
  const provider = (i: number): string => {
    const kind = pick(4);
    return kind === 0 || kind === 3 ? soname(i) : kind === 1 ? `pkgconfig(${name(i)})` : `binary(${name(i)})`;
  };
  // A popular recipe below `limit`: cubic power law, so the first few are needed by a large share of the tree.
  const popular = (limit: number): number => Math.floor(limit * rand() ** 3);

  const build: string[][] = Array.from({ length: n }, () => []);
  const run: string[][] = Array.from({ length: n }, () => []);
  const check: string[][] = Array.from({ length: n }, () => []);
  const add = (target: number, source: number, kind: 'build' | 'run' | 'check'): void => {
    if (source === target) return;
    if (kind === 'build') build[target].push(provider(source));
    else if (kind === 'run') run[target].push(soname(source));
    else check[target].push(`binary(${name(source)})`);
  };

  for (let i = 0; i < core; i++) {
    // Forward: a few earlier members to build with, and about a third of those at run time too.
    if (i > 0) {
      const count = 1 + pick(Math.min(i, 5));
      for (let d = 0; d < count; d++) {
        const dep = d === 0 ? i - 1 - pick(Math.min(i, 8)) : popular(i);
        add(i, dep, 'build');
      }
      // Run-time only links (libraries an emitted package loads, not needed to build it).
      if (rand() < 0.8) add(i, popular(i), 'run');
      // Backward: one earlier member needs this one, which closes the core into one component.
      const needer = rand() < 0.5 ? pick(i) : popular(i);
      const r = rand();
      add(needer, i, r < 0.6 ? 'run' : r < 0.85 ? 'build' : 'check');
    }
    // A few extra links anywhere in the core, of every kind.
    if (rand() < 0.3) {
      const r = rand();
      add(i, pick(core), r < 0.5 ? 'run' : r < 0.8 ? 'build' : 'check');
    }
  }

  for (let i = core; i < n; i++) {
    // Geometric-ish count with the requested mean and a long tail (real p99: 42).
    const count = Math.min(i, Math.round(-Math.log(1 - rand()) * mean));
    for (let d = 0; d < count; d++) {
      const dep = rand() < 0.5 ? popular(Math.min(i, 800)) : pick(i);
      // About 30 % of real edges are run-time only: a library an emitted package loads but the build never saw.
      add(i, dep, rand() < 0.3 ? 'run' : 'build');
    }
    // Test suites needing a later recipe (check only), and small cycles with a later recipe.
    if (i % 50 === 13 && i + 30 < n) add(i, i + 1 + pick(30), 'check');
    if (i % 100 === 7 && i + 21 < n) {
      const j = i + 1 + pick(20);
      add(i, j, 'run');
      add(j, i, 'build');
    }
    if (i % 997 === 0) build[i].push(`pkgconfig(missing-${i})`);
  }

  return Array.from({ length: n }, (_, i) => {
    const packages = 1 + pick(3);
    // boulder records builddeps and checkdeps together as every package's build dependencies.
    const buildDepends = [...build[i], ...check[i]];
    return {
      source: name(i),
      ...(check[i].length > 0 ? { checkDepends: check[i] } : {}),
      packages: Array.from({ length: packages }, (_, p) => ({
        name: p === 0 ? name(i) : `${name(i)}-${['devel', 'docs'][p - 1]}`,
        provides: p === 0 ? [soname(i), `binary(${name(i)})`, `pkgconfig(${name(i)})`] : [],
        depends: p === 0 ? run[i] : [],
        buildDepends,
      })),
    };
  });
}
