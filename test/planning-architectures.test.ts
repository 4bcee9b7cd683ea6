/**
 * Intake and planning under a profile of two architectures (core/profile.ts), on a real git repository and a real
 * database: every recipe becomes a task per architecture (and per extra level asked for), each in its level's own
 * index; each build is dispatched with its architecture to a builder serving its level, and a level's build root
 * layers on its own architecture's baseline index. Intake reads `manifest.<arch>.bin` of the profile's
 * architectures. (test/architectures-e2e.test.ts shows the same farm dispatching to both task queues for real.)
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MikroORM } from '@mikro-orm/core';
import { refreshRepository } from '../activities/summit/intake';
import { planBuilds } from '../activities/summit/planning';
import { parseProfile } from '../core/profile';
import { variantsFor } from '../core/variants';
import { openDatabase } from '../db/orm';
import { Store } from '../db/store';
import { TestRepo } from './helpers/git-repo';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { enrolBuilders } from './helpers/enrol';

const EXAMPLES = resolve(__dirname, '..', 'examples', 'recipes');
const PROFILE = parseProfile(JSON.stringify({ architectures: [{ name: 'x86_64', levels: ['x86_64', 'x86_64-v3x'] }, { name: 'aarch64', levels: ['aarch64'] }] }));

let work: string;
let pg: TestDatabase;
let orm: MikroORM;
let store: Store;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'summit-plan-arches-'));
  pg = await createTestDatabase('plan_arches');
  orm = await openDatabase({ url: pg.url, dataDir: work });
  store = new Store(orm);
  await enrolBuilders(store, ['x86', 'arm']);
});

afterAll(async () => {
  await orm?.close(true);
  await pg?.drop();
  rmSync(work, { recursive: true, force: true });
});

/** The demo's liba and tool (tool build-depends on liba), with their committed x86_64 manifests. */
function demoRepo(name: string, manifestOf: (recipe: string) => string = () => 'manifest.x86_64.bin'): TestRepo {
  const repo = new TestRepo(join(work, name));
  for (const recipe of ['liba', 'tool']) {
    repo.write(`${recipe}/stone.yaml`, readFileSync(join(EXAMPLES, recipe, 'stone.yaml')));
    repo.write(`${recipe}/${manifestOf(recipe)}`, readFileSync(join(EXAMPLES, recipe, 'manifest.x86_64.bin')));
  }
  repo.commit('liba and tool');
  return repo;
}

const builder = (id: string, isaLevels: string[]) => ({ id, host: id, isaLevels, slots: 4, busy: 0, diskFree: 1e10 });

describe('a profile of x86_64 and aarch64', () => {
  const variants = variantsFor(['x86_64-v3x'], PROFILE);
  const deps = () => ({ store, mirrorsDir: join(work, 'mirrors'), variants, profile: PROFILE, packagesBaseUrl: 'file:///srv/vessel' });

  it('turns each recipe into a task per architecture baseline and extra level, each in its level\'s index', async () => {
    const repo = demoRepo('two');
    await store.addRepository({ id: 'two', project: 'p', url: repo.dir });
    const result = await refreshRepository(deps(), { repository: 'two', origin: 'hook' });
    expect(result.created.sort()).toEqual([
      'build/p/two/liba-1.0.0-1/aarch64', 'build/p/two/liba-1.0.0-1/x86_64', 'build/p/two/liba-1.0.0-1/x86_64-v3x',
      'build/p/two/tool-1.0.0-1/aarch64', 'build/p/two/tool-1.0.0-1/x86_64', 'build/p/two/tool-1.0.0-1/x86_64-v3x',
    ]);
    const indexOf = async (isa: string) => (await store.findTask(`build/p/two/liba-1.0.0-1/${isa}`))?.index;
    expect([await indexOf('x86_64'), await indexOf('x86_64-v3x'), await indexOf('aarch64')]).toEqual(['main', 'main-v3x', 'main-aarch64']);
  });

  it('dispatches each level\'s build with its architecture to a builder serving it, dependencies waiting per architecture', async () => {
    const plan = await planBuilds(deps(), { builders: [builder('x86', ['x86_64', 'x86_64-v3x']), builder('arm', ['aarch64'])] });
    expect(plan.dispatch.map((d) => `${d.source}/${d.isa} ${d.architecture} ${d.index}`).sort()).toEqual([
      'liba/aarch64 aarch64 main-aarch64', 'liba/x86_64 x86_64 main', 'liba/x86_64-v3x x86_64 main-v3x',
    ]);
    expect(plan.unservable).toEqual([]);
    // tool build-depends on liba: each architecture's tool waits for that architecture's liba.
    expect(plan.waiting).toBe(3);
  });

  it('leaves the aarch64 builds unservable, with the reason, while no builder serves aarch64; x86_64 goes on', async () => {
    const repo = demoRepo('x86only');
    await store.addRepository({ id: 'x86only', project: 'p', url: repo.dir });
    await refreshRepository(deps(), { repository: 'x86only', origin: 'hook' });
    const plan = await planBuilds(deps(), { builders: [builder('x86', ['x86_64', 'x86_64-v3x'])] });
    expect(plan.unservable).toContainEqual({ taskId: 'build/p/x86only/liba-1.0.0-1/aarch64', reason: 'no builder serves aarch64' });
    expect(plan.dispatch.map((d) => `${d.source}/${d.isa}`).sort()).toEqual(['liba/x86_64', 'liba/x86_64-v3x']);
    expect((await store.getTask('build/p/x86only/liba-1.0.0-1/aarch64')).reason).toBe('no builder serves aarch64');
    // The next round finds the reason written: it does not write it again (it did at every round, for every such task).
    const writes = jest.spyOn(store, 'updateTask');
    try {
      const again = await planBuilds(deps(), { builders: [builder('x86', ['x86_64', 'x86_64-v3x'])] });
      expect(again.unservable).toContainEqual({ taskId: 'build/p/x86only/liba-1.0.0-1/aarch64', reason: 'no builder serves aarch64' });
      expect(writes.mock.calls.filter(([id]) => id === 'build/p/x86only/liba-1.0.0-1/aarch64')).toEqual([]);
    } finally {
      writes.mockRestore();
    }
  });

  it('reads a recipe\'s packages from manifest.<arch>.bin of the profile\'s architectures, which the default profile does not look for', async () => {
    const repo = demoRepo('armmanifest', () => 'manifest.aarch64.bin');
    await store.addRepository({ id: 'armmanifest', project: 'p', url: repo.dir });
    await refreshRepository(deps(), { repository: 'armmanifest', origin: 'hook' });
    const read = await store.listRecipes('armmanifest');
    expect(read.map((r) => [r.source, r.derived])).toEqual([['liba', false], ['tool', false]]);

    const other = demoRepo('armdefault', () => 'manifest.aarch64.bin');
    await store.addRepository({ id: 'armdefault', project: 'p', url: other.dir });
    await refreshRepository({ store, mirrorsDir: join(work, 'mirrors'), variants: variantsFor([]) }, { repository: 'armdefault', origin: 'hook' });
    expect((await store.listRecipes('armdefault')).map((r) => [r.source, r.derived])).toEqual([['liba', true], ['tool', true]]);
  });
});
