import { buildGraph, DependencyGraph } from './graph';
import { planOrder } from './order';
import { RecipeNode } from './recipe';
import { stronglyConnected } from './scc';

function recipe(source: string, deps: { build?: string[]; run?: string[]; check?: string[] } = {}): RecipeNode {
  return {
    source,
    packages: [{ name: source, provides: [], depends: deps.run ?? [], buildDepends: [...(deps.build ?? []), ...(deps.check ?? [])] }],
    checkDepends: deps.check,
  };
}

/** Every edge not cut goes from an earlier batch to a later one. */
function expectOrderHonoured(g: DependencyGraph, order: ReturnType<typeof planOrder>): void {
  const batch = new Map<string, number>();
  order.batches.forEach((names, i) => names.forEach((n) => batch.set(n, i)));
  expect(batch.size).toBe(g.nodes.length);
  g.edges.forEach((e, i) => {
    if (!order.isCut[i]) expect(batch.get(e.from)!).toBeLessThan(batch.get(e.to)!);
  });
}

describe('planOrder', () => {
  it('orders a chain one recipe per batch', () => {
    const g = buildGraph([recipe('a'), recipe('b', { build: ['a'] }), recipe('c', { build: ['b'] }), recipe('d', { run: ['c'] })]);
    const order = planOrder(g);
    expect(order.batches).toEqual([['a'], ['b'], ['c'], ['d']]);
    expect(order.cycles).toEqual([]);
  });

  it('puts the two sides of a diamond in one batch', () => {
    const g = buildGraph([recipe('top'), recipe('left', { build: ['top'] }), recipe('right', { build: ['top'] }), recipe('bottom', { build: ['left', 'right'] })]);
    expect(planOrder(g).batches).toEqual([['top'], ['left', 'right'], ['bottom']]);
  });

  it('orders disconnected parts side by side', () => {
    const g = buildGraph([recipe('a'), recipe('b', { build: ['a'] }), recipe('x'), recipe('y', { build: ['x'] }), recipe('lonely')]);
    expect(planOrder(g).batches).toEqual([['a', 'lonely', 'x'], ['b', 'y']]);
  });

  it('breaks a 2-cycle of build edges by cutting one and rebuilding its target', () => {
    const g = buildGraph([recipe('a', { build: ['b'] }), recipe('b', { build: ['a'] })]);
    const order = planOrder(g);
    expect(order.cycles).toEqual([
      { members: ['a', 'b'], cut: [{ from: 'b', to: 'a', kind: 'build', via: 'b' }], stages: [['a'], ['b']], rebuild: ['a'] },
    ]);
    expect(order.batches).toEqual([['a'], ['b']]);
    expectOrderHonoured(g, order);
  });

  it('breaks a 3-cycle with a single cut', () => {
    const g = buildGraph([recipe('a', { build: ['c'] }), recipe('b', { build: ['a'] }), recipe('c', { build: ['b'] }), recipe('after', { build: ['c'] })]);
    const order = planOrder(g);
    expect(order.cycles).toHaveLength(1);
    const [plan] = order.cycles;
    expect(plan.members).toEqual(['a', 'b', 'c']);
    expect(plan.cut).toHaveLength(1);
    expect(plan.stages).toHaveLength(3);
    expect(plan.rebuild).toEqual([plan.cut[0].to]);
    expect(order.batches[order.batches.length - 1]).toEqual(['after']);
    expectOrderHonoured(g, order);
  });

  it('cuts the run-time edge of a cycle that has one, and needs no rebuild for it', () => {
    // glibc needs bash to build; bash needs glibc only at run time.
    const g = buildGraph([recipe('glibc', { build: ['bash'] }), recipe('bash', { run: ['glibc'] }), recipe('coreutils', { build: ['bash'], run: ['glibc'] })]);
    const order = planOrder(g);
    expect(order.cycles).toEqual([
      { members: ['bash', 'glibc'], cut: [{ from: 'glibc', to: 'bash', kind: 'run', via: 'glibc' }], stages: [['bash'], ['glibc']], rebuild: [] },
    ]);
    expect(order.batches).toEqual([['bash'], ['glibc'], ['coreutils']]);
  });

  it('prefers cutting a check-only edge to a build edge', () => {
    const g = buildGraph([recipe('python', { check: ['pytest'] }), recipe('pytest', { build: ['python'] })]);
    const [plan] = planOrder(g).cycles;
    expect(plan.cut).toEqual([{ from: 'pytest', to: 'python', kind: 'check', via: 'pytest' }]);
    expect(plan.rebuild).toEqual(['python']);
  });

  it('cuts a check edge before a run edge when either would break the cycle', () => {
    // python's test suite needs pytest; pytest needs python to build and python-six at run time, which needs
    // python at run time: cutting the check edge alone breaks both cycles.
    const g = buildGraph([
      recipe('python', { check: ['pytest'] }),
      recipe('pytest', { build: ['python'], run: ['six'] }),
      recipe('six', { run: ['python'] }),
    ]);
    const [plan] = planOrder(g).cycles;
    expect(plan.cut).toEqual([{ from: 'pytest', to: 'python', kind: 'check', via: 'pytest' }]);
    expect(plan.rebuild).toEqual(['python']);
  });

  it('cuts only what it must: every cut edge, put back alone, closes a cycle', () => {
    // Two cycles sharing a node plus chords; the plan must leave the rest acyclic and cut nothing needlessly.
    const g = buildGraph([
      recipe('a', { build: ['d'], run: ['c'] }),
      recipe('b', { build: ['a'] }),
      recipe('c', { build: ['b'], run: ['e'] }),
      recipe('d', { build: ['c'] }),
      recipe('e', { build: ['c'], run: ['a'] }),
    ]);
    const order = planOrder(g);
    expectOrderHonoured(g, order);
    const cut = [...order.isCut.keys()].filter((e) => order.isCut[e]);
    expect(cut.length).toBeGreaterThan(0);
    for (const e of cut) {
      const keep = (x: number) => !order.isCut[x] || x === e;
      const { components } = stronglyConnected(g.nodes.length, g.outOffsets, g.outEdges, g.edgeTo, keep);
      expect(components.some((c) => c.length > 1)).toBe(true);
    }
    // Run edges go before build edges: a->... cycle through the run edges is broken at a run edge.
    expect(order.cycles[0].cut.some((c) => c.kind === 'run')).toBe(true);
  });

  it('honours every uncut edge on random graphs', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let round = 0; round < 20; round++) {
      const n = 30;
      const recipes = Array.from({ length: n }, (_, i) => {
        const pick = () => Array.from({ length: Math.floor(next() * 4) }, () => `r${Math.floor(next() * n)}`);
        return recipe(`r${i}`, { build: pick(), run: pick(), check: next() < 0.2 ? pick() : [] });
      });
      const g = buildGraph(recipes);
      const order = planOrder(g);
      expectOrderHonoured(g, order);
      for (const plan of order.cycles) expect(plan.stages.flat().sort()).toEqual([...plan.members].sort());
    }
  });

  it('handles a 50,000-recipe chain and a 50,000-recipe cycle without running out of stack', () => {
    const n = 50_000;
    const name = (i: number) => `p${String(i).padStart(5, '0')}`;
    const chain = Array.from({ length: n }, (_, i) => recipe(name(i), { build: i > 0 ? [name(i - 1)] : [] }));
    expect(planOrder(buildGraph(chain)).batches).toHaveLength(n);
    const ring = Array.from({ length: n }, (_, i) => recipe(name(i), { run: [name((i + n - 1) % n)] }));
    const order = planOrder(buildGraph(ring));
    expect(order.cycles).toHaveLength(1);
    expect(order.cycles[0].cut).toHaveLength(1);
    expect(order.batches).toHaveLength(n);
  });
});
