import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { planBuilds } from '../activities/summit/planning';
import { syntheticTree } from '../core/graph/synthetic-tree';
import { variantsFor } from '../core/variants';
import { Task } from '../db/entities';
import { openDatabase } from '../db/orm';
import { Store } from '../db/store';

/**
 * One planning round at farm scale (issue 11 item 4): `npm run bench:plan -- [--recipes N] [--completed C]
 * [--rounds R] [--pg URL] [--keep]`. A real database (the embedded libsql file in a temporary folder, or the PostgreSQL
 * database at URL: use a throwaway one, the rows stay) holds a generated N-recipe tree (core/graph/synthetic-tree,
 * one ~600-recipe cycle), C completed tasks (C / N releases of every recipe, with build times and published
 * packages) and one open task per recipe; `planBuilds` (activities/summit/planning.ts, the hub's planning
 * activity) then runs R rounds with four 2-slot builders. The first round is the cold one (a fresh process);
 * figures, never assertions: the target is printed beside them.
 */
const TARGET_MS = 50;

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

export async function run(): Promise<void> {
  const recipes = Number(arg('recipes', '2000'));
  const completed = Number(arg('completed', '10000'));
  const rounds = Number(arg('rounds', '20'));
  const pgUrl = arg('pg');
  const dir = await mkdtemp(join(tmpdir(), 'summit-bench-plan-'));
  const orm = await openDatabase({ url: pgUrl, dataDir: dir });
  try {
    const store = new Store(orm);
    const t0 = performance.now();
    await store.addRepository({ id: 'bench', project: 'bench', url: '/srv/bench.git' });
    const tree = syntheticTree({ recipes });
    const commit = 'c0ffee'.padEnd(40, '0');
    await store.replaceRecipes('bench', tree.map((r) => ({
      source: r.source, version: '1.0', release: 1 + Math.ceil(completed / recipes), commit, path: `r/${r.source}`, derived: false, architectures: [],
      packages: r.packages.map((p) => ({ name: p.name, provides: [...p.provides], depends: [...p.depends], buildDepends: [...p.buildDepends] })),
    })));
    const start = Date.now() - (completed + recipes) * 60_000;
    const rows = [];
    const perRecipe = Math.ceil(completed / recipes);
    for (let i = 0; i < completed + recipes; i++) {
      const r = tree[i % recipes];
      const release = 1 + Math.floor(i / recipes);
      const open = release > perRecipe || i >= completed;
      const at = new Date(start + i * 60_000);
      const id = `build/bench/bench/${r.source}-1.0-${release}/x86_64`;
      rows.push({
        id, project: 'bench', repository: 'bench', source: r.source, version: '1.0', release, isa: 'x86_64', index: 'main', commit,
        recipePath: `r/${r.source}`, status: open ? 'new' : 'completed', attempts: open ? 0 : 1, priority: 0, builder: open ? null : 'b1',
        createdAt: at, updatedAt: at, startedAt: open ? null : at, builtAt: open ? null : new Date(at.getTime() + 1000 * (30 + (i % 600))),
        finishedAt: open ? null : new Date(at.getTime() + 1000 * (40 + (i % 600))),
        published: open ? null : r.packages.map((p) => ({ name: p.name, uri: `pool/${p.name}-1.0-${release}-1-x86_64.stone`, sha256: 'a'.repeat(64), size: 1000 })),
      });
      if (rows.length === 500) await orm.em.fork().insertMany(Task, rows.splice(0));
    }
    if (rows.length > 0) await orm.em.fork().insertMany(Task, rows);
    const counts = await Promise.all([store.listTasks({ status: ['completed'], limit: 1, offset: 0 }), store.listTasks({ status: ['new'], limit: 1, offset: 0 })]);
    console.log(`database: ${pgUrl ? 'PostgreSQL' : `embedded libsql (${dir})`}; ${recipes} recipes, ${counts[0].total} completed and ${counts[1].total} open tasks, filled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const deps = { store, mirrorsDir: join(dir, 'mirrors'), variants: variantsFor([]), packagesBaseUrl: 'file:///srv/vessel' };
    const builders = Array.from({ length: 4 }, (_, i) => ({ id: `b${i + 1}`, host: `h${i + 1}`, isaLevels: ['x86_64' as const], slots: 2, busy: 0, diskFree: 1e10 }));
    const times: number[] = [];
    const cpuTimes: number[] = [];
    let dispatched = 0;
    for (let i = 0; i < rounds; i++) {
      const t = performance.now();
      const cpu0 = process.cpuUsage();
      const plan = await planBuilds(deps, { builders });
      times.push(performance.now() - t);
      const cpu = process.cpuUsage(cpu0);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
      dispatched = plan.dispatch.length;
    }
    const warm = times.slice(1).sort((a, b) => a - b);
    const warmCpu = cpuTimes.slice(1).sort((a, b) => a - b);
    console.log(`planning round (${dispatched} dispatched of ${recipes} open): cold ${times[0].toFixed(0)} ms; warm p50 ${pct(warm, 50).toFixed(1)} ms, p95 ${pct(warm, 95).toFixed(1)} ms over ${warm.length} rounds (target ≤ ${TARGET_MS} ms)`);
    // CPU time of the process (the database driver's threads included): what the round costs on a machine shared with other work.
    console.log(`  CPU: cold ${cpuTimes[0].toFixed(0)} ms; warm p50 ${pct(warmCpu, 50).toFixed(1)} ms, p95 ${pct(warmCpu, 95).toFixed(1)} ms`);
  } finally {
    await orm.close(true);
    if (process.argv.includes('--keep')) console.log(`kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
}
