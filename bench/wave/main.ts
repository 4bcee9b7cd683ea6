import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import { readIndex } from '../../core/formats/repo-index';
import { parseRootIndex, resolveIndexPath } from '../../core/formats/root-index';
import { logStages } from './build-log-stages';
import { splitCpus } from './cpu-sets';
import { insertFinishedTasks } from './existing-tasks';
import { startWaveFarm, type WaveFarm } from './farm';
import { waveFigures, type TaskObservation, type WaveFigures } from './figures';
import { workflowTimings } from './history-stages';
import { RecipeRepo } from './recipe-repo';
import { dependenciesOf, generateRecipeTree } from './recipe-tree';
import { cpuPerPackage, sampleCpu } from './process-cpu';
import { printFigures } from './report';

/**
 * `npm run bench:wave -- --packages N --slots S [--json] [--existing-tasks M] [--prefetch P] [--pg URL] [--no-cycle] [--keep] [--timeout-minutes T] [--builder-cpus LIST]`:
 * `--prefetch P` sets both the hub's SUMMIT_DISPATCH_PREFETCH and the builder's SUMMIT_BUILDER_BACKLOG.
 * `--builder-cpus LIST` runs the builder on those CPUs and the rest of the farm on the others (cpu-sets.ts). One wave of N trivial recipes pushed into a real farm, measured from the API, the published index, the build
 * logs and the Temporal histories. Prints figures; asserts nothing about time.
 */
const REPOSITORY = 'wave';
const USAGE = 'usage: npm run bench:wave -- --packages N (≥ 4) --slots S (≥ 1) [--json] [--existing-tasks M] [--prefetch P] [--pg URL] [--no-cycle] [--keep] [--timeout-minutes T] [--builder-cpus LIST]';
const FINISHED = new Set(['completed', 'failed', 'blocked', 'cancelled', 'superseded']);

interface TaskRow { id: string; source: string; status: string; attempts: number }

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      packages: { type: 'string', default: '50' },
      slots: { type: 'string', default: '2' },
      json: { type: 'boolean', default: false },
      'existing-tasks': { type: 'string', default: '0' },
      pg: { type: 'string' },
      'no-cycle': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      'timeout-minutes': { type: 'string' },
      prefetch: { type: 'string', default: '0' },
      'builder-cpus': { type: 'string' },
    },
  });
  const packages = Number(values.packages);
  const slots = Number(values.slots);
  const existing = Number(values['existing-tasks']);
  const prefetch = Number(values.prefetch);
  if (!Number.isInteger(packages) || packages < 4 || !Number.isInteger(slots) || slots < 1 || !Number.isInteger(existing) || existing < 0 || !Number.isInteger(prefetch) || prefetch < 0) {
    console.error(USAGE);
    process.exit(2);
  }
  const split = values['builder-cpus'] === undefined ? undefined : splitCpus(values['builder-cpus'], availableParallelism());
  if (typeof split === 'string') {
    console.error(`bench:wave: --builder-cpus: ${split}\n${USAGE}`);
    process.exit(2);
  }
  // This process (summit, vessel, and every thread it has) moves to the farm's CPUs first: what it starts later, the
  // Temporal dev server and the API, inherits them. The builder is started on its own (farm.ts).
  if (split) execFileSync('taskset', ['--all-tasks', '--cpu-list', '--pid', split.farm.join(','), String(process.pid)], { stdio: 'ignore' });
  const say = (line: string) => console.error(`bench:wave: ${line}`);
  // stdout carries the figures only (one JSON object with --json): the SDK's and its native core's logs go to
  // stderr, warnings and worse.
  Runtime.install({
    logger: new DefaultLogger('WARN', (entry) => console.error(`${new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString()} [${entry.level}] ${entry.message} ${JSON.stringify(entry.meta ?? {})}`)),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} } },
  });
  const tree = generateRecipeTree({ packages, cycle: !values['no-cycle'] });
  const deps = dependenciesOf(tree);
  const work = mkdtempSync(join(tmpdir(), 'summit-wavebench-'));
  const timeoutMs = Number(values['timeout-minutes'] ?? Math.max(10, packages / 2)) * 60_000;
  say(`work folder ${work}; ${packages} recipes, ${slots} slot(s), ${existing} finished tasks first, database ${values.pg ? 'PostgreSQL' : 'embedded libsql'}`);

  let farm: WaveFarm | undefined;
  try {
    farm = await startWaveFarm({
      work, slots, prefetch, pgUrl: values.pg, builderCpus: split?.builder, temporalBin: process.env.SUMMIT_TEMPORAL_BIN ?? 'temporal',
      beforeSummit: existing > 0 ? async (config) => {
        const ms = await insertFinishedTasks({ url: config.SUMMIT_DATABASE_URL, dataDir: config.SUMMIT_DATA_DIR, count: existing });
        say(`inserted ${existing} finished tasks in ${(ms / 1000).toFixed(1)} s`);
      } : undefined,
    });
    const f = farm;
    const api = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
      const res = await fetchRetrying(`${f.apiUrl}${path}`, init, say);
      const text = await res.text();
      if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${text.slice(0, 300)}`);
      return (text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T;
    };

    // An empty repository first, so the push below is the wave and nothing else.
    const repo = await RecipeRepo.create(work, { repository: REPOSITORY, apiUrl: f.apiUrl, token: f.hookToken });
    repo.write('README', 'wave benchmark recipes\n');
    repo.commit('empty');
    await repo.push();
    await api('/api/repositories', {
      method: 'POST', headers: { authorization: `Bearer ${f.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: REPOSITORY, project: 'wavebench', url: repo.bare, ref: 'main' }),
    });
    await waitFor('the builder to report to the hub', async () => (await api<{ items: unknown[] }>('/api/builders')).items.length > 0, 120_000);

    repo.writeRecipes(tree);
    const commit = repo.commit(`${packages} recipes`);
    say(`pushing ${commit.slice(0, 12)}`);
    // summit and vessel run in this process; the bench's own polling (the waves' counts once a second) is small beside them.
    const cpuOf = () => sampleCpu({ 'summit+vessel': process.pid, temporal: f.pids.temporal, builder: f.pids.builder, api: f.pids.api });
    const cpuAtPush = cpuOf();
    const pushAt = Date.now();
    await repo.push();

    const listAll = async (): Promise<TaskRow[]> => {
      const rows: TaskRow[] = [];
      for (let offset = 0; ; offset += 200) {
        const page = await api<{ items: TaskRow[]; total: number }>(`/api/tasks?repository=${REPOSITORY}&limit=200&offset=${offset}`);
        rows.push(...page.items);
        if (offset + 200 >= page.total) return rows;
      }
    };
    let last = '';
    let lastSaid = 0;
    const rows = await waitFor('every package to be published or to fail', async () => {
      // The waves' counts (one GROUP BY in the API) while builds run; the whole task list once they look done.
      // Listing every task each second cost the API and this process CPU that grew with the wave, on the cores
      // the farm under measurement needs (a 1,000-package wave: 1,000 rows a second).
      const res = await fetchRetrying(`${f.apiUrl}/api/waves?repository=${REPOSITORY}`, {}, say);
      const { items } = res.status === 404 ? { items: [] } : ((await res.json()) as { items: Array<{ progress: { total: number; done: number; failed: number; dropped: number; open: number } }> });
      const sum = (k: 'total' | 'done' | 'failed' | 'dropped' | 'open') => items.reduce((n, w) => n + w.progress[k], 0);
      const line = `${sum('total')} tasks: open ${sum('open')}, completed ${sum('done')}, failed ${sum('failed')}, dropped ${sum('dropped')}`;
      if (line !== last && Date.now() - lastSaid > 10_000) {
        say(`${((Date.now() - pushAt) / 1000).toFixed(0)} s: ${items.length ? line : 'no wave yet'}`);
        last = line;
        lastSaid = Date.now();
      }
      if (sum('total') < packages || sum('open') > 0) return undefined;
      const all = await listAll();
      const bySource = new Set(all.map((t) => t.source));
      return bySource.size >= packages && all.every((t) => FINISHED.has(t.status)) ? all : undefined;
    }, timeoutMs, 1_000);
    say(`every build ended after ${((Date.now() - pushAt) / 1000).toFixed(1)} s`);
    // Builds of a wave are published by the wave, together, once none is left to run (issue 9): wait for that too.
    const waves = await waitFor('the wave to be published', async () => {
      const res = await fetchRetrying(`${f.apiUrl}/api/waves?repository=${REPOSITORY}`, {}, say);
      if (res.status === 404) return [] as Array<{ id: string; status: string; histories: unknown[] }>;
      const { items } = (await res.json()) as { items: Array<{ id: string; status: string; histories: unknown[] }> };
      return items.length > 0 && items.every((w) => w.status === 'published' || w.status === 'cancelled') ? items : undefined;
    }, timeoutMs, 250);
    const cpuAtEnd = cpuOf();
    say(`wave finished (published) after ${((Date.now() - pushAt) / 1000).toFixed(1)} s: ${waves.length} wave(s), ${waves.reduce((n, w) => n + w.histories.length, 0)} history write(s) by waves; collecting task events, logs and histories`);

    const tasks: TaskObservation[] = [];
    for (const row of rows) {
      const detail = await api<{ task: TaskRow; events: Array<{ from: string | null; to: string; at: string }> }>(`/api/tasks/${encodeURIComponent(row.id)}`);
      const log = await api<string>(`/api/tasks/${encodeURIComponent(row.id)}/log`).catch(() => undefined);
      const history = await f.client.workflow.getHandle(row.id).fetchHistory().then((h) => workflowTimings(h.events ?? []), () => undefined);
      tasks.push({
        id: row.id, source: row.source, status: detail.task.status, attempts: detail.task.attempts,
        events: detail.events.map((e) => ({ from: e.from, to: e.to, at: Date.parse(e.at) })),
        log: typeof log === 'string' ? logStages(log) : undefined,
        history,
      });
    }
    const figures: WaveFigures = {
      ...waveFigures({ slots, existingTasks: existing, backlog: prefetch, pushAt, tasks, dependencies: deps, indexCounts: await publishedCounts(f.reposDir) }),
      cpuMsPerPackage: cpuPerPackage(cpuAtPush, cpuAtEnd, packages),
      load: { atPush: cpuAtPush.load1, atEnd: cpuAtEnd.load1 },
      ...(split ? { cpus: split } : {}),
    };
    if (values.json) console.log(JSON.stringify(figures));
    else printFigures(figures, console.log);
  } finally {
    say('stopping the farm');
    await farm?.stop();
    if (values.keep) say(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

/** How often each package name is in the published index of `main`, resolved as moss does (root → volatile). */
async function publishedCounts(reposDir: string): Promise<Map<string, number>> {
  const repo = join(reposDir, 'main');
  if (!existsSync(join(repo, 'moss-root-index.json'))) return new Map();
  const root = parseRootIndex(readFileSync(join(repo, 'moss-root-index.json'), 'utf8'));
  const path = join(repo, resolveIndexPath(root, 'volatile', 'x86_64')!);
  const counts = new Map<string, number>();
  for (const e of await readIndex(readFileSync(path), path)) counts.set(e.name, (counts.get(e.name) ?? 0) + 1);
  return counts;
}

/**
 * GETs are retried on a network error: when summit's planning blocks this process's event loop for longer than
 * the API's keep-alive timeout, the server may close the kept socket just as the next request goes out on it.
 */
async function fetchRetrying(url: string, init: RequestInit, say: (line: string) => void): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(url, init);
    } catch (err) {
      if ((init.method ?? 'GET') !== 'GET' || attempt >= 5) throw err;
      say(`GET ${url} failed (${String((err as Error).cause ?? err)}); retrying`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`bench:wave: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
