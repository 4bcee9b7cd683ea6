import { Agent, get } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { loadOrCreateTokens } from '../api/tokens';
import { Task } from '../db/entities';
import { openDatabase } from '../db/orm';
import { Store } from '../db/store';
import { forkApi } from '../workers/api-process';

/**
 * The task list under load (issue 11 item 7): `npm run bench:api -- [--tasks N] [--requests R] [--concurrency C]
 * [--pg URL] [--cpu-prof DIR]`. Inserts N finished tasks (batched) into the real database (the embedded libsql file in a temporary
 * folder, or the PostgreSQL database at URL: use a throwaway one, the tasks stay), starts the real API on it in a
 * process of its own, as `npm start` and production run it (workers/api-process.ts; its request log at info level
 * goes nowhere), and fires R requests per scenario with C in flight over keep-alive from this process. Figures,
 * never assertions: the target is printed.
 */
const TARGET = { rps: 500, p99: 50 };

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const STATUSES = ['completed', 'completed', 'completed', 'failed', 'cancelled'];

async function insertTasks(store: Store, orm: Awaited<ReturnType<typeof openDatabase>>, n: number): Promise<void> {
  const t0 = performance.now();
  const start = Date.now() - n * 1000;
  const BATCH = 500;
  for (let from = 0; from < n; from += BATCH) {
    const rows = [];
    for (let i = from; i < Math.min(n, from + BATCH); i++) {
      const source = `pkg${i % 5000}`;
      const repository = `repo${i % 10}`;
      // Several tasks per second, so that pages cross ties on createdAt.
      const createdAt = new Date(start + Math.floor(i / 3) * 3000);
      rows.push({
        id: `build/bench/${repository}/${source}-1.0-${i}/x86_64`, project: 'bench', repository, source, version: '1.0', release: i,
        isa: 'x86_64', index: 'main', commit: 'c0ffee', recipePath: `${source[3]}/${source}`, status: STATUSES[i % STATUSES.length],
        attempts: 1, priority: 0, builder: 'b1', createdAt, startedAt: createdAt, finishedAt: createdAt, updatedAt: createdAt,
      });
    }
    await orm.em.fork().insertMany(Task, rows);
  }
  console.log(`inserted ${n} tasks in ${((performance.now() - t0) / 1000).toFixed(1)} s (${await store.countTasks({})} in the table)`);
}

function fetchJson(agent: Agent, url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function load(name: string, agent: Agent, urls: string[], requests: number, concurrency: number, quiet = false): Promise<void> {
  const times: number[] = [];
  let failed = 0;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const url = urls[next++ % urls.length];
        const s = performance.now();
        // A reset (the server closing an idle keep-alive socket as a request leaves) counts as a failure, not a crash.
        const reply = await fetchJson(agent, url).catch(() => ({ status: 0 }));
        times.push(performance.now() - s);
        if (reply.status !== 200) failed++;
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  times.sort((a, b) => a - b);
  const rps = requests / wall;
  if (quiet) return;
  console.log(
    `${name.padEnd(34)} ${rps.toFixed(0).padStart(6)} req/s (target ${TARGET.rps})  p50 ${pct(times, 50).toFixed(1)} ms  p95 ${pct(times, 95).toFixed(1)} ms  ` +
      `p99 ${pct(times, 99).toFixed(1)} ms (target ≤ ${TARGET.p99})${failed ? `  ${failed} failed or not 200` : ''}`,
  );
}

/** The cursors of the first `pages` pages of a list, to fire at keyset pages deep and shallow. */
async function cursors(agent: Agent, base: string, pages: number): Promise<string[]> {
  const out: string[] = [];
  let url = base;
  for (let i = 0; i < pages; i++) {
    const page = JSON.parse((await fetchJson(agent, url)).body) as { nextCursor: string | null };
    if (!page.nextCursor) break;
    url = `${base}&cursor=${page.nextCursor}`;
    out.push(url);
  }
  return out;
}

export async function run(): Promise<void> {
  const n = Number(arg('tasks') ?? 100_000);
  const requests = Number(arg('requests') ?? 2000);
  const concurrency = Number(arg('concurrency') ?? 16);
  const pgUrl = arg('pg');
  const dir = await mkdtemp(join(tmpdir(), 'summit-bench-api-'));
  const orm = await openDatabase({ url: pgUrl, dataDir: dir });
  const store = new Store(orm);
  // Idle sockets are dropped well before the server's keep-alive timeout (5 s), so none is reused as it closes.
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, timeout: 4000 });
  await insertTasks(store, orm, n);
  // PostgreSQL plans from statistics and counts from the visibility map, both kept by autovacuum on a live
  // database; right after a bulk insert neither exists yet, so the benchmark makes them as autovacuum would.
  if (pgUrl) await orm.em.getConnection().execute('VACUUM ANALYZE tasks');
  // The API opens the database itself: the schema exists and the tasks are in by now. No tokens are printed
  // (made here first), no Temporal is needed (the client connects lazily; /api/tasks never asks it).
  await loadOrCreateTokens(dir);
  const env: NodeJS.ProcessEnv = {
    ...process.env, SUMMIT_DATA_DIR: dir, SUMMIT_API_HOST: '127.0.0.1', SUMMIT_API_PORT: '0', SUMMIT_LOG_LEVEL: 'info',
    SUMMIT_TEMPORAL_ADDRESS: '127.0.0.1:1', SUMMIT_PAYLOAD_KEYS: `bench:${randomBytes(32).toString('base64')}`,
  };
  delete env.SUMMIT_PAYLOAD_KEY_FILE;
  delete env.SUMMIT_DATABASE_URL;
  if (pgUrl) env.SUMMIT_DATABASE_URL = pgUrl;
  // --cpu-prof DIR: a CPU profile of the API process, written to DIR when it stops (open it in Chrome's DevTools).
  const profile = arg('cpu-prof');
  const api = await forkApi(env, { quiet: true, execArgv: profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [] });
  try {
    console.log(`database: ${pgUrl ? 'PostgreSQL' : `embedded libsql (${dir})`}; API pid ${api.pid}; ${requests} requests per scenario, ${concurrency} in flight`);
    const base = `${api.url}/api/tasks?limit=50`;
    const scenarios: Array<[string, string]> = [
      ['first page', ''],
      ['first page, total=exact', '&total=exact'],
      ['status=failed', '&status=failed'],
      ['status=failed,cancelled', '&status=failed,cancelled'],
      ['repository=repo3', '&repository=repo3'],
      ['source=pkg42', '&source=pkg42'],
    ];
    // A fresh process is slower for its first few thousand requests (V8 optimising the hot paths, the heap
    // growing, connections opening): warm it on every scenario first, so the first one measured is not the victim.
    await load('warm-up', agent, scenarios.map(([, filter]) => base + filter), Math.min(requests, 2000), concurrency, true);
    for (const [name, filter] of scenarios) {
      await load(name, agent, [base + filter], Math.min(requests, 200), concurrency, true); // warm-up
      await load(name, agent, [base + filter], requests, concurrency);
    }
    // Each scenario below is warmed like those above: its statement prepared, its path optimised.
    const paged: Array<[string, string[]]> = [
      ['keyset pages 2-100', await cursors(agent, base, 100)],
      ['keyset pages 2-100, status=failed', await cursors(agent, `${base}&status=failed`, 100)],
      ['offset 1000 (for comparison)', [`${base}&offset=1000`]],
    ];
    for (const [name, urls] of paged) {
      await load(name, agent, urls, Math.min(requests, 200), concurrency, true); // warm-up
      await load(name, agent, urls, requests, concurrency);
    }
  } finally {
    agent.destroy();
    await api.stop();
    await orm.close(true);
    await rm(dir, { recursive: true, force: true });
  }
}
