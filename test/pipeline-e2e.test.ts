/**
 * The pipeline end to end, every part real: a git push through the post-receive hook → API → hub workflow →
 * intake → ordered dispatch → avalanche builds in systemd-nspawn (separate processes) → vessel fetch, verify and
 * publish → stone.index. PostgreSQL holds the read model; Temporal is the dev server.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { dataConverterFor } from '../workers/temporal';
import { main as summitCli } from '../cli/main';
import { POLL_SCHEDULE_ID } from '../workers/hub-control';
import { readIndex } from '../core/formats/repo-index';
import { parseRootIndex, resolveIndexPath } from '../core/formats/root-index';
import { Farm, hookedRepository, startFarm, waitFor, type TaskView } from './helpers/farm';
import { recipeYaml } from './helpers/git-repo';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { startTemporalTestServer, TemporalTestServer } from './support/temporal';

jest.setTimeout(600_000);

const EXAMPLES = resolve(__dirname, '..', 'examples', 'recipes');
let temporal: TemporalTestServer;
let pg: TestDatabase;
let work: string;
let farm: Farm;
let clone: string;


async function api<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${farm.api.url}${path}`, init);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function tasks(): Promise<TaskView[]> {
  return (await api<{ items: TaskView[] }>('/api/tasks?limit=200')).body.items;
}

const taskId = (source: string, release = 1, version = '1.0.0') => `build/e2e/recipes/${source}-${version}-${release}/x86_64`;

async function task(id: string): Promise<{ task: TaskView; events: Array<{ from: string | null; to: string; at: string }> }> {
  const { status, body } = await api<{ task: TaskView; events: Array<{ from: string | null; to: string; at: string }> }>(`/api/tasks/${encodeURIComponent(id)}`);
  if (status !== 200) throw new Error(`GET task ${id}: ${status}`);
  return body;
}

async function statusOf(id: string): Promise<string | undefined> {
  return (await tasks()).find((t) => t.id === id)?.status;
}

function waitStatus(id: string, wanted: string, timeoutMs = 180_000): Promise<true> {
  return waitFor(`${id} to be ${wanted}`, async () => ((await statusOf(id)) === wanted ? true : undefined), timeoutMs, async () =>
    (await tasks()).map((t) => `${t.id} ${t.status} ${t.reason ?? ''}`).join('\n'));
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }).trim();
}

/**
 * Commit and push. The push runs asynchronously: its post-receive hook calls the API, which lives in this very
 * process, so a synchronous push would block the event loop the API needs to answer it.
 */
async function push(message: string): Promise<string> {
  git(clone, 'add', '-A');
  git(clone, 'commit', '-q', '-m', message);
  const { stderr } = await promisify(execFile)('git', ['push', '-q', 'origin', 'main'], { cwd: clone });
  expect(stderr).toMatch(/summit: reported recipes/);
  return git(clone, 'rev-parse', 'HEAD');
}

function write(path: string, content: string): void {
  const file = join(clone, path);
  execFileSync('mkdir', ['-p', resolve(file, '..')]);
  writeFileSync(file, content);
}

/**
 * Builds are published by their wave (core/contracts/wave.ts), together, once none of the wave's builds is left to
 * run: wait until every wave has ended before reading the index.
 */
async function wavesSettled(): Promise<void> {
  await waitFor('every wave to end', async () => {
    const { body } = await api<{ items: Array<{ id: string; status: string }> }>('/api/waves?limit=200');
    return body.items.every((w) => w.status === 'published' || w.status === 'cancelled') ? true : undefined;
  }, 120_000, async () => JSON.stringify((await api('/api/waves?limit=200')).body));
}

/** The published index of `main`, resolved the way moss does: root index → volatile → history stone.index. */
async function publishedIndex(): Promise<{ history: string; path: string; entries: Awaited<ReturnType<typeof readIndex>> }> {
  await wavesSettled();
  const repo = join(farm.reposDir, 'main');
  const root = parseRootIndex(readFileSync(join(repo, 'moss-root-index.json'), 'utf8'));
  const path = join(repo, resolveIndexPath(root, 'volatile', 'x86_64')!);
  return { history: root.streams.volatile.history, path, entries: await readIndex(readFileSync(path), path) };
}

const BROKEN_C = 'int main(void) { return 0 }\n';
const FIXED_C = 'int main(void) { return 0; }\n';
const brokenRecipe = (release: number) => recipeYaml({ name: 'broken', version: '1.0.0', release, build: 'cc -o broken %(pkgdir)/broken.c && install -Dm755 broken %(installroot)%(bindir)/broken' });

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'summit-e2e-'));
  [temporal, pg] = await Promise.all([startTemporalTestServer(), createTestDatabase('e2e')]);
  farm = await startFarm({ work, temporalAddress: temporal.address, databaseUrl: pg.url });
  await farm.startBuilder('av1');
  await farm.startBuilder('av2');

  // The recipe repository: a bare repository with summit's hook installed, and a contributor's clone.
  ({ clone } = await hookedRepository(farm, work, 'e2e'));
  await waitFor('both builders to report to the hub', async () => {
    const { body } = await api<{ items: Array<{ id: string }> }>('/api/builders');
    return body.items.length >= 2 ? true : undefined;
  }, 60_000);
});

afterAll(async () => {
  await farm?.stop();
  await temporal?.stop();
  await pg?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('recipe push → ordered builds → verified artefacts → published index', () => {
  let hookToBuildMs = 0;

  it('builds liba, tool and app in dependency order after a push, fails broken, blocks needs-broken', async () => {
    for (const name of ['liba', 'tool', 'app']) cpSync(join(EXAMPLES, name), join(clone, name), { recursive: true });
    write('broken/stone.yaml', brokenRecipe(1));
    write('broken/broken.c', BROKEN_C);
    write('needs-broken/stone.yaml', recipeYaml({ name: 'needs-broken', version: '1.0.0', builddeps: ['broken'], build: 'install -Dm644 /dev/null %(installroot)%(datadir)/needs-broken/ok' }));
    const pushedAt = Date.now();
    await push('liba, tool, app, broken, needs-broken');

    const first = await waitFor('a first build to start', async () => {
      const all = await tasks();
      return all.some((t) => t.status !== 'new') ? Date.now() : undefined;
    }, 120_000);
    hookToBuildMs = first - pushedAt;

    for (const s of ['liba', 'tool', 'app']) await waitStatus(taskId(s), 'completed');
    await waitStatus(taskId('broken'), 'failed');
    await waitStatus(taskId('needs-broken'), 'blocked');

    // No build started before its dependency was published.
    const events = Object.fromEntries(await Promise.all(['liba', 'tool', 'app'].map(async (s) => [s, (await task(taskId(s))).events] as const)));
    const at = (s: string, to: string) => Date.parse(events[s].find((e) => e.to === to)!.at);
    expect(at('liba', 'completed')).toBeLessThanOrEqual(at('tool', 'building'));
    expect(at('tool', 'completed')).toBeLessThanOrEqual(at('app', 'building'));
    console.log(`e2e: hook call to first build started: ${hookToBuildMs} ms`);
  });

  it('publishes them in the index with the right hash and size, readable by summit index inspect', async () => {
    const { path, entries } = await publishedIndex();
    // build-root: the build root's C library and loader, the base package that makes the repository self-contained.
    expect(entries.map((e) => e.name).sort()).toEqual(['app', 'build-root', 'liba', 'liba-devel', 'tool']);
    for (const e of entries) {
      const file = resolve(path, '..', e.uri);
      expect(statSync(file).size).toBe(e.size);
      expect(createHash('sha256').update(readFileSync(file)).digest('hex')).toBe(e.hash);
    }
    let out = '';
    expect(await summitCli(['index', 'inspect', path, '--json'], { out: (t) => { out += t; }, err: () => undefined })).toBe(0);
    expect(JSON.parse(out).map((r: { name: string }) => r.name).sort()).toEqual(['app', 'build-root', 'liba', 'liba-devel', 'tool']);
  });

  it('keeps the compiler error of broken in its task and its log', async () => {
    const { task: broken } = await task(taskId('broken'));
    expect(broken.reason).toMatch(/build failed in step/);
    // gcc quotes with ‘’ in a UTF-8 locale and '' in C.
    expect(broken.logTail).toMatch(/error: expected [‘']?;[’']?/);
    const log = await fetch(`${farm.api.url}/api/tasks/${encodeURIComponent(taskId('broken'))}/log`);
    expect(log.status).toBe(200);
    expect(await log.text()).toMatch(/error: expected [‘']?;[’']?/);
  });

  it('lets only an admin retry a failed task, which becomes a new attempt', async () => {
    const path = `/api/tasks/${encodeURIComponent(taskId('broken'))}/retry`;
    expect((await api(path, { method: 'POST' })).status).toBe(401);
    expect((await api(path, { method: 'POST', headers: { authorization: `Bearer ${farm.hookToken}` } })).status).toBe(403);
    const before = (await task(taskId('broken'))).task.attempts;
    const retried = await api<{ status: string }>(path, { method: 'POST', headers: { authorization: `Bearer ${farm.adminToken}` } });
    expect(retried.status).toBe(200);
    expect(retried.body.status).toBe('new');
    await waitFor('the retried build to run and fail again', async () => {
      const t = (await task(taskId('broken'))).task;
      return t.attempts === before + 1 && t.status === 'failed' ? true : undefined;
    }, 120_000);
  });

  it('builds a fixed broken (release bumped), unblocks needs-broken and publishes both', async () => {
    write('broken/stone.yaml', brokenRecipe(2));
    write('broken/broken.c', FIXED_C);
    await push('fix broken');
    await waitStatus(taskId('broken', 2), 'completed');
    await waitStatus(taskId('needs-broken'), 'completed');
    expect(await statusOf(taskId('broken', 1))).toBe('superseded');
    const names = (await publishedIndex()).entries.map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['broken', 'needs-broken']));
  });

  it('retries a build elsewhere when its builder is killed, and publishes it exactly once', async () => {
    write('sleepy/stone.yaml', recipeYaml({ name: 'sleepy', version: '1.0.0', build: 'sleep 8 && install -Dm644 /dev/null %(installroot)%(datadir)/sleepy/done' }));
    await push('sleepy');
    const logName = `${encodeURIComponent(taskId('sleepy'))}.log`;
    const victim = await waitFor('sleepy to start on a builder', async () =>
      [...farm.builders.values()].find((b) => existsSync(join(b.dataDir, 'avalanche', 'logs', logName))), 120_000);
    victim.child.kill('SIGKILL');
    await waitStatus(taskId('sleepy'), 'completed', 240_000);
    const survivor = [...farm.builders.values()].find((b) => b !== victim)!;
    expect(existsSync(join(survivor.dataDir, 'avalanche', 'logs', logName))).toBe(true);
    const { entries } = await publishedIndex();
    expect(entries.filter((e) => e.name === 'sleepy')).toHaveLength(1);
    const pool = join(farm.reposDir, 'main', 'pool', 's', 'sleepy');
    expect(readdirSync(pool)).toEqual(['sleepy-1.0.0-1-1-x86_64.stone']);
  });

  it('stops a running build when an admin cancels it; nothing is published', async () => {
    write('slow/stone.yaml', recipeYaml({ name: 'slow', version: '1.0.0', build: 'sleep 60 && install -Dm644 /dev/null %(installroot)%(datadir)/slow/done' }));
    await push('slow');
    await waitStatus(taskId('slow'), 'building', 120_000);
    const path = `/api/tasks/${encodeURIComponent(taskId('slow'))}/cancel`;
    const cancelled = await api<{ status: string }>(path, { method: 'POST', headers: { authorization: `Bearer ${farm.adminToken}` } });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    const client = new Client({ connection: await Connection.connect({ address: temporal.address }), dataConverter: dataConverterFor({ payloadKeys: farm.payloadKeys }) });
    try {
      const closed = await waitFor('the build workflow to end', async () => {
        const d = await client.workflow.getHandle(taskId('slow')).describe();
        return d.status.name === 'RUNNING' ? undefined : d.status.name;
      }, 60_000);
      // Cancelled in the Temporal UI too, not a green Completed.
      expect(closed).toBe('CANCELLED');
    } finally {
      await client.connection.close();
    }
    expect(await statusOf(taskId('slow'))).toBe('cancelled');
    expect((await publishedIndex()).entries.some((e) => e.name === 'slow')).toBe(false);
  });

  it('picks up a commit pushed without the hook when the poll Schedule runs', async () => {
    write('quiet/stone.yaml', recipeYaml({ name: 'quiet', version: '1.0.0', build: 'install -Dm644 /dev/null %(installroot)%(datadir)/quiet/file' }));
    git(clone, 'add', '-A');
    git(clone, 'commit', '-q', '-m', 'quiet');
    // A fetch into the bare repository moves its branch without running its post-receive hook.
    const bare = join(work, 'recipes.git');
    execFileSync('git', ['-C', bare, 'fetch', '-q', clone, 'main:main']);
    const client = new Client({ connection: await Connection.connect({ address: temporal.address }), dataConverter: dataConverterFor({ payloadKeys: farm.payloadKeys }) });
    try {
      await client.schedule.getHandle(POLL_SCHEDULE_ID).trigger();
    } finally {
      await client.connection.close();
    }
    await waitStatus(taskId('quiet'), 'completed', 120_000);
  });

  it('refuses an artefact corrupted on the builder, naming the file and the hash mismatch; the index stays as it was', async () => {
    for (const b of farm.builders.values()) await b.stop();
    farm.builders.clear();
    await farm.startBuilder('av-corrupt', { SUMMIT_TEST_CORRUPT_ARTEFACTS: '1' });
    const before = await publishedIndex();
    const indexBytes = readFileSync(before.path);
    write('victim/stone.yaml', recipeYaml({ name: 'victim', version: '1.0.0', build: 'install -Dm644 /dev/null %(installroot)%(datadir)/victim/file' }));
    await push('victim');
    await waitStatus(taskId('victim'), 'failed', 180_000);
    const { task: victim } = await task(taskId('victim'));
    expect(victim.reason).toMatch(/vessel refused victim-1\.0\.0-1-1-x86_64\.stone: .*sha256 mismatch/);
    const after = await publishedIndex();
    expect(after.history).toBe(before.history);
    expect(readFileSync(after.path).equals(indexBytes)).toBe(true);
  });
});
