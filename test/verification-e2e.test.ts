/**
 * Verification builds on a real farm (dev server, PostgreSQL, summit, vessel, the API, two avalanche processes,
 * nspawn builds). The demo recipes (examples/recipes: liba → tool → app) are built on builder `one` alone; a
 * verification then has no other builder (skipped). With builder `two` up, each demo build rebuilt there is
 * identical. A recipe whose output embeds the build container's host name (the nspawn machine name, which names
 * the builder and its process: a real-world reproducibility fault, no test hook) differs: its repository's policy
 * verifies it once published, the file is named in the result, and a second mismatch in a row drains the builder
 * that built it (SUMMIT_VERIFY_SUSPEND_AFTER=2 here), by `verification`, in the admin events.
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { artefactsDir } from '../activities/avalanche/paths';
import { main as summitCli } from '../cli/main';
import { Farm, startFarm, waitFor, type TaskView } from './helpers/farm';
import { recipeYaml } from './helpers/git-repo';
import { describeWhenAvailable } from './support/ci';
import { nspawnUnavailableReason } from './support/nspawn';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { startTemporalTestServer, TemporalTestServer } from './support/temporal';

jest.setTimeout(900_000);

const EXAMPLES = resolve(__dirname, '..', 'examples', 'recipes');
let temporal: TemporalTestServer;
let pg: TestDatabase;
let work: string;
let farm: Farm;
let clone: string;

const id = (source: string, version: string): string => `build/verify/recipes/${source}-${version}-1/x86_64`;
const DEMO = [id('liba', '1.0.0'), id('tool', '1.0.0'), id('app', '1.0.0')];
const STAMP = id('stamp', '1.0');

type PublishedTask = TaskView & { published: Array<{ name: string; sha256: string }> | null };

interface VerificationView {
  id: string; buildId: string; n: number; by: string; result: string; originalBuilder: string | null; verifier: string | null;
  reason: string | null; packages: number | null; files: number | null; differenceCount: number; differences: Array<{ package: string; path: string; what: string[] }>;
}

/** Every file below a folder, relative, sorted. */
function listTree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }).trim();
}

async function push(message: string): Promise<void> {
  git(clone, 'add', '-A');
  git(clone, 'commit', '-q', '-m', message);
  await promisify(execFile)('git', ['push', '-q', 'origin', 'main'], { cwd: clone });
}

async function api<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${farm.api.url}${path}`, init);
  return { status: res.status, body: (await res.json()) as T };
}

const admin = (method: string, body?: unknown): RequestInit => ({
  method, headers: { authorization: `Bearer ${farm.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}),
});

async function taskOf(taskId: string): Promise<{ task: PublishedTask; verifications: VerificationView[] }> {
  return (await api<{ task: PublishedTask; verifications: VerificationView[] }>(`/api/tasks/${encodeURIComponent(taskId)}`)).body;
}

async function builderLogs(): Promise<string> {
  return [...farm.builders.values()].map((b) => `--- ${b.id}\n${readFileSync(b.logFile, 'utf8').slice(-3000)}`).join('\n');
}

async function completed(ids: readonly string[]): Promise<void> {
  await waitFor(`${ids.join(', ')} to be published`, async () => {
    const tasks = await Promise.all(ids.map(async (i) => (await fetch(`${farm.api.url}/api/tasks/${encodeURIComponent(i)}`)).status === 200 ? (await taskOf(i)).task : undefined));
    if (tasks.some((t) => t?.status === 'failed')) throw new Error(`a build failed: ${JSON.stringify(tasks)}`);
    return tasks.every((t) => t?.status === 'completed') ? true : undefined;
  }, 600_000, builderLogs);
}

/** Waits for verification `n` of a build to end, through the API. */
async function verification(buildId: string, n: number): Promise<VerificationView> {
  return waitFor(`verification ${n} of ${buildId} to end`, async () => {
    const v = (await taskOf(buildId)).verifications.find((x) => x.n === n);
    return v && v.result !== 'running' ? v : undefined;
  }, 600_000, async () => `${JSON.stringify((await taskOf(buildId)).verifications)}\n${await builderLogs()}`);
}

/** The `summit` command against this farm's API as its admin: exit code and output. */
async function cli(...args: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const env = { SUMMIT_API_URL: process.env.SUMMIT_API_URL, SUMMIT_TOKEN: process.env.SUMMIT_TOKEN };
  process.env.SUMMIT_API_URL = farm.api.url;
  process.env.SUMMIT_TOKEN = farm.adminToken;
  try {
    const code = await summitCli(args, { out: (t) => out.push(t), err: (t) => out.push(t) });
    return { code, out: out.join('\n') };
  } finally {
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

/** POST /api/tasks/:id/verify through the CLI, as an admin does: the verification's number. */
async function verifyByCli(buildId: string): Promise<number> {
  const { code, out } = await cli('tasks', 'verify', buildId, '--json');
  expect({ code, out }).toMatchObject({ code: 0 });
  return (JSON.parse(out) as { n: number }).n;
}

describeWhenAvailable(nspawnUnavailableReason(), 'verification builds', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'summit-verify-'));
    [temporal, pg] = await Promise.all([startTemporalTestServer(), createTestDatabase('verify')]);
    farm = await startFarm({ work, temporalAddress: temporal.address, databaseUrl: pg.url, env: { SUMMIT_VERIFY_SUSPEND_AFTER: '2' } });
    // The recipe repository with its verification policy: `stamp` always verified, nothing else sampled.
    const bare = join(work, 'recipes.git');
    git(work, 'init', '-q', '--bare', '-b', 'main', bare);
    const installed = await summitCli(['hook', 'install', bare, '--repository', 'recipes', '--url', farm.api.url, '--token', farm.hookToken, '--ref', 'main'], { out: () => undefined, err: (t) => console.error(t) });
    expect(installed).toBe(0);
    const created = await api('/api/repositories', admin('POST', { id: 'recipes', project: 'verify', url: bare, ref: 'main', verify: { packages: ['stamp'] } }));
    expect(created.status).toBe(201);
    clone = join(work, 'clone');
    git(work, 'clone', '-q', bare, clone);
    git(clone, 'config', 'user.email', 'verify@summit.invalid');
    git(clone, 'config', 'user.name', 'verify');
    git(clone, 'checkout', '-q', '-b', 'main');
    await farm.startBuilder('one', { SUMMIT_BUILDER_SLOTS: '2' });
  });

  afterAll(async () => {
    await farm?.stop();
    await temporal?.stop();
    await pg?.drop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('records a verification with no other builder as skipped', async () => {
    cpSync(EXAMPLES, clone, { recursive: true });
    rmSync(join(clone, 'README.md'), { force: true });
    await push('demo recipes');
    await completed(DEMO);
    for (const i of DEMO) expect((await taskOf(i)).task.builder).toBe('one');
    const started = await api<{ id: string; n: number }>(`/api/tasks/${encodeURIComponent(DEMO[0])}/verify`, admin('POST'));
    expect(started).toEqual({ status: 202, body: { id: `verify-${DEMO[0]}-1`, buildId: DEMO[0], n: 1, by: 'admin:admin' } });
    expect(await verification(DEMO[0], 1)).toMatchObject({ result: 'skipped', reason: 'no other builder', originalBuilder: 'one', verifier: null, by: 'admin:admin' });
  });

  it('rebuilds each demo build on a second builder and finds it identical', async () => {
    await farm.startBuilder('two', { SUMMIT_BUILDER_SLOTS: '2' });
    await waitFor('builder two to be live', async () => ((await api<{ items: Array<{ id: string }> }>('/api/builders')).body.items.some((b) => b.id === 'two') ? true : undefined), 60_000);
    const publishedBefore = await Promise.all(DEMO.map(async (i) => (await taskOf(i)).task.published));
    const poolBefore = listTree(farm.reposDir);
    const numbers = await Promise.all(DEMO.map((i) => verifyByCli(i)));
    expect(numbers).toEqual([2, 1, 1]);
    const results = await Promise.all(DEMO.map((i, k) => verification(i, numbers[k])));
    for (const v of results) {
      expect(v).toMatchObject({ result: 'identical', originalBuilder: 'one', verifier: 'two', differenceCount: 0, differences: [] });
      expect(v.files).toBeGreaterThan(0);
    }
    // liba has its -devel package too: both compared.
    expect(results[0].packages).toBe(2);
    const listed = (await api<{ items: VerificationView[] }>('/api/verifications?result=identical')).body.items;
    expect(listed.map((v) => v.buildId).sort()).toEqual([...DEMO].sort());
    // The rebuilds were never published nor imported: the tasks and vessel's repositories are as they were, and
    // the verifier deletes its artefacts once the result is recorded.
    expect(await Promise.all(DEMO.map(async (i) => (await taskOf(i)).task.published))).toEqual(publishedBefore);
    expect(listTree(farm.reposDir)).toEqual(poolBefore);
    expect(readdirSync(join(dirname(farm.reposDir), 'staging')).filter((n) => n.startsWith('verify-'))).toEqual([]);
    await waitFor('builder two to delete the rebuilds\' artefacts', async () => (DEMO.every((i) => !existsSync(artefactsDir(farm.builders.get('two')!.dataDir, i))) ? true : undefined), 60_000);
  });

  it('flags a build whose output differs, with the differing file, by the repository policy; repeated mismatches drain its builder', async () => {
    mkdirSync(join(clone, 'stamp'));
    // Packaging the build host's name: the container's host name is its nspawn machine name (builder, process, run).
    writeFileSync(join(clone, 'stamp', 'stone.yaml'), recipeYaml({
      name: 'stamp', build: 'install -d %(installroot)%(datadir)/stamp && cat /proc/sys/kernel/hostname > %(installroot)%(datadir)/stamp/built-on && echo same > %(installroot)%(datadir)/stamp/constant',
    }));
    await push('stamp: records where it was built');
    await completed([STAMP]);
    const built = (await taskOf(STAMP)).task.builder!;
    const other = built === 'one' ? 'two' : 'one';
    const first = await verification(STAMP, 1);
    expect(first).toMatchObject({
      by: 'policy', result: 'different', originalBuilder: built, verifier: other, differenceCount: 1,
      differences: [{ package: 'stamp', path: '/usr/share/stamp/built-on', what: [expect.stringMatching(/^content digest/)] }],
    });
    let builders = (await api<{ items: Array<{ id: string; drained: { by: string; reason: string } | null }> }>('/api/builders')).body.items;
    expect(builders.find((b) => b.id === built)!.drained).toBeNull();

    expect(await verifyByCli(STAMP)).toBe(2);
    expect(await verification(STAMP, 2)).toMatchObject({ result: 'different', originalBuilder: built, verifier: other });
    // The drain is written just after the result that completes the streak (recordVerification): wait for it.
    builders = await waitFor('the builder whose builds differ to be drained', async () => {
      const items = (await api<{ items: Array<{ id: string; drained: { by: string; reason: string } | null }> }>('/api/builders')).body.items;
      return items.find((b) => b.id === built)?.drained ? items : undefined;
    }, 60_000);
    expect(builders.find((b) => b.id === built)!.drained).toMatchObject({ by: 'verification', reason: `2 verification builds in a row differ: ${STAMP}, ${STAMP}` });
    expect(builders.find((b) => b.id === other)!.drained).toBeNull();
    const farmState = (await api<{ events: Array<{ subject: string; action: string; by: string }> }>('/api/farm')).body;
    expect(farmState.events).toContainEqual(expect.objectContaining({ subject: `builder:${built}`, action: 'drain', by: 'verification' }));
    const different = (await api<{ items: VerificationView[] }>('/api/verifications?result=different')).body.items;
    expect(different.map((v) => v.n)).toEqual([2, 1]);
    // The same, as people read it.
    const shown = await cli('tasks', 'show', STAMP);
    expect(shown.code).toBe(0);
    expect(shown.out).toMatch(/^\s*1\s+different\s+\S+\s+1 differ: \/usr\/share\/stamp\/built-on \(content digest/m);
    const listed = await cli('verifications', 'list', '--result', 'different');
    expect(listed.out.split('\n').filter((l) => l.startsWith(STAMP))).toHaveLength(2);
  });
});
