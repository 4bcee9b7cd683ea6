/**
 * Architectures as profiles, end to end: a farm whose profile (SUMMIT_PROFILE) lists two architectures, x86_64 and
 * aarch64, plans each recipe for both, each in its level's own index (`main`, `main-aarch64`), and dispatches each
 * build to its own architecture's queue (`avalanche-x86_64`, `avalanche-aarch64`).
 *
 * The "aarch64 builder" is an ordinary avalanche process told it builds for aarch64 (SUMMIT_BUILDER_ARCH): it polls
 * only the aarch64 queue. On this x86_64 host its gcc refuses aarch64's -march, so the build fails in its build
 * step: the test proves planning, dispatch and pickup per architecture, not cross-compilation (which the issue does
 * not ask for). Vessel's indexing of an aarch64 build is shown in test/vessel-architectures.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { readIndex } from '../core/formats/repo-index';
import { parseRootIndex, resolveIndexPath } from '../core/formats/root-index';
import { openDatabase } from '../db/orm';
import { Store } from '../db/store';
import { dataConverterFor } from '../workers/temporal';
import { Farm, startFarm, waitFor } from './helpers/farm';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { startTemporalTestServer, TemporalTestServer } from './support/temporal';

jest.setTimeout(300_000);

const EXAMPLES = resolve(__dirname, '..', 'examples', 'recipes');
const PROFILE = JSON.stringify({
  architectures: [
    { name: 'x86_64', levels: ['x86_64', 'x86_64-v3x'] },
    { name: 'aarch64', levels: ['aarch64'] },
  ],
});
let temporal: TemporalTestServer;
let pg: TestDatabase;
let work: string;
let farm: Farm;
let store: Store;
let closeStore: () => Promise<void>;

const id = (isa: string) => `build/e2e/arches/liba-1.0.0-1/${isa}`;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'summit-arches-'));
  [temporal, pg] = await Promise.all([startTemporalTestServer(), createTestDatabase('arches')]);
  farm = await startFarm({ work, temporalAddress: temporal.address, databaseUrl: pg.url, env: { SUMMIT_PROFILE: PROFILE } });
  const orm = await openDatabase({ url: pg.url, dataDir: work });
  store = new Store(orm);
  closeStore = () => orm.close(true);
  const repo = join(work, 'arches');
  cpSync(join(EXAMPLES, 'liba'), join(repo, 'liba'), { recursive: true });
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('-c', 'user.email=t@summit.invalid', '-c', 'user.name=T', 'commit', '-q', '-m', 'liba');
  await store.addRepository({ id: 'arches', project: 'e2e', url: repo, ref: 'main' });
});

afterAll(async () => {
  await closeStore?.();
  await farm?.stop();
  await temporal?.stop();
  await pg?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function refresh(): Promise<void> {
  const res = await fetch(`${farm.api.url}/api/repositories/arches/refresh`, { method: 'POST', headers: { authorization: `Bearer ${farm.adminToken}` } });
  expect(res.status).toBe(202);
}

/** The volatile stone.index of `architecture` in index `name`, once a wave has published there. */
async function index(name: string, architecture: string): Promise<{ path: string; entries: Awaited<ReturnType<typeof readIndex>> }> {
  const repo = join(farm.reposDir, name);
  await waitFor(`a history of ${name}`, async () => (existsSync(join(repo, 'moss-root-index.json')) ? true : undefined), 60_000);
  const root = parseRootIndex(readFileSync(join(repo, 'moss-root-index.json'), 'utf8'));
  const relative = resolveIndexPath(root, 'volatile', architecture);
  const path = relative && join(repo, relative);
  if (!path || !existsSync(path)) throw new Error(`${name} publishes no ${architecture} index`);
  return { path: relative, entries: await readIndex(readFileSync(path), path) };
}

const status = async (isa: string) => (await store.findTask(id(isa)))?.status;

describe('a profile of two architectures', () => {
  it('plans a task per architecture, each in its own index, and holds the aarch64 one while no builder serves aarch64', async () => {
    await farm.startBuilder('x86', { SUMMIT_PROFILE: PROFILE, SUMMIT_BUILDER_ISA: 'x86_64' });
    await refresh();
    await waitFor('the x86_64 build', async () => ((await status('x86_64')) === 'completed' ? true : undefined), 120_000);
    const arm = await waitFor('the aarch64 task to say why it waits', async () => {
      const t = await store.findTask(id('aarch64'));
      return t?.reason ? t : undefined;
    }, 30_000);
    expect(arm).toMatchObject({ status: 'new', isa: 'aarch64', index: 'main-aarch64', reason: 'no builder serves aarch64' });
    expect((await store.findTask(id('x86_64')))).toMatchObject({ index: 'main', builder: 'x86' });
    // x86_64-v3x is a level of the profile but not built (SUMMIT_VARIANTS is empty): no task for it.
    expect(await store.findTask(id('x86_64-v3x'))).toBeFalsy();
  });

  it('dispatches the aarch64 build to the aarch64 queue only, where the builder serving aarch64 picks it up and builds it with aarch64 flags', async () => {
    const builder = await farm.startBuilder('arm', { SUMMIT_PROFILE: PROFILE, SUMMIT_BUILDER_ARCH: 'aarch64', SUMMIT_BUILDER_ISA: 'aarch64' });
    // This host's gcc is no cross-compiler: the aarch64 build ends failed, after the pickup this test is about.
    const task = await waitFor('the aarch64 build to end', async () => {
      const t = await store.findTask(id('aarch64'));
      return t && ['completed', 'failed'].includes(t.status) ? t : undefined;
    }, 120_000, async () => `${JSON.stringify(await store.findTask(id('aarch64')))}\nbuilder log:\n${readFileSync(builder.logFile, 'utf8').slice(-3000)}`);
    expect(task).toMatchObject({ builder: 'arm', index: 'main-aarch64', attempts: 1 });
    expect(task.logTail).toContain('summit: build build/e2e/arches/liba-1.0.0-1/aarch64 on arm: liba 1.0.0-1 (aarch64)');
    expect(task.logTail).toContain('-march=armv8-a+simd+fp+crypto');
    const log = readFileSync(builder.logFile, 'utf8');
    expect(log).toMatch(/builds for aarch64, serves aarch64 .*queues avalanche-aarch64, avalanche-builder-arm;/);
    const lines = log.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => l.activityType === 'buildRecipe' && l.msg === 'build started').map((l) => [l.taskQueue, l.workflowId])).toEqual([
      ['avalanche-aarch64', id('aarch64')],
    ]);
    // The x86_64 builder never saw it, and the x86_64 build stays published in main, indexed as x86_64.
    expect(readFileSync(farm.builders.get('x86')!.logFile, 'utf8')).not.toContain('liba-1.0.0-1/aarch64');
    const x86 = await index('main', 'x86_64');
    expect(x86.path).toMatch(/^history\/\d+\/x86_64\/stone\.index$/);
    expect(x86.entries.filter((e) => e.name !== 'build-root').map((e) => e.uri.split('/').pop()).sort()).toEqual(['liba-1.0.0-1-1-x86_64.stone', 'liba-devel-1.0.0-1-1-x86_64.stone']);
    expect(await index('main', 'aarch64').catch((err: Error) => err.message)).toBe('main publishes no aarch64 index');
  });

  it('labels each build workflow with its architecture, so operators can list one architecture\'s builds', async () => {
    const client = new Client({ connection: await Connection.connect({ address: temporal.address }), dataConverter: dataConverterFor({ payloadKeys: farm.payloadKeys }) });
    try {
      const list = async (architecture: string) => {
        const ids: string[] = [];
        for await (const w of client.workflow.list({ query: `BuildArchitecture = "${architecture}" AND WorkflowType = "buildWorkflow"` })) ids.push(w.workflowId);
        return ids;
      };
      // Visibility is eventually consistent: wait until both builds are listed.
      expect(await waitFor('both builds in visibility', async () => {
        const [x86, arm] = [await list('x86_64'), await list('aarch64')];
        return x86.length && arm.length ? { x86, arm } : undefined;
      }, 30_000)).toEqual({ x86: [id('x86_64')], arm: [id('aarch64')] });
    } finally {
      await client.connection.close();
    }
  });
});
