import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { IndexEntry } from '../core/formats/repo-index';
import type { PackageMeta } from '../core/formats/stone/meta';
import { closureReport } from '../core/repo/closure';
import { recordHistory } from '../core/repo/history';
import { poolPath, stoneFileName } from '../core/repo/pool';
import { entryFor } from '../core/repo/release-rules';
import { closeHistory, registerClosureSettings } from '../activities/vessel/closure-gate';
import { BaseProducer } from '../activities/vessel/base-packages';
import { IndexLocks } from '../activities/vessel/lock';
import { pruneRepository } from '../activities/vessel/prune';
import { Repository } from '../activities/vessel/repository';

/**
 * The repository's lifecycle (issue 9): the closure check of a 10,000-package index (the pure check, and the whole
 * gate with the base package from the host's build root, cold and warm), and pruning a repository of 200
 * histories. Figures, not assertions; real files in a temporary folder (pool files are small stand-ins).
 */
const PACKAGES = 10_000;
const HISTORIES = 200;
const CHANGED_PER_HISTORY = 10;
const RUNS = 5;

function meta(i: number, release = 1): PackageMeta {
  const name = `pkg${i.toString().padStart(5, '0')}`;
  const dep = (j: number) => `soname(libpkg${(j % PACKAGES).toString().padStart(5, '0')}.so.1(x86_64))`;
  return {
    name, version: '1.0', release, buildRelease: 1, architecture: 'x86_64', summary: name, description: name, homepage: 'https://example.org',
    sourceId: `src${i}`, licenses: ['MPL-2.0'],
    depends: ['soname(libc.so.6(x86_64))', 'interpreter(/lib64/ld-linux-x86-64.so.2(x86_64))', ...(i > 0 ? [dep(i - 1), dep(i * 7), `pkgconfig(pkg${((i * 3) % PACKAGES).toString().padStart(5, '0')})`] : [])],
    provides: [`soname(lib${name}.so.1(x86_64))`, `pkgconfig(${name})`, `binary(${name})`], conflicts: [], buildDepends: [],
  };
}
const entry = (i: number, release = 1): IndexEntry => {
  const m = meta(i, release);
  return entryFor({ file: stoneFileName(m), meta: m, sha256: (i * 1000 + release).toString(16).padStart(64, '0'), size: 100 });
};

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function time(fn: () => unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export async function run(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'summit-bench-repo-'));
  try {
    // Closure: the pure check over 10,000 packages, 5 dependencies each.
    const set = { x86_64: Array.from({ length: PACKAGES }, (_, i) => entry(i)) };
    const check: number[] = [];
    let unresolved = 0;
    for (let r = 0; r < RUNS; r++) check.push(await time(() => (unresolved = closureReport('main', set).unresolved.length)));
    console.log(`closure check of a ${PACKAGES.toLocaleString('en')}-package index (${unresolved} unresolved: libc and the loader): median ${median(check).toFixed(1)} ms of ${RUNS} (target ≤ 50 ms)`);

    // The whole gate as a publish runs it: needs, the base package from the host's /, the final check.
    const reposDir = join(work, 'repos');
    const repo = new Repository('main', join(reposDir, 'main'));
    registerClosureSettings(reposDir, { producer: new BaseProducer('/', join(work, 'staging')) });
    const cold = await time(() => closeHistory(repo, set));
    const warm: number[] = [];
    for (let r = 0; r < RUNS; r++) warm.push(await time(() => closeHistory(repo, set)));
    const oneChanged: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const at = (r * 997) % PACKAGES;
      set.x86_64[at] = entry(at, 2 + r);
      oneChanged.push(await time(() => closeHistory(repo, set)));
    }
    console.log(`closure gate with the base package (incremental tracker): cold ${cold.toFixed(0)} ms (every entry counted, libc packed), nothing changed median ${median(warm).toFixed(1)} ms, 1 package changed median ${median(oneChanged).toFixed(1)} ms of ${RUNS}`);

    // Prune: 200 histories of 1,000 packages, 10 changed by each; keep the newest 10.
    const pruneRepo = new Repository('prune', join(reposDir, 'prune'));
    const packages = 1_000;
    let current = Array.from({ length: packages }, (_, i) => entry(i));
    let root = (await pruneRepo.readRootIndex());
    const poolFiles = new Set<string>();
    const t0 = performance.now();
    for (let h = 1; h <= HISTORIES; h++) {
      if (h > 1) current = current.map((e, i) => (i % Math.floor(packages / CHANGED_PER_HISTORY) === h % Math.floor(packages / CHANGED_PER_HISTORY) ? entry(i, e.release + 1) : e));
      for (const e of current) {
        const path = poolPath(e, stoneFileName(e));
        if (poolFiles.has(path)) continue;
        poolFiles.add(path);
        await mkdir(dirname(join(pruneRepo.dir, path)), { recursive: true });
        await writeFile(join(pruneRepo.dir, path), e.name);
      }
      await (await pruneRepo.prepareHistory(String(h), { x86_64: current })).commit();
      root = recordHistory(root, String(h));
    }
    await pruneRepo.writeRootIndex(root);
    console.log(`  (set-up: ${HISTORIES} histories, ${poolFiles.size.toLocaleString('en')} pool files in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    const locks = new IndexLocks(join(work, 'locks'));
    let dry!: Awaited<ReturnType<typeof pruneRepository>>;
    const dryMs = await time(async () => (dry = await pruneRepository(pruneRepo, locks, 10, true)));
    let real!: Awaited<ReturnType<typeof pruneRepository>>;
    const realMs = await time(async () => (real = await pruneRepository(pruneRepo, locks, 10, false)));
    console.log(`prune of ${HISTORIES} histories keeping 10: dry run ${dryMs.toFixed(0)} ms, real ${realMs.toFixed(0)} ms (${real.removedHistories.length} histories, ${real.removedPoolFiles.length.toLocaleString('en')} pool files removed; dry run listed ${dry.removedPoolFiles.length.toLocaleString('en')})`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
