import { BuilderSpec, uniformFarm } from '../builder';
import { dagFromPairs, TaskDag } from '../critical-path';
import { dagFromGraph } from '../critical-path';
import { modelDuration } from '../durations';
import { GraphInputError, buildGraph } from '../graph';
import { planOrder } from '../order';
import { syntheticTree } from '../synthetic-tree';
import { POLICY_NAMES, sizeClassesByDuration } from './policies';
import { SimTask, simulate } from './simulator';

/** Build a DAG from `from>to` strings over ids sorted by name, with durations per id. */
function graph(durations: Record<string, number>, edges: string[] = [], variant = 'x86_64'): { dag: TaskDag; tasks: SimTask[] } {
  const ids = Object.keys(durations).sort();
  const index = new Map(ids.map((id, i) => [id, i]));
  const pairs = edges.map((e) => e.split('>').map((x) => index.get(x)!) as [number, number]);
  return { dag: dagFromPairs(ids, pairs), tasks: ids.map((id) => ({ variant, duration: durations[id] })) };
}

describe('simulate', () => {
  // A chain of three 2-hour builds and two independent 3-hour ones on two builders. Optimal: one builder takes
  // the chain (6), the other both big ones (6) — the lower bound. Size-first and topological-first both start
  // the two big builds and leave the chain for later.
  const chainAndBig = graph({ b1: 3, b2: 3, c1: 2, c2: 2, c3: 2 }, ['c1>c2', 'c2>c3']);

  it('reaches the optimum with critical-path priority where the hubs’ policies do not', () => {
    const results = Object.fromEntries(
      POLICY_NAMES.map((policy) => [policy, simulate({ ...chainAndBig, builders: uniformFarm(2, ['x86_64']), policy })]),
    );
    expect(results['critical-path']).toMatchObject({ makespan: 6, lowerBound: 6, ratio: 1, utilisation: 1, criticalPath: 6, totalWork: 12 });
    expect(results.aeryn.makespan).toBe(9);
    expect(results['first-idle'].makespan).toBe(9);
    expect(results.aeryn.utilisation).toBeCloseTo(12 / 18);
  });

  it('never reports a lower bound above a schedule it found, on random graphs', () => {
    let seed = 3;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let round = 0; round < 30; round++) {
      const n = 40;
      const ids = Array.from({ length: n }, (_, i) => `t${String(i).padStart(2, '0')}`);
      const pairs: Array<[number, number]> = [];
      for (let to = 1; to < n; to++) for (let k = Math.floor(next() * 3); k > 0; k--) pairs.push([Math.floor(next() * to), to]);
      const dag = dagFromPairs(ids, pairs);
      const tasks = ids.map(() => ({ variant: 'x86_64', duration: 1 + Math.floor(next() * 100) }));
      for (const builders of [1, 2, 3, 8]) {
        for (const policy of POLICY_NAMES) {
          const r = simulate({ dag, tasks, builders: uniformFarm(builders, ['x86_64']), policy });
          expect(r.lowerBound).toBeGreaterThanOrEqual(r.classicBound);
          expect(r.makespan).toBeGreaterThanOrEqual(r.lowerBound - 1e-9);
        }
      }
    }
  });

  it('keeps every dependency and never overbooks a builder', () => {
    const g = graph({ a: 1, b: 2, c: 3, d: 1, e: 5, f: 2 }, ['a>b', 'a>c', 'b>d', 'c>d', 'e>f']);
    for (const policy of POLICY_NAMES) {
      const { schedule } = simulate({ ...g, builders: [{ id: 'x', serves: ['x86_64'], slots: 2 }], policy });
      const at = new Map(schedule.map((s) => [s.id, s]));
      for (const [from, to] of [['a', 'b'], ['a', 'c'], ['b', 'd'], ['c', 'd'], ['e', 'f']]) {
        expect(at.get(from)!.end).toBeLessThanOrEqual(at.get(to)!.start);
      }
      for (const s of schedule) expect(schedule.filter((o) => o.start <= s.start && s.start < o.end).length).toBeLessThanOrEqual(2);
    }
  });

  it('is deterministic', () => {
    const g = graph({ a: 1, b: 1, c: 1, d: 1 }, ['a>d']);
    const run = () => simulate({ ...g, builders: uniformFarm(2, ['x86_64']), policy: 'critical-path' }).schedule;
    expect(run()).toEqual(run());
  });

  it('gives the first idle builder the first task in topological order (first-idle)', () => {
    const g = graph({ a: 1, b: 1 });
    const { schedule } = simulate({ ...g, builders: uniformFarm(3, ['x86_64']), policy: 'first-idle' });
    expect(schedule.map((s) => `${s.id}:${s.builder}`)).toEqual(['a:builder-1', 'b:builder-2']);
  });

  it('gives each task the smallest idle builder its size fits, largest tasks first (aeryn)', () => {
    const g = graph({ huge: 10, mid: 5, tiny: 1 });
    const tasks: SimTask[] = [
      { ...g.tasks[0], size: 'large' },
      { ...g.tasks[1], size: 'medium' },
      { ...g.tasks[2], size: 'small' },
    ];
    const builders: BuilderSpec[] = [
      { id: 'big', serves: ['x86_64'], size: 'large' },
      { id: 'medium', serves: ['x86_64'], size: 'medium' },
      { id: 'little', serves: ['x86_64'], size: 'small' },
    ];
    const { schedule } = simulate({ dag: g.dag, tasks, builders, policy: 'aeryn' });
    expect(schedule.map((s) => `${s.id}:${s.builder}`)).toEqual(['huge:big', 'mid:medium', 'tiny:little']);
    // A large task waits for the large builder; smaller ones go ahead on smaller builders.
    const onlySmall = simulate({ dag: g.dag, tasks, builders: [builders[0], builders[2]], policy: 'aeryn' });
    expect(onlySmall.schedule.map((s) => `${s.id}:${s.builder}@${s.start}`)).toEqual(['huge:big@0', 'tiny:little@0', 'mid:big@10']);
  });

  it('derives size classes from durations when none are given: 5% large, 15% medium', () => {
    const sizes = sizeClassesByDuration(Array.from({ length: 20 }, (_, i) => i));
    expect(sizes.filter((s) => s === 'large')).toHaveLength(1);
    expect(sizes.filter((s) => s === 'medium')).toHaveLength(3);
    expect(sizes[19]).toBe('large');
  });

  it('runs v3x tasks only on builders serving v3x', () => {
    const base = graph({ a: 1, b: 1, c: 1 });
    const v3 = graph({ a: 1, b: 1, c: 1 }, [], 'x86_64-v3x');
    const ids = [...base.dag.ids.map((i) => `${i}@x86_64`), ...v3.dag.ids.map((i) => `${i}@x86_64-v3x`)];
    const dag = dagFromPairs(ids, []);
    const builders: BuilderSpec[] = [
      { id: 'old', serves: ['x86_64'] },
      { id: 'new', serves: ['x86_64', 'x86_64-v3x'] },
    ];
    for (const policy of POLICY_NAMES) {
      const { schedule } = simulate({ dag, tasks: [...base.tasks, ...v3.tasks], builders, policy });
      expect(schedule.filter((s) => s.id.endsWith('v3x')).map((s) => s.builder)).toEqual(['new', 'new', 'new']);
    }
    expect(() => simulate({ dag, tasks: [...base.tasks, ...v3.tasks], builders: [builders[0]], policy: 'critical-path' })).toThrow(GraphInputError);
  });
});

describe('critical-path on a bootstrap-shaped tree (2,000 recipes, a 600-recipe toolchain cycle)', () => {
  it('stays within 5% of the lower bound on 2, 4, 8 and 16 builders', () => {
    const graph = buildGraph(syntheticTree({ recipes: 2_000 }));
    const dag = dagFromGraph(graph, planOrder(graph).isCut);
    const tasks = graph.recipes.map((r) => ({ variant: 'x86_64', duration: modelDuration(r) }));
    const ratios = [2, 4, 8, 16].map((builders) => ({
      builders,
      ratio: simulate({ dag, tasks, builders: uniformFarm(builders, ['x86_64']), policy: 'critical-path' }).ratio,
    }));
    expect(ratios.filter((r) => r.ratio > 1.05)).toEqual([]);
  });
});
