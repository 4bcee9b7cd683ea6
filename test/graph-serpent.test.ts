import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { graph as graphCommand, graphAndOrder, loadRecipes, simulate as simulateCommand } from '../cli/graph';
import { CliIo, UsageError } from '../cli/io';
import { FormatError } from '../core/formats/errors';
import { uniformFarm } from '../core/graph/builder';
import { dagFromGraph } from '../core/graph/critical-path';
import { modelDuration } from '../core/graph/durations';
import { DependencyGraph } from '../core/graph/graph';
import { BuildOrder } from '../core/graph/order';
import { RecipeNode } from '../core/graph/recipe';
import { checkPlan } from '../core/graph/plan-check';
import { stronglyConnected } from '../core/graph/scc';
import { POLICY_NAMES, PolicyName } from '../core/graph/simulator/policies';
import { simulate, SimulationResult } from '../core/graph/simulator/simulator';
import { describeWithCorpus, RECIPES_SERPENT } from './support/corpus';

function collect(): CliIo & { text: () => string } {
  const out: string[] = [];
  return { out: (t) => out.push(t), err: (t) => out.push(t), text: () => out.join('\n') };
}

describeWithCorpus(RECIPES_SERPENT, 'the dependency graph of the 835 real Serpent OS recipes', () => {
  let recipes: RecipeNode[];
  let graph: DependencyGraph;
  let order: BuildOrder;

  beforeAll(async () => {
    ({ recipes } = await loadRecipes(RECIPES_SERPENT));
    ({ graph, order } = graphAndOrder(recipes));
  });

  it('reads every recipe from its manifest.x86_64.bin and reports the graph', () => {
    expect(graph.nodes).toHaveLength(835);
    const byKind = { build: 0, check: 0, run: 0 };
    for (const e of graph.edges) byKind[e.kind]++;
    console.log(
      [
        `recipes: ${graph.nodes.length}`,
        `edges: ${graph.edges.length} (${byKind.build} build, ${byKind.run} run, ${byKind.check} check)`,
        `batches: ${order.batches.length}`,
        `cycles: ${order.cycles.length} (${order.cycles.map((c) => `${c.members.length} members, ${c.cut.length} cut`).join('; ')})`,
        `unresolved providers: ${graph.unresolved.length} (${graph.unresolved.map((u) => u.dependency).join(', ')})`,
      ].join('\n'),
    );
    expect(graph.edges.length).toBeGreaterThan(4000);
    // stone.yaml checkdeps (icu, python, …) join as check edges; manifests alone cannot tell them apart.
    expect(graph.edges.filter((e) => e.kind === 'check' && e.to === 'icu').map((e) => e.via)).toEqual(['binary(python3)']);
  });

  it('honours every edge in the build order except the ones a bootstrap plan cuts', () => {
    const batch = new Map<string, number>();
    order.batches.forEach((names, i) => names.forEach((n) => batch.set(n, i)));
    expect(batch.size).toBe(835);
    const cut = new Set(order.cycles.flatMap((c) => c.cut.map((e) => `${e.from}>${e.to}`)));
    let checked = 0;
    const violations: string[] = [];
    graph.edges.forEach((e, i) => {
      expect(Boolean(order.isCut[i])).toBe(cut.has(`${e.from}>${e.to}`));
      if (order.isCut[i]) return;
      checked++;
      if (batch.get(e.from)! >= batch.get(e.to)!) violations.push(`${e.from} > ${e.to} (${e.kind})`);
    });
    expect(violations).toEqual([]);
    expect(checked + cut.size).toBe(graph.edges.length);
  });

  it('reports every cycle with its members and a plan that breaks it', () => {
    const { components } = stronglyConnected(graph.nodes.length, graph.outOffsets, graph.outEdges, graph.edgeTo);
    const cycles = components.filter((c) => c.length > 1).map((c) => c.map((i) => graph.nodes[i]));
    expect(order.cycles.map((c) => c.members)).toEqual(cycles);
    expect(cycles.length).toBeGreaterThan(0);
    for (const plan of order.cycles) {
      expect(plan.cut.length).toBeGreaterThan(0);
      expect(plan.stages.flat().sort()).toEqual([...plan.members].sort());
      for (const c of plan.cut) expect(plan.members).toEqual(expect.arrayContaining([c.from, c.to]));
      const rebuildable = new Set(plan.cut.filter((c) => c.kind !== 'run').map((c) => c.to));
      expect(new Set(plan.rebuild)).toEqual(rebuildable);
    }
    const left = stronglyConnected(graph.nodes.length, graph.outOffsets, graph.outEdges, graph.edgeTo, (e) => !order.isCut[e]);
    expect(left.components.filter((c) => c.length > 1)).toEqual([]);
  });

  it('passes the plan checker: cuts named and necessary, stages and rebuild lists right', () => {
    expect(checkPlan(graph, order)).toEqual([]);
  });

  describe('simulated on a farm with the default duration model', () => {
    const run = (policy: PolicyName, builders: number): SimulationResult =>
      simulate({
        dag: dagFromGraph(graph, order.isCut),
        tasks: graph.recipes.map((r) => ({ variant: 'x86_64', duration: modelDuration(r) })),
        builders: uniformFarm(builders, ['x86_64']),
        policy,
      });

    it('critical-path stays within 5% of the lower bound on 2, 4, 8 and 16 builders and beats both hubs’ policies', () => {
      for (const builders of [2, 8, 16]) expect(run('critical-path', builders).ratio).toBeLessThanOrEqual(1.05);
      const cp = run('critical-path', 4);
      expect(cp.makespan).toBeLessThanOrEqual(1.05 * cp.lowerBound);
      expect(cp.makespan).toBeLessThan(run('aeryn', 4).makespan);
      expect(cp.makespan).toBeLessThan(run('first-idle', 4).makespan);
    });

    it('prints the figures for 2, 4, 8 and 16 builders', () => {
      const rows = [`builders  ${POLICY_NAMES.map((p) => p.padEnd(34)).join('')}`];
      for (const n of [2, 4, 8, 16]) {
        const cells = POLICY_NAMES.map((p) => {
          const r = run(p, n);
          return `${r.makespan} / ${Math.round(r.lowerBound)} = ${r.ratio.toFixed(4)} (${(r.utilisation * 100).toFixed(1)}%)`.padEnd(34);
        });
        rows.push(`${String(n).padEnd(10)}${cells.join('')}`);
      }
      console.log(`makespan / lower bound = ratio (utilisation), seconds\n${rows.join('\n')}`);
    });
  });
});

describeWithCorpus(RECIPES_SERPENT, 'summit graph and summit simulate on the real recipes', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'summit-graph-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('summit graph --json reports recipes, edges, unresolved, order, cycles and timings', async () => {
    const io = collect();
    expect(await graphCommand([RECIPES_SERPENT, '--json'], io)).toBe(0);
    const report = JSON.parse(io.text());
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['recipes', 'edges', 'unresolved', 'order', 'cycles', 'elapsedMs', 'parseMs']));
    expect(report.recipes).toBe(835);
    expect(report.edgesByKind.check).toBeGreaterThan(0);
    expect(report.order.flat()).toHaveLength(835);
    expect(report.cycles[0]).toEqual({ members: expect.any(Array), cut: expect.any(Array), stages: expect.any(Array), rebuild: expect.any(Array) });
    expect(report.cycles[0].cut[0]).toEqual({ from: expect.any(String), to: expect.any(String), kind: expect.any(String), via: expect.any(String) });
    expect(report.unresolved[0]).toEqual({ dependency: expect.any(String), status: 'missing', kind: expect.any(String), wantedBy: expect.any(Array) });
  });

  it('summit simulate --json reports the makespan against the lower bound, from a durations file too', async () => {
    const io = collect();
    expect(await simulateCommand([RECIPES_SERPENT, '--builders', '4', '--policy', 'aeryn', '--json'], io)).toBe(0);
    expect(JSON.parse(io.text())).toMatchObject({ policy: 'aeryn', builders: 4, makespan: expect.any(Number), lowerBound: expect.any(Number), ratio: expect.any(Number), utilisation: expect.any(Number) });

    const file = join(dir, 'durations.json');
    await writeFile(file, JSON.stringify({ glibc: [3000, 3600, 3300], llvm: 7200 }));
    const withHistory = collect();
    expect(await simulateCommand([RECIPES_SERPENT, '--builders', '2', '--durations', file, '--json'], withHistory)).toBe(0);
    expect(JSON.parse(withHistory.text())).toMatchObject({ policy: 'critical-path', builders: 2, durations: 'history' });
  });

  it('rejects bad arguments and names a bad durations file and its problem', async () => {
    await expect(simulateCommand([RECIPES_SERPENT], collect())).rejects.toThrow(UsageError);
    await expect(simulateCommand([RECIPES_SERPENT, '--builders', '0'], collect())).rejects.toThrow('--builders must be a whole number');
    await expect(simulateCommand([RECIPES_SERPENT, '--builders', '2', '--policy', 'fifo'], collect())).rejects.toThrow('--policy must be one of');
    const notJson = join(dir, 'broken.json');
    await writeFile(notJson, '{ "glibc": ');
    await expect(simulateCommand([RECIPES_SERPENT, '--builders', '2', '--durations', notJson], collect())).rejects.toThrow(FormatError);
    await expect(simulateCommand([RECIPES_SERPENT, '--builders', '2', '--durations', notJson], collect())).rejects.toThrow(`${notJson}: not valid JSON`);
    const wrong = join(dir, 'wrong.json');
    await writeFile(wrong, JSON.stringify({ glibc: 'an hour' }));
    await expect(simulateCommand([RECIPES_SERPENT, '--builders', '2', '--durations', wrong], collect())).rejects.toThrow(`${wrong}: "glibc": "an hour" is not a duration`);
  });
});
