import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { refreshRepository } from '../activities/summit/intake';
import { variantsFor } from '../core/variants';
import { openDatabase } from '../db/orm';
import { Store } from '../db/store';
import { generateRecipeTree, recipeYaml } from './wave/recipe-tree';

/**
 * Intake of a distribution-sized tree (issue 11 item 4): `npm run bench:intake -- [--recipes N] [--pg URL]`. A real
 * git repository of N wave recipes (bench/wave/recipe-tree.ts: real stone.yaml files, layers, fan-in, a cycle)
 * read by `refreshRepository` (activities/summit/intake.ts) into a real database (the embedded libsql file, or
 * the PostgreSQL database at URL: a throwaway one). Times the first intake (mirror clone included), a poll of
 * the same commit, and intakes after one recipe changed and after one was removed. Figures, never assertions.
 */
const TARGET_MS = 2000;

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

export async function run(): Promise<void> {
  const n = Number(arg('recipes', '2000'));
  const pgUrl = arg('pg');
  const dir = await mkdtemp(join(tmpdir(), 'summit-bench-intake-'));
  const repoDir = join(dir, 'recipes');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repoDir, encoding: 'utf8' }).trim();
  const orm = await openDatabase({ url: pgUrl, dataDir: dir });
  try {
    mkdirSync(repoDir, { recursive: true });
    git('init', '-q', '-b', 'main');
    git('config', 'user.email', 'bench@summit.invalid');
    git('config', 'user.name', 'Intake bench');
    const tree = generateRecipeTree({ packages: n });
    for (const r of tree) {
      mkdirSync(join(repoDir, r.name), { recursive: true });
      writeFileSync(join(repoDir, r.name, 'stone.yaml'), recipeYaml(r));
    }
    const commit = () => {
      git('add', '-A');
      git('commit', '-q', '-m', 'bench');
    };
    commit();
    const store = new Store(orm);
    await store.addRepository({ id: 'wave', project: 'bench', url: repoDir });
    const deps = { store, mirrorsDir: join(dir, 'mirrors'), variants: variantsFor([]) };
    console.log(`database: ${pgUrl ? 'PostgreSQL' : 'embedded libsql'}; a git repository of ${n} recipes (stone.yaml only)`);

    const intake = async (what: string) => {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      // When each stage began (the first progress report of a stage): fetch, read (list + parse), tasks.
      const began = new Map<string, number>();
      // How long the event loop (the one serving workflows and the API in `npm start`) was held at most.
      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      const r = await refreshRepository(deps, { repository: 'wave', origin: 'poll' }, (p) => {
        if (!began.has(p.stage)) began.set(p.stage, performance.now());
      });
      const end = performance.now();
      const cpu = process.cpuUsage(cpu0);
      delay.disable();
      const stages = ['fetching', 'reading', 'tasks'].filter((s) => began.has(s));
      const split = stages.map((s, i) => `${s} ${((i + 1 < stages.length ? began.get(stages[i + 1])! : end) - began.get(s)!).toFixed(0)} ms`).join(', ');
      console.log(`${what}: ${(end - t0).toFixed(0)} ms (CPU of this process, threads included, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms) [${split}] (${r.recipes} recipes, ${r.created.length} created, ${r.updated.length} updated, ${r.superseded.length} superseded, ${r.invalidTotal} invalid; event loop held ≤ ${(delay.max / 1e6).toFixed(0)} ms; target ≤ ${TARGET_MS} ms for the first)`);
    };
    await intake('first intake (clone + read + tasks)');
    await intake('poll of the same commit');
    const changed = tree[Math.floor(n / 2)];
    writeFileSync(join(repoDir, changed.name, 'stone.yaml'), recipeYaml(changed).replace('release     : 1', 'release     : 2'));
    commit();
    await intake('after one recipe changed');
    await rm(join(repoDir, tree[n - 1].name), { recursive: true, force: true });
    commit();
    await intake('after one recipe removed');
  } finally {
    await orm.close(true);
    await rm(dir, { recursive: true, force: true });
  }
}
