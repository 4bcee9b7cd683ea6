/**
 * Try-builds end to end on a real farm (Temporal dev server, PostgreSQL, an nspawn builder, vessel): a branch of a
 * registered repository builds into its own throw-away index `try/<name>` with `purpose: 'try'`, never touching
 * the main index or its histories; expiry (asked for, or the try's time passing) removes the index; the sweep
 * removes a `try/` folder no try owns, after its dry run only listed it.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { main as summitCli } from '../cli/main';
import type { Dispatch } from '../core/contracts/summit';
import { readIndex } from '../core/formats/repo-index';
import { parseRootIndex, resolveIndexPath } from '../core/formats/root-index';
import { dataConverterFor } from '../workers/temporal';
import { Farm, startFarm, waitFor } from './helpers/farm';
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
let contributor: string;

const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }).trim();

async function api<T>(path: string, init: RequestInit & { token?: string } = {}): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = init.body === undefined ? {} : { 'content-type': 'application/json' };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const res = await fetch(`${farm.api.url}${path}`, { ...init, headers });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

interface TryView {
  name: string;
  index: string;
  status: string;
  commit: string | null;
  tasks: number;
  waveId: string | null;
  histories: Array<{ index: string; historyId: string }>;
  expiresAt: string;
  expiredAt: string | null;
}

function waitWave(id: string): Promise<unknown> {
  return waitFor(`${id} to be published`, async () => ((await api<{ wave: { status: string } }>(`/api/waves/${id}`)).body?.wave?.status === 'published' ? true : undefined), 600_000);
}

function waitTry(name: string, status: string): Promise<TryView> {
  return waitFor(`try ${name} to be ${status}`, async () => {
    const { status: code, body } = await api<TryView>(`/api/tries/${name}`);
    return code === 200 && body.status === status ? body : undefined;
  }, 600_000, async () => JSON.stringify((await api(`/api/tries/${name}`)).body));
}

const indexDir = (index: string): string => join(farm.reposDir, ...index.split('/'));

async function packagesOf(index: string): Promise<Map<string, { release: number; buildRelease: number }>> {
  const root = parseRootIndex(readFileSync(join(indexDir(index), 'moss-root-index.json'), 'utf8'));
  const path = join(indexDir(index), resolveIndexPath(root, 'volatile', 'x86_64')!);
  return new Map((await readIndex(readFileSync(path), path)).map((e) => [e.name, e]));
}

/** The dispatch the hub gave a build workflow (its input, decrypted). */
async function dispatchOf(taskId: string): Promise<Dispatch> {
  const codec = dataConverterFor({ payloadKeys: farm.payloadKeys })!.payloadCodecs![0];
  const raw = new Client({ connection: client.connection });
  const history = await raw.workflow.getHandle(taskId).fetchHistory();
  const started = history.events![0].workflowExecutionStartedEventAttributes!;
  const [payload] = await codec.decode(started.input!.payloads!);
  return defaultPayloadConverter.fromPayload<Dispatch>(payload);
}

async function cli(args: string[], token: string): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  process.env.SUMMIT_API_URL = farm.api.url;
  process.env.SUMMIT_TOKEN = token;
  const code = await summitCli(args, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'summit-try-'));
  [temporal, pg] = await Promise.all([startTemporalTestServer(), createTestDatabase('tries')]);
  // The farm's try lifetime; a request may ask for less (the second try does).
  farm = await startFarm({ work, temporalAddress: temporal.address, databaseUrl: pg.url, env: { SUMMIT_TRY_TTL: '2h' } });
  await farm.startBuilder('tr1');
  const bare = join(work, 'recipes.git');
  git(work, 'init', '-q', '--bare', '-b', 'main', bare);
  clone = join(work, 'clone');
  git(work, 'clone', '-q', bare, clone);
  git(clone, 'config', 'user.email', 'try@summit.invalid');
  git(clone, 'config', 'user.name', 'try');
  git(clone, 'checkout', '-q', '-b', 'main');
  execFileSync('cp', ['-R', join(EXAMPLES, 'liba'), join(EXAMPLES, 'tool'), join(EXAMPLES, 'app'), clone]);
  git(clone, 'add', '-A');
  git(clone, 'commit', '-q', '-m', 'liba, tool, app');
  await promisify(execFile)('git', ['push', '-q', 'origin', 'main'], { cwd: clone });
  const admin = farm.adminToken;
  expect((await api('/api/repositories', { method: 'POST', token: admin, body: JSON.stringify({ id: 'recipes', project: 'tries', url: bare, ref: 'main', promote: 'unstable' }) })).status).toBe(201);
  expect((await api('/api/repositories/recipes/refresh', { method: 'POST', token: admin })).status).toBe(202);
  const main = `wave-recipes-${git(clone, 'rev-parse', 'HEAD').slice(0, 12)}`;
  await waitWave(main);
  const made = await api<{ token: string }>('/api/tokens', { method: 'POST', token: admin, body: JSON.stringify({ name: 'dev', role: 'contributor', repositories: ['recipes'] }) });
  expect(made.status).toBe(201);
  contributor = made.body.token;
  client = new Client({ connection: await Connection.connect({ address: temporal.address }), dataConverter: dataConverterFor({ payloadKeys: farm.payloadKeys }) });
  // The wave's workflow has ended (its promote by policy included) before anything looks at the main index.
  await client.workflow.getHandle(main).result();

  // The branch: tool's next release.
  git(clone, 'checkout', '-q', '-b', 'feature/tool-2');
  const recipe = join(clone, 'tool', 'stone.yaml');
  writeFileSync(recipe, readFileSync(recipe, 'utf8').replace(/^release(\s*): 1$/m, 'release$1: 2'));
  git(clone, 'commit', '-qam', 'tool: release 2');
  await promisify(execFile)('git', ['push', '-q', 'origin', 'feature/tool-2'], { cwd: clone });
});

afterAll(async () => {
  delete process.env.SUMMIT_TOKEN;
  await client?.connection.close();
  await farm?.stop();
  await temporal?.stop();
  await pg?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('try-builds', () => {
  let mainRoot: string;
  let mainHistories: string[];

  it('builds a branch into try/<name> only, with purpose try; the main index and its histories are unchanged', async () => {
    mainRoot = readFileSync(join(indexDir('main'), 'moss-root-index.json'), 'utf8');
    mainHistories = Object.keys(parseRootIndex(mainRoot).history).sort();
    expect((await packagesOf('main')).get('tool')).toMatchObject({ release: 1 });

    // Refused: a contributor of another repository, a bad name, a ttl longer than the farm's.
    const other = await api<{ token: string }>('/api/tokens', { method: 'POST', token: farm.adminToken, body: JSON.stringify({ name: 'stranger', role: 'contributor', repositories: ['elsewhere'] }) });
    expect((await api('/api/repositories/recipes/try', { method: 'POST', token: other.body.token, body: JSON.stringify({ ref: 'feature/tool-2' }) })).status).toBe(403);
    expect((await api('/api/repositories/recipes/try', { method: 'POST', token: contributor, body: JSON.stringify({ ref: 'feature/tool-2', name: '../main' }) })).status).toBe(422);
    expect((await api('/api/repositories/recipes/try', { method: 'POST', token: contributor, body: JSON.stringify({ ref: 'feature/tool-2', ttl: '3h' }) })).status).toBe(422);

    // The CLI, with the contributor's token; the name comes from the ref.
    const started = await cli(['try', 'recipes', 'feature/tool-2'], contributor);
    expect(started).toMatchObject({ code: 0 });
    expect(started.out).toMatch(/^try feature-tool-2: recipes feature\/tool-2 builds into index try\/feature-tool-2 \(expires /);
    // The name is held while the try lives.
    expect((await api('/api/repositories/recipes/try', { method: 'POST', token: contributor, body: JSON.stringify({ ref: 'main', name: 'feature-tool-2' }) })).status).toBe(409);

    const done = await waitTry('feature-tool-2', 'published');
    expect(done).toMatchObject({ index: 'try/feature-tool-2', tasks: 1, commit: git(clone, 'rev-parse', 'feature/tool-2') });
    expect(done.histories).toEqual([{ index: 'try/feature-tool-2', historyId: expect.any(String) }]);
    // Only what the branch changed was built, under the try's own build id, for its index, as a try.
    const taskId = 'build/tries/try~feature-tool-2~1/tool-1.0.0-2/x86_64';
    const dispatch = await dispatchOf(taskId);
    expect(dispatch).toMatchObject({ taskId, index: 'try/feature-tool-2', purpose: 'try', release: 2 });
    expect(dispatch.dependencies.map((d) => d.name)).toContain('liba-devel');

    // The try index has the package; the main index is byte for byte what it was, and no history was added.
    expect((await packagesOf('try/feature-tool-2')).get('tool')).toMatchObject({ release: 2 });
    expect(readFileSync(join(indexDir('main'), 'moss-root-index.json'), 'utf8')).toBe(mainRoot);
    expect((await packagesOf('main')).get('tool')).toMatchObject({ release: 1 });

    // Listed with its expiry.
    const listed = await api<{ items: TryView[] }>('/api/tries?live=true');
    expect(listed.body.items.map((t) => [t.index, t.status])).toEqual([['try/feature-tool-2', 'published']]);
    expect(Date.parse(listed.body.items[0].expiresAt)).toBeGreaterThan(Date.now());
    const table = await cli(['tries', 'list'], farm.adminToken);
    expect(table.out).toMatch(/try\/feature-tool-2\s+published\s+recipes\s+feature\/tool-2/);
  });

  it('expires a try when its time has passed: its index is removed, the main line untouched', async () => {
    const started = await api<TryView>('/api/repositories/recipes/try', { method: 'POST', token: contributor, body: JSON.stringify({ ref: 'refs/heads/feature/tool-2', name: 'brief', ttl: '1s' }) });
    expect(started.status).toBe(202);
    const expired = await waitTry('brief', 'expired');
    // It published before its expiry (its wave wrote a history), and its folder is gone now.
    expect(expired.histories).toEqual([{ index: 'try/brief', historyId: expect.any(String) }]);
    expect(expired.expiredAt).not.toBeNull();
    expect(existsSync(indexDir('try/brief'))).toBe(false);
    expect(existsSync(indexDir('try/feature-tool-2'))).toBe(true);
    expect(readFileSync(join(indexDir('main'), 'moss-root-index.json'), 'utf8')).toBe(mainRoot);
  });

  it('expires a try on request, removing its index, and the name can be used again', async () => {
    expect(await cli(['tries', 'expire', 'feature-tool-2'], farm.adminToken)).toMatchObject({ code: 0 });
    await waitTry('feature-tool-2', 'expired');
    expect(existsSync(indexDir('try/feature-tool-2'))).toBe(false);
    expect(Object.keys(parseRootIndex(readFileSync(join(indexDir('main'), 'moss-root-index.json'), 'utf8')).history).sort()).toEqual(mainHistories);
    expect((await api<{ items: TryView[] }>('/api/tries?live=true')).body.items).toEqual([]);

    // The name again, for a ref with nothing newer than the main line: a try of its own that builds nothing.
    const again = await api<TryView & { seq: number }>('/api/repositories/recipes/try', { method: 'POST', token: contributor, body: JSON.stringify({ ref: 'main', name: 'feature-tool-2' }) });
    expect(again).toMatchObject({ status: 202, body: { seq: 2, index: 'try/feature-tool-2' } });
    expect(await waitTry('feature-tool-2', 'published')).toMatchObject({ tasks: 0, waveId: null, histories: [] });
    expect((await api('/api/tries/feature-tool-2/expire', { method: 'POST', token: farm.adminToken })).status).toBe(202);
    await waitTry('feature-tool-2', 'expired');
  });

  it('sweeps a try folder no try owns: the dry run lists it and keeps it, the sweep removes it', async () => {
    const orphan = indexDir('try/orphan');
    mkdirSync(join(orphan, 'pool', 'o'), { recursive: true });
    writeFileSync(join(orphan, 'pool', 'o', 'x.stone'), 'x'.repeat(10));
    const dry = await cli(['tries', 'sweep', '--dry-run', '--json'], farm.adminToken);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.out)).toEqual({ dryRun: true, expired: [], orphans: [{ index: 'try/orphan', existed: true, histories: 0, poolFiles: 1, bytes: 10 }] });
    expect(existsSync(orphan)).toBe(true);
    const swept = await cli(['tries', 'sweep'], farm.adminToken);
    expect(swept.out).toBe('removed try/orphan (no live try owns it): 0 history(ies), 1 pool file(s), 10 bytes');
    expect(existsSync(orphan)).toBe(false);
    expect((await cli(['tries', 'sweep'], farm.adminToken)).out).toBe('nothing to sweep');
  });
});

describe('the promote policy (a repository registered with promote: unstable)', () => {
  const root = () => parseRootIndex(readFileSync(join(indexDir('main'), 'moss-root-index.json'), 'utf8'));
  const policyEvents = async () => (await api<{ items: Array<{ command: string; by: string; outcome: string; params: { wave?: string }; streams: Record<string, string> | null }> }>('/api/indexes/main/events')).body.items.filter((e) => e.by === 'policy');

  it('promoted unstable to the history of the first wave, which published every build, recorded by policy', async () => {
    const r = root();
    expect(Object.keys(r.history)).toHaveLength(1);
    // moss finds stream/unstable in the root index, on the one history there is.
    expect(r.streams.unstable).toEqual(r.streams.volatile);
    const events = await policyEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ command: 'promote', outcome: 'ok', params: { wave: expect.stringMatching(/^wave-recipes-/) } });
    expect(events[0].streams?.unstable).toBe(events[0].streams?.volatile);
  });

  it('leaves unstable where it was after a wave with a failed build, though its other build is published', async () => {
    const before = await policyEvents();
    git(clone, 'checkout', '-q', 'main');
    const liba = join(clone, 'liba', 'stone.yaml');
    writeFileSync(liba, readFileSync(liba, 'utf8').replace(/^release(\s*): 1$/m, 'release$1: 2'));
    mkdirSync(join(clone, 'broken'));
    writeFileSync(join(clone, 'broken', 'stone.yaml'), recipeYaml({ name: 'broken', version: '1.0.0', build: 'exit 1' }));
    git(clone, 'add', '-A');
    git(clone, 'commit', '-qm', 'liba 2, broken');
    await promisify(execFile)('git', ['push', '-q', 'origin', 'main'], { cwd: clone });
    expect((await api('/api/repositories/recipes/refresh', { method: 'POST', token: farm.adminToken })).status).toBe(202);
    const id = `wave-recipes-${git(clone, 'rev-parse', 'HEAD').slice(0, 12)}`;
    await waitWave(id);
    await client.workflow.getHandle(id).result();
    expect((await packagesOf('main')).get('liba')).toMatchObject({ release: 2 });
    const events = await policyEvents();
    expect(events).toEqual(before);
    const streamsNow = (await api<{ streams: Record<string, string> }>('/api/indexes/main/history', { token: farm.adminToken })).body.streams;
    expect(streamsNow.unstable).toBe(before[0].streams?.unstable);
    expect(streamsNow.volatile).not.toBe(streamsNow.unstable);
  });
});
