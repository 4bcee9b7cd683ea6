import { performance } from 'node:perf_hooks';
import { uniformFarm } from '../core/graph/builder';
import { dagFromGraph } from '../core/graph/critical-path';
import { modelDuration } from '../core/graph/durations';
import { DependencyGraph, buildGraph } from '../core/graph/graph';
import { BuildOrder, planOrder } from '../core/graph/order';
import { checkPlan } from '../core/graph/plan-check';
import { RecipeNode } from '../core/graph/recipe';
import { simulate } from '../core/graph/simulator/simulator';
import { syntheticTree } from '../core/graph/synthetic-tree';

/**
 * Real-size cycles (issue 11 item 5): trees shaped like a distribution whose toolchain bootstrap is one
 * strongly connected component of 600 recipes (core/graph/synthetic-tree.ts), at 2,000 and 50,000 recipes.
 * Prints graph + order (bootstrap plans included) against the targets, whether the plans are valid, and the
 * simulator's critical-path policy against the lower bound. Figures only, never assertions.
 *
 * Times are the median of warm runs, both wall clock and process CPU time: on a shared, loaded machine the CPU
 * time is the steadier figure of the two. Warm means after unmeasured warm-up runs, as in a hub that plans the
 * same repository again and again: the first few runs of a fresh process are the JIT's (the first is printed).
 * Process CPU time includes V8's compiler and garbage-collector threads, so it can exceed the wall time.
 */
interface Timing {
  wall: number;
  cpu: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function time<T>(fn: () => T): { result: T } & Timing {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const result = fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { result, wall, cpu: (c.user + c.system) / 1000 };
}

function medianTiming(runs: Timing[]): Timing {
  return { wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)) };
}

const f = (ms: number): string => (ms < 100 ? ms.toFixed(1) : ms.toFixed(0));

function describe(graph: DependencyGraph, order: BuildOrder): string[] {
  const byKind = { build: 0, check: 0, run: 0 };
  for (const e of graph.edges) byKind[e.kind]++;
  const largest = order.cycles.reduce((a, c) => (c.members.length > a.members.length ? c : a), order.cycles[0]);
  const cutKinds = (['build', 'run', 'check'] as const).map((k) => `${largest.cut.filter((c) => c.kind === k).length} ${k}`).join(', ');
  const problems = checkPlan(graph, order);
  return [
    `${graph.nodes.length} recipes, ${graph.edgeFrom.length} edges (${byKind.build} build, ${byKind.run} run, ${byKind.check} check), ` +
      `${order.cycles.length} cycles, ${order.batches.length} batches`,
    `  largest cycle: ${largest.members.length} recipes, cut ${largest.cut.length} (${cutKinds}), ${largest.stages.length} stages, ` +
      `${largest.rebuild.length} rebuilt`,
    `  plans: ${problems.length === 0 ? 'valid' : `INVALID: ${problems.slice(0, 3).join('; ')}`}`,
  ];
}

function benchTree(recipes: RecipeNode[], warmUp: number, runs: number, target: number): void {
  const first = time(() => {
    const graph = buildGraph(recipes);
    return { graph, order: planOrder(graph) };
  });
  const { graph, order } = first.result;
  for (const line of describe(graph, order)) console.log(line);
  for (let i = 0; i < warmUp; i++) planOrder(buildGraph(recipes));
  const graphRuns: Timing[] = [];
  const orderRuns: Timing[] = [];
  for (let i = 0; i < runs; i++) {
    const g = time(() => buildGraph(recipes));
    graphRuns.push(g);
    orderRuns.push(time(() => planOrder(g.result)));
  }
  const g = medianTiming(graphRuns);
  const o = medianTiming(orderRuns);
  console.log(
    `  graph ${f(g.wall)} + order ${f(o.wall)} = ${f(g.wall + o.wall)} ms wall; CPU ${f(g.cpu)} + ${f(o.cpu)} = ${f(g.cpu + o.cpu)} ms ` +
      `(median of ${runs} after ${warmUp + 1} warm-up runs; first ${f(first.wall)} ms)   (target ≤ ${target} ms)`,
  );
}

function simulateRatios(recipes: RecipeNode[]): void {
  const graph = buildGraph(recipes);
  const order = planOrder(graph);
  const dag = dagFromGraph(graph, order.isCut);
  const tasks = graph.recipes.map((r) => ({ variant: 'x86_64', duration: modelDuration(r) }));
  const cells = [2, 4, 8, 16].map((builders) => {
    const r = simulate({ dag, tasks, builders: uniformFarm(builders, ['x86_64']), policy: 'critical-path' });
    return `${builders}: ${r.ratio.toFixed(3)} (${(r.makespan / r.classicBound).toFixed(3)})`;
  });
  console.log(
    `  critical-path makespan / lower bound (in brackets: / max(critical path, work ÷ slots)), by builders: ` +
      `${cells.join(', ')}   (target ≤ 1.050)`,
  );
}

export async function run(): Promise<void> {
  // Through JSON, so the strings are flat like those a manifest parser produces, not concatenation ropes.
  const small = JSON.parse(JSON.stringify(syntheticTree({ recipes: 2_000 }))) as RecipeNode[];
  console.log('bootstrap-shaped tree, 2,000 recipes:');
  benchTree(small, 20, 30, 20);
  simulateRatios(small);
  const large = JSON.parse(JSON.stringify(syntheticTree({ recipes: 50_000 }))) as RecipeNode[];
  console.log('bootstrap-shaped tree, 50,000 recipes:');
  benchTree(large, 1, 3, 1000);
  simulateRatios(large);
}
