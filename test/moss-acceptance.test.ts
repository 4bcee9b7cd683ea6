/**
 * Issue 9's acceptance with the real moss (../shared/tools/moss, built from AerynOS/os-tools): the demo repository
 * published by `npm start` is self-contained. Into an EMPTY root, with that repository as the only one, moss
 * installs `app` (and with it tool, liba and the build-root base package: C library and program interpreter), and
 * the installed `tool` runs on the root's own loader and libraries and prints liba's answer. The same through
 * `stream/unstable` after an admin promotes through the API; then tag, rollback and prune through the API and the
 * `summit index` commands, each reflected in moss-root-index.json and recorded with who asked; after the prune,
 * every kept history is still installable.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { PruneResult, RepositoryHistory } from '../core/contracts/vessel';
import { parseRootIndex, type RootIndex } from '../core/formats/root-index';
import { waitFor } from './helpers/farm';
import { alive, npmStart, npmStartEnv, pidsMentioning, publishedEntries, type Started, waitUntilUp } from './helpers/npm-start';
import { describeWhenAvailable } from './support/ci';

jest.setTimeout(900_000);

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..');
const MOSS = resolve(ROOT, '..', 'shared', 'tools', 'moss');

let dataDir: string;
let work: string;
let env: Record<string, string>;
let started: Started | undefined;

const repos = () => join(dataDir, 'vessel', 'repos');
const rootIndex = (): RootIndex => parseRootIndex(readFileSync(join(repos(), 'main', 'moss-root-index.json'), 'utf8'));
const adminToken = (): string =>
  (JSON.parse(readFileSync(join(dataDir, 'tokens.json'), 'utf8')) as { tokens: Array<{ role: string; token: string }> }).tokens.find((t) => t.role === 'admin')!.token;

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`http://127.0.0.1:${env.SUMMIT_API_PORT}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as T };
}

async function summit(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [join(ROOT, 'bin', 'summit.js'), ...args], {
    env: { ...process.env, SUMMIT_API_URL: `http://127.0.0.1:${env.SUMMIT_API_PORT}`, SUMMIT_DATA_DIR: dataDir, SUMMIT_TOKEN: '' },
  });
  return stdout;
}

async function moss(root: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(MOSS, ['-D', root, '-y', ...args], { maxBuffer: 16 << 20 });
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`moss ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/**
 * A fresh, empty root with the demo repository (through `version`) as its only repository; `app` installed; the
 * root's `tool` run on the root's own loader and C library: chrooted where we may, else through the root's loader
 * with the root's library folder as the only search path.
 */
async function installAndRun(version: string): Promise<{ root: string; toolSays: string; repoList: string }> {
  const root = mkdtempSync(join(work, 'root-'));
  expect(readdirSync(root)).toEqual([]);
  await moss(root, ['repo', 'add', 'demo', `file://${repos()}`, '--root-index', `version=${version}`]);
  const repoList = await moss(root, ['repo', 'list']);
  await moss(root, ['install', 'app']);
  const toolPath = join(root, 'usr', 'bin', 'tool');
  expect(existsSync(toolPath)).toBe(true);
  const said =
    process.getuid?.() === 0
      ? spawnSync('chroot', [root, '/usr/bin/tool'], { encoding: 'utf8' })
      : spawnSync(join(root, 'usr', 'lib', 'ld-linux-x86-64.so.2'), ['--inhibit-cache', '--library-path', join(root, 'usr', 'lib'), toolPath], { encoding: 'utf8' });
  if (said.status !== 0) throw new Error(`tool failed in ${root}: ${said.status} ${said.stderr}`);
  return { root, toolSays: said.stdout, repoList };
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'summit-moss-'));
  work = mkdtempSync(join(tmpdir(), 'summit-moss-roots-'));
  env = await npmStartEnv(dataDir);
});

afterAll(() => {
  if (started) {
    try { process.kill(-started.child.pid!, 'SIGKILL'); } catch { /* already gone */ }
  }
  for (const pid of dataDir ? pidsMentioning(join(dataDir, 'temporal.db')) : []) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (const dir of [dataDir, work]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describeWhenAvailable(existsSync(MOSS) ? undefined : `moss not found at ${MOSS}`, 'the demo repository and the real moss', () => {
  it('installs app into an empty root from the repository alone, and tool runs on the root\'s own loader and libc; the same via stream/unstable after a promote', async () => {
    started = npmStart(env);
    const farm = started;
    await waitUntilUp(farm, 'npm start to be up', 300_000);
    await waitFor('the demo packages in the published index', async () => {
      const names = (await publishedEntries(dataDir))?.map((e) => e.name);
      return names && ['app', 'liba', 'liba-devel', 'tool'].every((n) => names.includes(n)) ? names : undefined;
    }, 300_000, async () => farm.output().slice(-3000));

    // The published set carries the build root's C library and interpreter as a base package.
    const entries = (await publishedEntries(dataDir))!;
    const base = entries.find((e) => e.name === 'build-root');
    expect(base?.provides).toEqual(expect.arrayContaining(['interpreter(/lib64/ld-linux-x86-64.so.2(x86_64))', 'soname(libc.so.6(x86_64))']));

    const volatile = await installAndRun('stream/volatile');
    expect(volatile.repoList).toMatch(/demo/);
    expect(volatile.repoList.trim().split('\n').filter((l) => l.trim().startsWith('-'))).toHaveLength(1);
    expect(volatile.toolSays).toMatch(/liba answers 42/);
    // What the program ran on is the root's own: the loader and libc came from the repository.
    for (const f of ['ld-linux-x86-64.so.2', 'libc.so.6', 'libliba.so.1']) expect(existsSync(join(volatile.root, 'usr', 'lib', f))).toBe(true);

    // No unstable stream before a promote: moss refuses it, as the issue measured.
    expect(rootIndex().streams.unstable).toBeUndefined();
    const promoted = await api<RepositoryHistory>('POST', '/api/indexes/main/promote', {});
    expect(promoted.status).toBe(200);
    let volatileId = rootIndex().streams.volatile.history;
    expect(promoted.json.streams).toEqual({ volatile: volatileId, unstable: volatileId });
    expect(rootIndex().streams.unstable).toEqual({ format: 'v0', history: volatileId });
    const unstable = await installAndRun('stream/unstable');
    expect(unstable.toolSays).toMatch(/liba answers 42/);

    // Two more pushes (liba release 2, then 3): each is a wave, each wave one more history.
    const clone = join(work, 'demo');
    const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
    git(work, 'clone', '-q', join(dataDir, 'demo-recipes.git'), 'demo');
    for (const release of [2, 3]) {
      const recipe = join(clone, 'liba', 'stone.yaml');
      writeFileSync(recipe, readFileSync(recipe, 'utf8').replace(/^release(\s*):.*$/m, `release$1: ${release}`));
      git(clone, '-c', 'user.email=user@summit.invalid', '-c', 'user.name=User', 'commit', '-qam', `liba: release ${release}`);
      git(clone, 'push', '-q', 'origin', 'main');
      await waitFor(`liba release ${release} in the published index`, async () =>
        ((await publishedEntries(dataDir))?.some((e) => e.name === 'liba' && e.release === release) ? true : undefined), 300_000, async () => farm.output().slice(-3000));
    }

    // Tag and rollback through the CLI, reflected in the root index.
    const ids = Object.keys(rootIndex().history).map(Number).sort((a, b) => a - b);
    expect(ids.length).toBe(3);
    const first = String(ids[0]);
    expect(JSON.parse(await summit(['index', 'tag', 'main', 'first-demo', first, '--json'])) as RepositoryHistory).toMatchObject({ tags: { 'first-demo': first } });
    expect(rootIndex().tags['first-demo']).toEqual({ format: 'v0', history: first });
    await summit(['index', 'rollback', 'main', 'unstable', first]);
    expect(rootIndex().streams.unstable.history).toBe(first);
    const refused = await api<{ error: { message: string } }>('POST', '/api/indexes/main/rollback', { stream: 'unstable', history: '999' });
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toMatch(/history 999 does not exist/);
    volatileId = rootIndex().streams.volatile.history;
    await summit(['index', 'rollback', 'main', 'unstable', volatileId]);

    // Prune: the dry run lists and changes nothing; the real one keeps the newest plus the tagged, removes the rest
    // and their pool files, and every kept history stays installable.
    const before = readFileSync(join(repos(), 'main', 'moss-root-index.json'), 'utf8');
    const dry = JSON.parse(await summit(['index', 'prune', 'main', '--keep', '1', '--dry-run', '--json'])) as PruneResult;
    expect(dry.dryRun).toBe(true);
    expect(dry.kept).toEqual([first, volatileId]);
    expect(dry.removedHistories).toEqual(ids.map(String).filter((id) => id !== first && id !== volatileId));
    expect(readFileSync(join(repos(), 'main', 'moss-root-index.json'), 'utf8')).toBe(before);
    const pruned = (await api<PruneResult>('POST', '/api/indexes/main/prune', { keep: 1 })).json;
    expect(pruned.removedHistories).toEqual(dry.removedHistories);
    expect(pruned.removedPoolFiles).toEqual(dry.removedPoolFiles);
    expect(Object.keys(rootIndex().history).sort()).toEqual([first, volatileId].sort());
    for (const id of dry.removedHistories) expect(existsSync(join(repos(), 'main', 'history', id))).toBe(false);
    for (const file of pruned.removedPoolFiles) expect(existsSync(join(repos(), 'main', file))).toBe(false);
    expect((await installAndRun('stream/volatile')).toolSays).toMatch(/liba answers 42/);
    // The tagged first history (the demo's first wave, with its base package) too, read by its stone.index.
    const tagged = mkdtempSync(join(work, 'root-'));
    await moss(tagged, ['repo', 'add', 'demo', `file://${join(repos(), 'main', 'history', first, 'x86_64', 'stone.index')}`]);
    await moss(tagged, ['install', 'liba']);
    expect(existsSync(join(tagged, 'usr', 'lib', 'libc.so.6'))).toBe(true);

    // Every command is recorded with who asked and when.
    const events = (await api<{ items: Array<{ command: string; by: string; outcome: string; at: string }> }>('GET', '/api/indexes/main/events')).json.items;
    expect(events.map((e) => `${e.command}:${e.outcome}`)).toEqual(['prune:ok', 'prune:ok', 'rollback:ok', 'rollback:refused', 'rollback:ok', 'tag:ok', 'promote:ok']);
    expect(events.every((e) => e.by === 'admin' && !Number.isNaN(Date.parse(e.at)))).toBe(true);
  });
});
