import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { BuildId } from '../core/contracts/ids';
import { writeIndex, type EncodedEntries, type IndexEntry } from '../core/formats/repo-index';
import type { PackageMeta } from '../core/formats/stone/meta';
import { stoneFileName } from '../core/repo/pool';
import { entryFor } from '../core/repo/release-rules';
import { vesselLayout } from '../activities/vessel/layout';
import { BaseProducer } from '../activities/vessel/base-packages';
import { registerClosureSettings } from '../activities/vessel/closure-gate';
import { IndexLocks } from '../activities/vessel/lock';
import { KeptHistory, publishBuilds, type StagedCandidate, type PendingBuild } from '../activities/vessel/publish';
import { IndexPublisher } from '../activities/vessel/publisher';
import { Repository } from '../activities/vessel/repository';
import { runVesselStages } from './vessel-stages';

/**
 * Publishing benchmarks (issue 11 item 6). Figures, not assertions: targets are printed beside them. Everything
 * runs on real files in a temporary folder (the pool files are small stand-ins: publishing moves and hashes them,
 * it never reads them as packages).
 */
const PACKAGES = 10_000;
const RUNS = 5;
/** The stream of imports: how many, and how far apart they arrive. */
const STREAM = 200;
const STREAM_GAP_MS = 10;

function meta(i: number, release = 1): PackageMeta {
  const name = `pkg${i.toString().padStart(5, '0')}`;
  return {
    name, version: `${1 + (i % 7)}.${i % 13}.${i % 5}`, release, buildRelease: 1, architecture: 'x86_64',
    summary: `Synthetic package ${i}`, description: `Synthetic package ${i} for the publish benchmark`,
    homepage: 'https://example.org', sourceId: `src${Math.floor(i / 3)}`, licenses: ['MPL-2.0'],
    depends: ['soname(libc.so.6(x86_64))', `pkg${((i * 7) % PACKAGES).toString().padStart(5, '0')}`],
    provides: [`soname(lib${name}.so.1(x86_64))`, `pkgconfig(${name})`], conflicts: [], buildDepends: [],
  };
}

let staged = 0;
async function candidate(stagingDir: string, i: number, release = 1): Promise<StagedCandidate> {
  const m = meta(i, release);
  const stagedPath = join(stagingDir, `s${staged++}`);
  await writeFile(stagedPath, `${m.name} ${release}`);
  return { file: stoneFileName(m), meta: m, sha256: (i * 1000 + release).toString(16).padStart(64, '0'), size: 10_000 + i, stagedPath };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x: number): string => `${x.toFixed(0)} ms`;

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export async function run(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'summit-bench-publish-'));
  try {
    const layout = vesselLayout(join(work, 'vessel'));
    await mkdir(layout.stagingDir, { recursive: true });
    const locks = new IndexLocks(layout.locksDir);
    // As vesselDeps sets it up: every publish passes the closure gate, libc coming from the host's build root.
    registerClosureSettings(layout.reposDir, { producer: new BaseProducer('/', layout.stagingDir) });

    // Full write: every entry encoded and compressed (nothing kept).
    const entries: IndexEntry[] = [];
    for (let i = 0; i < PACKAGES; i++) entries.push(entryFor({ file: stoneFileName(meta(i)), meta: meta(i), sha256: i.toString(16).padStart(64, 'a'), size: i }));
    await writeIndex(entries.slice(0, 200)); // warm-up
    const full: number[] = [];
    for (let r = 0; r < RUNS; r++) full.push(await time(() => writeIndex(entries)));
    console.log(`full write of a ${PACKAGES.toLocaleString('en')}-package stone.index: median ${ms(median(full))} of ${RUNS} (target ≤ 500 ms)`);

    // The same with every entry kept but k changed: what an incremental publish encodes.
    const encoded: EncodedEntries = new WeakMap();
    await writeIndex(entries, encoded);
    for (const k of [1, 10, 100]) {
      const runs: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        const changed = entries.map((e, i) => (i % Math.floor(PACKAGES / k) === 0 ? { ...e, release: e.release + r + 1 } : e));
        runs.push(await time(() => writeIndex(changed, encoded)));
      }
      console.log(`  index encode with ${k} changed of ${PACKAGES.toLocaleString('en')}: median ${ms(median(runs))}`);
    }

    // Incremental publish into a real repository: judge, move into the pool, write the history, move volatile.
    const repo = new Repository('main', join(layout.reposDir, 'main'));
    const kept = new KeptHistory();
    const seed: PendingBuild[] = [];
    for (let i = 0; i < PACKAGES; i++) seed.push({ buildId: `seed-${i}` as BuildId, candidates: [await candidate(layout.stagingDir, i)] });
    const seedMs = await time(() => locks.withLock('main', () => publishBuilds(repo, kept, seed)));
    console.log(`first publish of ${PACKAGES.toLocaleString('en')} packages in one window: ${ms(seedMs)}`);
    let release = 1;
    for (const k of [1, 10, 100]) {
      const runs: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        release++;
        const builds: PendingBuild[] = [];
        for (let j = 0; j < k; j++) builds.push({ buildId: `b-${release}-${j}` as BuildId, candidates: [await candidate(layout.stagingDir, j * Math.floor(PACKAGES / k), release)] });
        runs.push(await time(() => locks.withLock('main', () => publishBuilds(repo, kept, builds))));
      }
      console.log(`incremental publish of ${k} changed package(s) at ${PACKAGES.toLocaleString('en')}: median ${ms(median(runs))} of ${RUNS} (target ≤ 200 ms)`);
    }

    // main's way, for comparison: one history per build, base read back from disk and every entry encoded again.
    const cold: number[] = [];
    for (let r = 0; r < 3; r++) {
      release++;
      const build = { buildId: `cold-${release}` as BuildId, candidates: [await candidate(layout.stagingDir, 1, release)] };
      cold.push(await time(() => locks.withLock('main', () => publishBuilds(repo, new KeptHistory(), [build]))));
    }
    console.log(`one build published main's way (read + re-encode all): median ${ms(median(cold))} of 3 → 1,000 builds ≈ ${(median(cold) * 1000 / 1000).toFixed(0)} s one after another`);

    // 1,000 imports finishing at once: group commit writes them together (the first write takes all of them, as
    // they are all waiting before it takes the index lock).
    {
      const publisher = new IndexPublisher(repo, locks);
      release++;
      const builds: PendingBuild[] = [];
      for (let j = 0; j < 1000; j++) builds.push({ buildId: `wave-${release}-${j}` as BuildId, candidates: [await candidate(layout.stagingDir, j * 10, release)] });
      const latencies: number[] = [];
      const t0 = performance.now();
      const ids = await Promise.all(builds.map((b) => publisher.publish(b.buildId, b.candidates).then((o) => (latencies.push(performance.now() - t0), o.historyId))));
      const total = performance.now() - t0;
      latencies.sort((a, b) => a - b);
      console.log(`1,000 concurrent import completions → all published: ${ms(total)} in ${new Set(ids).size} history version(s); p50 ${ms(latencies[500])}, p95 ${ms(latencies[950])}`);
    }

    // A stream of imports arriving faster than one write at 10,000 entries takes: does a window (SUMMIT_PUBLISH_WINDOW)
    // buy anything over plain group commit? Histories written against the latency each import waits.
    for (const windowMs of [0, 250, 1000]) {
      const publisher = new IndexPublisher(repo, locks, { windowMs });
      const builds: PendingBuild[] = [];
      for (let j = 0; j < STREAM; j++) builds.push({ buildId: `stream-${windowMs}-${j}` as BuildId, candidates: [await candidate(layout.stagingDir, (j * 37) % PACKAGES, ++release)] });
      const latencies: number[] = [];
      const loop = monitorEventLoopDelay({ resolution: 5 });
      loop.enable();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const ids = await Promise.all(
        builds.map(
          (b, j) =>
            new Promise<string>((resolve, reject) =>
              setTimeout(() => {
                const arrived = performance.now();
                publisher.publish(b.buildId, b.candidates).then((o) => (latencies.push(performance.now() - arrived), resolve(o.historyId)), reject);
              }, j * STREAM_GAP_MS),
            ),
        ),
      );
      const total = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      loop.disable();
      console.log(
        `${STREAM} imports arriving ${STREAM_GAP_MS} ms apart at ${PACKAGES.toLocaleString('en')} entries, window ${windowMs} ms: ${new Set(ids).size} history version(s), ` +
          `all published after ${ms(total)}; wait per import p50 ${ms(median(latencies))}, p95 ${ms([...latencies].sort((a, b) => a - b)[Math.floor(STREAM * 0.95)])}; ` +
          `CPU ${ms((cpu.user + cpu.system) / 1000)}, event loop delay p99 ${ms(loop.percentile(99) / 1e6)}`,
      );
    }

    // Vessel's whole import of trivial builds (fetch, verify, publish) as the wave sees it.
    await runVesselStages(work, 0);
    const mem = process.memoryUsage();
    console.log(`memory: rss ${(mem.rss / 1024 / 1024).toFixed(0)} MiB, heap used ${(mem.heapUsed / 1024 / 1024).toFixed(0)} MiB`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
