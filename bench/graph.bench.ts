import { prng } from '../core/prng';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { graphAndOrder, loadRecipes } from '../cli/graph';
import { uniformFarm } from '../core/graph/builder';
import { dagFromGraph } from '../core/graph/critical-path';
import { modelDuration } from '../core/graph/durations';
import { buildGraph } from '../core/graph/graph';
import { planOrder } from '../core/graph/order';
import { RecipeNode } from '../core/graph/recipe';
import { simulate } from '../core/graph/simulator/simulator';
import { RECIPES_SERPENT } from '../test/support/corpus-dir';

/**
 * Scheduling benchmarks (issue 4). Figures, not assertions; targets are printed beside them. Graph + order is
 * timed from parsed manifests: the first (cold, unoptimised) run, then the median of warm runs, which is what a
 * long-lived hub recomputing its queue pays.
 */
const RECIPES = [RECIPES_SERPENT].find(existsSync);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function timeRuns(runs: number, fn: () => void): { first: number; median: number } {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return { first: times[0], median: median(times.slice(1)) };
}


/**
 * A distro-shaped graph of `n` recipes: 1–3 packages each providing a soname, a pkgconfig and a binary;
 * build dependencies mostly on a popular core (low numbers) and some on recent recipes, run dependencies on a
 * few of the build ones; one recipe in a hundred also depends on a later one (small cycles, like the real
 * core), and a few dependencies nobody provides.
 */
export function generateDistro(n: number, seed = 4): RecipeNode[] {
  const rand = prng(seed);
  const pick = (below: number): number => Math.floor(rand() * below);
  const name = (i: number): string => `r${String(i).padStart(6, '0')}`;
  const provider = (i: number): string => {
    const kind = pick(4);
    return kind === 0 ? `soname(lib${name(i)}.so.1(x86_64))` : kind === 1 ? `pkgconfig(${name(i)})` : kind === 2 ? `binary(${name(i)})` : name(i);
  };
  // Cycles: recipe i (one in a hundred) needs a later recipe j at run time, and j needs i to build.
  const needsBack = new Map<number, number[]>();
  return Array.from({ length: n }, (_, i) => {
    const build: string[] = (needsBack.get(i) ?? []).map(name);
    const run: string[] = [];
    if (i > 0) {
      const count = 1 + pick(9);
      for (let k = 0; k < count; k++) {
        // Half on a core of popular recipes (a power law over the first ones), half on any earlier recipe.
        const dep = rand() < 0.5 ? Math.floor(Math.min(i, 500) * rand() ** 3) : pick(i);
        build.push(provider(dep));
        if (rand() < 0.4) run.push(`soname(lib${name(dep)}.so.1(x86_64))`);
      }
    }
    if (i % 100 === 7 && i + 21 < n) {
      const j = i + 1 + pick(20);
      run.push(name(j));
      needsBack.set(j, [...(needsBack.get(j) ?? []), i]);
    }
    if (i % 997 === 0) build.push(`pkgconfig(missing-${i})`);
    const packages = 1 + pick(3);
    return {
      source: name(i),
      packages: Array.from({ length: packages }, (_, p) => ({
        name: p === 0 ? name(i) : `${name(i)}-${['devel', 'docs'][p - 1]}`,
        provides: p === 0 ? [`soname(lib${name(i)}.so.1(x86_64))`, `binary(${name(i)})`, `pkgconfig(${name(i)})`] : [],
        depends: run,
        buildDepends: build,
      })),
    };
  });
}

export async function run(): Promise<void> {
  if (!RECIPES) throw new Error(`recipes-serpent corpus not found at ${RECIPES_SERPENT}: set SUMMIT_CORPUS_DIR`);
  const { recipes, parseMs } = await loadRecipes(RECIPES);
  const real = graphAndOrder(recipes);
  console.log(`serpent: ${recipes.length} recipes, ${real.graph.edges.length} edges, ${real.order.cycles.length} cycles; parse ${parseMs.toFixed(0)} ms`);
  const t835 = timeRuns(51, () => planOrder(buildGraph(recipes)));
  console.log(`  graph + order: first ${t835.first.toFixed(1)} ms, warm median ${t835.median.toFixed(2)} ms   (target ≤ 20 ms)`);
  const dag = dagFromGraph(real.graph, real.order.isCut);
  const tasks = real.graph.recipes.map((r) => ({ variant: 'x86_64', duration: modelDuration(r) }));
  const sim = timeRuns(6, () => simulate({ dag, tasks, builders: uniformFarm(4, ['x86_64']), policy: 'critical-path' }));
  console.log(`  simulate (critical-path, 4 builders): warm median ${sim.median.toFixed(1)} ms`);

  // Through JSON, so the strings are flat like those a manifest parser produces, not concatenation ropes.
  const generated = JSON.parse(JSON.stringify(generateDistro(50_000))) as RecipeNode[];
  const g = buildGraph(generated);
  const o = planOrder(g);
  console.log(`generated: ${generated.length} recipes, ${g.edges.length} edges, ${o.cycles.length} cycles, ${o.batches.length} batches, ${g.unresolved.length} unresolved`);
  const tBuild = timeRuns(4, () => buildGraph(generated));
  const tOrder = timeRuns(4, () => planOrder(g));
  console.log(
    `  graph ${tBuild.median.toFixed(0)} ms + order ${tOrder.median.toFixed(0)} ms = ${(tBuild.median + tOrder.median).toFixed(0)} ms warm ` +
      `(first ${(tBuild.first + tOrder.first).toFixed(0)} ms)   (target ≤ 1000 ms)`,
  );
}
