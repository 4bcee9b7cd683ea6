/**
 * ISA variants end to end: a profile that builds x86_64-v3x besides the baseline fans each recipe out into a
 * v3x task that runs only on a builder serving v3x and publishes to its own index (`main-v3x`). With no such
 * builder the v3x task waits with a reason saying so, and never blocks the baseline.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readIndex } from '../core/formats/repo-index';
import { parseRootIndex, resolveIndexPath } from '../core/formats/root-index';
import { detectIsaLevels } from '../core/isa';
import { openDatabase } from '../db/orm';
import { Store } from '../db/store';
import { Farm, startFarm, waitFor } from './helpers/farm';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { startTemporalTestServer, TemporalTestServer } from './support/temporal';

jest.setTimeout(300_000);

const EXAMPLES = resolve(__dirname, '..', 'examples', 'recipes');
const HOST_SERVES_V3X = detectIsaLevels(readFileSync('/proc/cpuinfo', 'utf8')).levels.includes('x86_64-v3x');
let temporal: TemporalTestServer;
let pg: TestDatabase;
let work: string;
let farm: Farm;
let store: Store;
let closeStore: () => Promise<void>;

const id = (isa: string) => `build/e2e/variants/liba-1.0.0-1/${isa}`;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'summit-variants-'));
  [temporal, pg] = await Promise.all([startTemporalTestServer(), createTestDatabase('variants')]);
  farm = await startFarm({ work, temporalAddress: temporal.address, databaseUrl: pg.url, variants: 'x86_64-v3x' });
  const orm = await openDatabase({ url: pg.url, dataDir: work });
  store = new Store(orm);
  closeStore = () => orm.close(true);
  const repo = join(work, 'variants');
  cpSync(join(EXAMPLES, 'liba'), join(repo, 'liba'), { recursive: true });
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('-c', 'user.email=t@summit.invalid', '-c', 'user.name=T', 'commit', '-q', '-m', 'liba');
  await store.addRepository({ id: 'variants', project: 'e2e', url: repo, ref: 'main' });
});

afterAll(async () => {
  await closeStore?.();
  await farm?.stop();
  await temporal?.stop();
  await pg?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function refresh(): Promise<void> {
  const res = await fetch(`${farm.api.url}/api/repositories/variants/refresh`, { method: 'POST', headers: { authorization: `Bearer ${farm.adminToken}` } });
  expect(res.status).toBe(202);
}

/** The index once a wave has published in it (a build is published by its wave, shortly after it completes). */
async function index(name: string): Promise<Awaited<ReturnType<typeof readIndex>>> {
  const repo = join(farm.reposDir, name);
  await waitFor(`a history of ${name}`, async () => (existsSync(join(repo, 'moss-root-index.json')) ? true : undefined), 60_000);
  const root = parseRootIndex(readFileSync(join(repo, 'moss-root-index.json'), 'utf8'));
  const path = join(repo, resolveIndexPath(root, 'volatile', 'x86_64')!);
  return readIndex(readFileSync(path), path);
}

describe('ISA variants', () => {
  it('builds the baseline and leaves the v3x task waiting, with a reason, while no builder serves v3x', async () => {
    await farm.startBuilder('baseline-only', { SUMMIT_BUILDER_ISA: 'x86_64' });
    await refresh();
    await waitFor('the baseline build', async () => ((await store.findTask(id('x86_64')))?.status === 'completed' ? true : undefined), 120_000);
    const v3x = await waitFor('the v3x task to say why it waits', async () => {
      const t = await store.findTask(id('x86_64-v3x'));
      return t?.reason ? t : undefined;
    }, 30_000);
    expect(v3x.status).toBe('new');
    expect(v3x.index).toBe('main-v3x');
    expect(v3x.reason).toBe('no builder serves x86_64-v3x');
    // build-root: the base package (libc); main-v3x has none of its own, main being its declared base repository.
    expect((await index('main')).map((e) => e.name).sort()).toEqual(['build-root', 'liba', 'liba-devel']);
  });

  (HOST_SERVES_V3X ? it : it.skip)('builds the v3x variant on a builder that serves it and publishes it to its own index', async () => {
    await farm.startBuilder('v3x', { SUMMIT_BUILDER_ISA: 'x86_64,x86_64-v3x' });
    await waitFor('the v3x build', async () => ((await store.findTask(id('x86_64-v3x')))?.status === 'completed' ? true : undefined), 120_000);
    const entries = await index('main-v3x');
    expect(entries.map((e) => e.name).sort()).toEqual(['liba', 'liba-devel']);
    expect(entries.every((e) => e.uri.endsWith('-x86_64-v3x.stone'))).toBe(true);
    expect((await index('main')).every((e) => e.uri.endsWith('-1-1-x86_64.stone'))).toBe(true);
  });
});
