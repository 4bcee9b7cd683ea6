/**
 * Waves end to end on a real farm (Temporal dev server, PostgreSQL, nspawn builders, vessel): a push becomes one
 * wave whose builds are published together in one history; cascade rebuilds dependents with the next build release
 * in dependency order; a removed recipe leaves the next history; a cancelled wave publishes nothing; a newer
 * release supersedes an older build in flight, which is never published.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { main as summitCli } from '../cli/main';
import { readIndex } from '../core/formats/repo-index';
import { parseRootIndex, resolveIndexPath } from '../core/formats/root-index';
import { dataConverterFor } from '../workers/temporal';
import { Farm, startFarm, waitFor, type TaskView } from './helpers/farm';
import { recipeYaml } from './helpers/git-repo';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { startTemporalTestServer, TemporalTestServer } from './support/temporal';

jest.setTimeout(900_000);

const EXAMPLES = resolve(__dirname, '..', 'examples', 'recipes');
let temporal: TemporalTestServer;
let pg: TestDatabase;
let work: string;
let farm: Farm;
let clone: string;
let client: Client;

async function api<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${farm.api.url}${path}`, init);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

interface WaveView {
  wave: { id: string; status: string; histories: Array<{ index: string; historyId: string; builds: number }>; removals: Array<{ source: string; packages: string[] }>; cascade: Array<{ source: string; cause: string }> | null };
  progress: { total: number; done: number; failed: number; dropped: number; open: number };
  tasks: Array<TaskView & { release: number }>;
  removals: Array<{ index: string; source: string; packages: string[] }>;
}

const taskId = (source: string, release = 1, version = '1.0.0') => `build/waves/recipes/${source}-${version}-${release}/x86_64`;
const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }).trim();

/** Commit and push (asynchronously: the hook calls the API living in this process). Returns the wave's id. */
async function push(message: string): Promise<string> {
  git(clone, 'add', '-A');
  git(clone, 'commit', '-q', '-m', message);
  await promisify(execFile)('git', ['push', '-q', 'origin', 'main'], { cwd: clone });
  return `wave-recipes-${git(clone, 'rev-parse', 'HEAD').slice(0, 12)}`;
}

function write(path: string, content: string): void {
  const file = join(clone, path);
  execFileSync('mkdir', ['-p', resolve(file, '..')]);
  writeFileSync(file, content);
}

async function wave(id: string): Promise<WaveView | undefined> {
  const { status, body } = await api<WaveView>(`/api/waves/${encodeURIComponent(id)}`);
  return status === 200 ? body : undefined;
}

function waitWave(id: string, wanted: string, timeoutMs = 300_000): Promise<WaveView> {
  return waitFor(`${id} to be ${wanted}`, async () => {
    const w = await wave(id);
    return w?.wave.status === wanted ? w : undefined;
  }, timeoutMs, async () => JSON.stringify(await wave(id), null, 1));
}

async function taskStatus(id: string): Promise<TaskView | undefined> {
  const { status, body } = await api<{ task: TaskView }>(`/api/tasks/${encodeURIComponent(id)}`);
  return status === 200 ? body.task : undefined;
}

function repoRoot(): ReturnType<typeof parseRootIndex> {
  return parseRootIndex(readFileSync(join(farm.reposDir, 'main', 'moss-root-index.json'), 'utf8'));
}

const historyCount = (): number => {
  try {
    return Object.keys(repoRoot().history).length;
  } catch {
    return 0;
  }
};

async function indexOf(stream = 'volatile'): Promise<Awaited<ReturnType<typeof readIndex>>> {
  const path = join(farm.reposDir, 'main', resolveIndexPath(repoRoot(), stream, 'x86_64')!);
  return readIndex(readFileSync(path), path);
}

/** Every history ever written: each one's packages. */
async function everyHistory(): Promise<Array<Awaited<ReturnType<typeof readIndex>>>> {
  return Promise.all(Object.keys(repoRoot().history).map(async (id) => {
    const path = join(farm.reposDir, 'main', 'history', id, 'x86_64', 'stone.index');
    return readIndex(readFileSync(path), path);
  }));
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'summit-waves-'));
  [temporal, pg] = await Promise.all([startTemporalTestServer(), createTestDatabase('waves')]);
  farm = await startFarm({ work, temporalAddress: temporal.address, databaseUrl: pg.url, env: { SUMMIT_CASCADE_POLICY: 'always' } });
  await farm.startBuilder('wv1');
  await farm.startBuilder('wv2');
  // The recipe repository, with cascade on and summit's hook installed; a contributor's clone.
  const bare = join(work, 'recipes.git');
  git(work, 'init', '-q', '--bare', '-b', 'main', bare);
  expect(await summitCli(['hook', 'install', bare, '--repository', 'recipes', '--url', farm.api.url, '--token', farm.hookToken, '--ref', 'main'], { out: () => undefined, err: (t) => console.error(t) })).toBe(0);
  const created = await api('/api/repositories', {
    method: 'POST', headers: { authorization: `Bearer ${farm.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'recipes', project: 'waves', url: bare, ref: 'main', cascade: true }),
  });
  expect(created.status).toBe(201);
  clone = join(work, 'clone');
  git(work, 'clone', '-q', bare, clone);
  git(clone, 'config', 'user.email', 'waves@summit.invalid');
  git(clone, 'config', 'user.name', 'waves');
  git(clone, 'checkout', '-q', '-b', 'main');
  client = new Client({ connection: await Connection.connect({ address: temporal.address }), dataConverter: dataConverterFor({ payloadKeys: farm.payloadKeys }) });
});

afterAll(async () => {
  await client?.connection.close();
  await farm?.stop();
  await temporal?.stop();
  await pg?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('waves', () => {
  let first: string;

  it('publishes a push of several recipes in exactly one new history, when the whole wave is built', async () => {
    execFileSync('cp', ['-R', join(EXAMPLES, 'liba'), join(EXAMPLES, 'tool'), join(EXAMPLES, 'app'), clone]);
    write('base/stone.yaml', recipeYaml({ name: 'base', version: '1.0.0', build: 'install -Dm644 /dev/null %(installroot)%(datadir)/base/one' }));
    write('mid/stone.yaml', recipeYaml({ name: 'mid', version: '1.0.0', builddeps: ['base'], build: 'install -Dm644 /dev/null %(installroot)%(datadir)/mid/one' }));
    write('top/stone.yaml', recipeYaml({ name: 'top', version: '1.0.0', builddeps: ['mid'], build: 'install -Dm644 /dev/null %(installroot)%(datadir)/top/one' }));
    expect(historyCount()).toBe(0);
    first = await push('liba, tool, app, base, mid, top');
    const done = await waitWave(first, 'published');
    expect(done.progress).toEqual({ total: 6, done: 6, failed: 0, dropped: 0, open: 0 });
    // One history for the six builds: none appeared while the wave was building.
    expect(historyCount()).toBe(1);
    expect(done.wave.histories).toEqual([expect.objectContaining({ index: 'main', builds: 6 })]);
    const names = (await indexOf()).map((e) => e.name).sort();
    // build-root: the base package vessel makes from the build root (the C library and loader these link to).
    expect(names).toEqual(['app', 'base', 'build-root', 'liba', 'liba-devel', 'mid', 'tool', 'top']);

    // Every build carries its wave as a search attribute; the wave's own workflow too.
    const builds: string[] = [];
    for await (const w of client.workflow.list({ query: `BuildWave = "${first}" AND WorkflowType = "buildWorkflow"` })) builds.push(w.workflowId);
    expect(builds.sort()).toEqual(['app', 'base', 'liba', 'mid', 'tool', 'top'].map((s) => taskId(s)).sort());
    // The workflow ends just after recording the publish.
    expect(await client.workflow.getHandle(first).result()).toEqual({ waveId: first, status: 'published', histories: [{ index: 'main', historyId: done.wave.histories[0].historyId }] });
    expect((await client.workflow.getHandle(first).describe()).status.name).toBe('COMPLETED');

    // The CLI lists it.
    const out: string[] = [];
    process.env.SUMMIT_API_URL = farm.api.url;
    expect(await summitCli(['waves', 'list', '--json'], { out: (t) => out.push(t), err: (t) => console.error(t) })).toBe(0);
    const listed = JSON.parse(out.join('')) as { items: Array<{ id: string; status: string; progress: { done: number } }> };
    expect(listed.items.find((w) => w.id === first)).toMatchObject({ status: 'published', progress: { done: 6 } });
    const watched: string[] = [];
    expect(await summitCli(['waves', 'watch', first], { out: (t) => watched.push(t), err: (t) => console.error(t) })).toBe(0);
    expect(watched[0]).toMatch(/^\[#+\] 6\/6 built, 0 failed, 0 dropped, 0 to go · published$/);

    // `summit index history` and `summit index promote` on the index the wave published (admin token).
    const historyId = done.wave.histories[0].historyId;
    const index = async (...argv: string[]) => {
      const printed: string[] = [];
      const saved = process.env.SUMMIT_TOKEN;
      process.env.SUMMIT_TOKEN = farm.adminToken;
      try {
        expect(await summitCli(['index', ...argv, '--json'], { out: (t) => printed.push(t), err: (t) => console.error(t) })).toBe(0);
      } finally {
        if (saved === undefined) delete process.env.SUMMIT_TOKEN;
        else process.env.SUMMIT_TOKEN = saved;
      }
      return JSON.parse(printed.join('')) as { histories: Array<{ id: string }>; streams: Record<string, string>; tags: Record<string, string> };
    };
    const history = await index('history', 'main');
    expect([history.histories.map((h) => h.id), history.streams]).toEqual([[historyId], { volatile: historyId }]);
    expect((await index('promote', 'main')).streams).toEqual({ volatile: historyId, unstable: historyId });
    expect(parseRootIndex(readFileSync(join(farm.reposDir, 'main', 'moss-root-index.json'), 'utf8')).streams.unstable.history).toBe(historyId);
  });

  it('cascades a new release of base to mid and top, rebuilt in order with the next build release, in the same wave', async () => {
    const before = historyCount();
    write('base/stone.yaml', recipeYaml({ name: 'base', version: '1.0.0', release: 2, build: 'install -Dm644 /dev/null %(installroot)%(datadir)/base/two' }));
    const id = await push('base: release 2');
    const done = await waitWave(id, 'published');
    expect(done.wave.cascade?.map((c) => c.source).sort()).toEqual(['mid', 'top']);
    expect(done.tasks.map((t) => t.id).sort()).toEqual([taskId('base', 2), taskId('mid'), taskId('top')].sort());
    expect(historyCount()).toBe(before + 1);
    const byName = new Map((await indexOf()).map((e) => [e.name, e]));
    expect(byName.get('base')).toMatchObject({ release: 2, buildRelease: 1 });
    expect(byName.get('mid')).toMatchObject({ release: 1, buildRelease: 2 });
    expect(byName.get('top')).toMatchObject({ release: 1, buildRelease: 2 });
    // Ordered by the graph: each rebuild started after what it builds against was built and staged.
    const events = async (t: string) => (await api<{ events: Array<{ to: string; at: string }> }>(`/api/tasks/${encodeURIComponent(t)}`)).body.events;
    const last = (evs: Array<{ to: string; at: string }>, to: string) => Date.parse(evs.filter((e) => e.to === to).at(-1)!.at);
    const [base, mid, top] = await Promise.all([events(taskId('base', 2)), events(taskId('mid')), events(taskId('top'))]);
    expect(last(base, 'completed')).toBeLessThanOrEqual(last(mid, 'building'));
    expect(last(mid, 'completed')).toBeLessThanOrEqual(last(top, 'building'));
  });

  it('takes a removed recipe out of the next history, and says so in the wave', async () => {
    const before = historyCount();
    rmSync(join(clone, 'top'), { recursive: true });
    const id = await push('remove top');
    const done = await waitWave(id, 'published');
    expect(done.removals).toEqual([{ index: 'main', source: 'top', packages: ['top'] }]);
    expect(historyCount()).toBe(before + 1);
    expect((await indexOf()).map((e) => e.name)).not.toContain('top');
  });

  it('publishes nothing of a cancelled wave and stops its build', async () => {
    write('slow/stone.yaml', recipeYaml({ name: 'slow', version: '1.0.0', build: 'sleep 120 && install -Dm644 /dev/null %(installroot)%(datadir)/slow/done' }));
    write('quick/stone.yaml', recipeYaml({ name: 'quick', version: '1.0.0', build: 'install -Dm644 /dev/null %(installroot)%(datadir)/quick/done' }));
    const id = await push('slow and quick');
    await waitFor('quick staged and slow building', async () => {
      const [s, q] = await Promise.all([taskStatus(taskId('slow')), taskStatus(taskId('quick'))]);
      return s?.status === 'building' && q?.status === 'completed' ? true : undefined;
    }, 180_000);
    const before = historyCount();
    const refused = await api(`/api/waves/${id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${farm.hookToken}` } });
    expect(refused.status).toBe(403);
    // Through the CLI, with the admin token from the environment.
    const out: string[] = [];
    process.env.SUMMIT_API_URL = farm.api.url;
    process.env.SUMMIT_TOKEN = farm.adminToken;
    try {
      expect(await summitCli(['waves', 'cancel', id, '--json'], { out: (t) => out.push(t), err: (t) => console.error(t) })).toBe(0);
    } finally {
      delete process.env.SUMMIT_TOKEN;
    }
    expect(JSON.parse(out.join(''))).toEqual({ waveId: id, status: 'cancelled' });
    await waitFor('the slow build workflow to end', async () => {
      const d = await client.workflow.getHandle(taskId('slow')).describe();
      return d.status.name === 'RUNNING' ? undefined : d.status.name;
    }, 60_000).then((s) => expect(s).toBe('CANCELLED'));
    const result = (await client.workflow.getHandle(id).result()) as { status: string };
    expect(result.status).toBe('cancelled');
    expect((await wave(id))?.wave.status).toBe('cancelled');
    expect((await taskStatus(taskId('slow')))?.status).toBe('cancelled');
    expect(historyCount()).toBe(before);
    const names = (await indexOf()).map((e) => e.name);
    expect(names).not.toContain('quick');
    expect(names).not.toContain('slow');
    // An ended wave refuses commands.
    expect((await api(`/api/waves/${id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${farm.adminToken}` } })).status).toBe(409);
  });

  it('cancels an older release still building when a newer one is pushed, and never publishes it', async () => {
    write('slow2/stone.yaml', recipeYaml({ name: 'slow2', version: '1.0.0', release: 1, build: 'sleep 120 && install -Dm644 /dev/null %(installroot)%(datadir)/slow2/one' }));
    const older = await push('slow2 release 1');
    await waitFor('slow2 release 1 to build', async () => ((await taskStatus(taskId('slow2')))?.status === 'building' ? true : undefined), 180_000);
    write('slow2/stone.yaml', recipeYaml({ name: 'slow2', version: '1.0.0', release: 2, build: 'install -Dm644 /dev/null %(installroot)%(datadir)/slow2/two' }));
    const newer = await push('slow2 release 2');
    await waitWave(newer, 'published');
    const old = await taskStatus(taskId('slow2'));
    expect(old).toMatchObject({ status: 'cancelled', supersededBy: expect.stringContaining('release 2') });
    await waitWave(older, 'published');
    expect((await indexOf()).find((e) => e.name === 'slow2')).toMatchObject({ release: 2 });
    for (const history of await everyHistory()) expect(history.some((e) => e.name === 'slow2' && e.release === 1)).toBe(false);
  });
});
