import { buildGraph } from './graph';
import { BuildOrder, planOrder } from './order';
import { checkPlan } from './plan-check';
import { RecipeNode } from './recipe';
import { syntheticTree } from './synthetic-tree';
import { prng } from '../prng';

function recipe(source: string, deps: { build?: string[]; run?: string[]; check?: string[] } = {}): RecipeNode {
  return {
    source,
    packages: [{ name: source, provides: [], depends: deps.run ?? [], buildDepends: [...(deps.build ?? []), ...(deps.check ?? [])] }],
    checkDepends: deps.check,
  };
}

/** glibc ⇄ gcc (build both ways), gcc → python (run), python ⇄ pytest (check), and a dependent outside. */
function small(): RecipeNode[] {
  return [
    recipe('glibc', { build: ['gcc'] }),
    recipe('gcc', { build: ['glibc'], run: ['python'] }),
    recipe('python', { build: ['gcc'], check: ['pytest'] }),
    recipe('pytest', { build: ['python'] }),
    recipe('app', { build: ['python', 'glibc'] }),
  ];
}

function clone(order: BuildOrder): BuildOrder {
  return {
    batches: order.batches.map((b) => [...b]),
    batchOf: order.batchOf.slice(),
    isCut: order.isCut.slice(),
    cycles: order.cycles.map((c) => ({ members: [...c.members], cut: c.cut.map((e) => ({ ...e })), stages: c.stages.map((s) => [...s]), rebuild: [...c.rebuild] })),
  };
}

describe('checkPlan', () => {
  const graph = buildGraph(small());
  const order = planOrder(graph);

  it('finds nothing wrong with the planner’s own order', () => {
    expect(order.cycles).toHaveLength(1);
    expect(checkPlan(graph, order)).toEqual([]);
  });

  it.each<[string, (o: BuildOrder) => void, string]>([
    ['a node in two batches', (o) => o.batches[o.batches.length - 1].push(o.batches[0][0]), 'is in batches'],
    ['a kept edge against the batches', (o) => o.batches.reverse(), 'does not go to a later batch'],
    ['a cut edge with the wrong via', (o) => (o.cycles[0].cut[0].via = 'something else'), 'the graph says via'],
    ['a cut edge that is not an edge', (o) => o.cycles[0].cut.push({ from: 'app', to: 'glibc', kind: 'build', via: 'app' }), 'not an edge between members'],
    ['a member missing from the stages', (o) => o.cycles[0].stages.pop(), 'in no stage'],
    ['stages against a kept edge', (o) => o.cycles[0].stages.reverse(), 'does not go to a later stage'],
    ['a wrong rebuild list', (o) => o.cycles[0].rebuild.push('app'), 'rebuild lists'],
    ['a cut nobody names', (o) => (o.isCut[o.isCut.indexOf(0)] = 1), 'which no plan cuts'],
  ])('reports %s', (_, damage, message) => {
    const broken = clone(order);
    damage(broken);
    expect(checkPlan(graph, broken).join('\n')).toContain(message);
  });

  it('reports a cut that closes no cycle', () => {
    // Cutting every internal edge leaves the order valid but the cuts not minimal.
    const broken = clone(order);
    const { edges } = graph;
    const members = new Set(broken.cycles[0].members);
    broken.cycles[0].cut = edges.filter((e) => members.has(e.from) && members.has(e.to)).map((e) => ({ ...e }));
    edges.forEach((e, i) => (broken.isCut[i] = members.has(e.from) && members.has(e.to) ? 1 : 0));
    broken.cycles[0].rebuild = [];
    const problems = checkPlan(graph, broken).join('\n');
    expect(problems).toContain('closes no cycle');
    expect(checkPlan(graph, broken, { minimality: false }).join('\n')).not.toContain('closes no cycle');
  });
});

describe('plans on random graphs', () => {
  it('are valid, with every cut necessary, for dense random graphs of every kind mix', () => {
    const rand = prng(5);
    for (let round = 0; round < 40; round++) {
      const n = 10 + Math.floor(rand() * 60);
      const pick = (): string[] => Array.from({ length: Math.floor(rand() * 4) }, () => `r${Math.floor(rand() * n)}`);
      const recipes = Array.from({ length: n }, (_, i) => recipe(`r${i}`, { build: pick(), run: pick(), check: rand() < 0.3 ? pick() : [] }));
      const graph = buildGraph(recipes);
      expect(checkPlan(graph, planOrder(graph))).toEqual([]);
    }
  });
});

describe('plans on generated bootstrap-shaped trees', () => {
  it.each([
    [300, 120, 1],
    [2_000, 600, 11],
  ])('are valid for %i recipes with a core of %i (seed %i)', (recipes, core, seed) => {
    const graph = buildGraph(syntheticTree({ recipes, core, seed }));
    const order = planOrder(graph);
    const largest = Math.max(...order.cycles.map((c) => c.members.length));
    expect(largest).toBe(core);
    expect(graph.edges.some((e) => e.kind === 'check')).toBe(true);
    expect(checkPlan(graph, order)).toEqual([]);
  });
});
