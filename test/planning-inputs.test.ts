import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MikroORM } from '@mikro-orm/core';
import { COMPLETION_LAG_MS, PlanningInputsCache } from '../activities/summit/planning-inputs';
import { planBuilds } from '../activities/summit/planning';
import { variantsFor } from '../core/variants';
import { Task } from '../db/entities';
import { openDatabase } from '../db/orm';
import { Store, type NewTask } from '../db/store';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { enrolBuilders } from './helpers/enrol';
import { adminStoreOf } from '../db/admin-store';
import { builderRegistryOf } from '../db/builder-registry-store';

const task = (source: string, release: number, isa = 'x86_64'): NewTask => ({
  id: `build/serpent/recipes/${source}-1.0-${release}/${isa}`, project: 'serpent', repository: 'recipes', source, version: '1.0', release,
  isa, index: isa === 'x86_64' ? 'main' : `main-${isa}`, commit: 'c0ffee', recipePath: `r/${source}`,
});
const published = (t: NewTask) => [{ name: t.source, uri: `pool/${t.source}-${t.release}.stone`, sha256: 'a'.repeat(64), size: 1 }];
const recipe = (source: string, release: number) => ({
  source, version: '1.0', release, commit: 'c0ffee', path: `r/${source}`, derived: true, architectures: [],
  packages: [{ name: source, provides: [`soname(lib${source}.so)`], depends: [], buildDepends: [] }],
});

describe.each(['postgresql', 'embedded libsql'])('planning inputs kept between rounds on %s', (driver) => {
  let orm: MikroORM;
  let store: Store;
  let pg: TestDatabase | undefined;
  let dir: string;
  let kept: PlanningInputsCache;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'summit-inputs-'));
    if (driver === 'postgresql') pg = await createTestDatabase('inputs');
    orm = await openDatabase({ url: pg?.url, dataDir: dir });
    store = new Store(orm);
    await enrolBuilders(store, ['b1']);
    await store.addRepository({ id: 'recipes', project: 'serpent', url: '/srv/recipes.git' });
    kept = new PlanningInputsCache(store);
  });

  afterAll(async () => {
    await orm?.close(true);
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Build a task through the state machine to `completed`, publishing its package. */
  async function complete(t: NewTask): Promise<void> {
    await store.createTask(t, 'test');
    await store.setStatus(t.id, 'queued', 'test');
    await store.setStatus(t.id, 'building', 'test');
    await store.setStatus(t.id, 'publishing', 'test');
    await store.setStatus(t.id, 'completed', 'test', { published: published(t) });
  }

  /** What the kept cache says, next to what a cache starting from nothing reads: they must be the same. */
  async function both() {
    const warm = await kept.load();
    const cold = await new PlanningInputsCache(store).load();
    expect(warm.history).toEqual(cold.history);
    expect(warm.published).toEqual(cold.published);
    expect([...warm.recipes.keys()]).toEqual([...cold.recipes.keys()]);
    return warm;
  }

  it('starts empty and folds in each completion: its duration and what it published', async () => {
    expect((await both()).published).toEqual([]);
    await store.replaceRecipes('recipes', [recipe('zlib', 1), recipe('curl', 1)]);
    await complete(task('zlib', 1));
    const inputs = await both();
    expect([...inputs.history.keys()]).toEqual(['zlib']);
    expect(inputs.published).toEqual([{ name: 'zlib', provides: ['soname(libzlib.so)'], depends: [], index: 'main', uri: 'pool/zlib-1.stone', sha256: 'a'.repeat(64) }]);
  });

  it('hands the same published list while nothing changed, and a new one when something completed', async () => {
    const before = (await kept.load()).published;
    expect((await kept.load()).published).toBe(before);
    await complete(task('curl', 1));
    expect((await both()).published).not.toBe(before);
  });

  it('replaces what an index publishes by the newer release, keeps both builds in the history, and never counts a superseded or failed task', async () => {
    await complete(task('zlib', 2));
    await store.createTask(task('zlib', 3), 'test');
    await store.createTask(task('zlib', 4), 'test');
    await store.setStatus(task('zlib', 3).id, 'superseded', 'test', { supersededBy: task('zlib', 4).id });
    await store.setStatus(task('zlib', 4).id, 'queued', 'test');
    await store.setStatus(task('zlib', 4).id, 'building', 'test');
    await store.setStatus(task('zlib', 4).id, 'failed', 'test');
    const inputs = await both();
    expect(inputs.history.get('zlib')).toHaveLength(2);
    expect(inputs.published.filter((p) => p.name === 'zlib').map((p) => p.uri)).toEqual(['pool/zlib-2.stone']);
  });

  it('counts a retried task once it completes, with the duration of its last run', async () => {
    const id = task('zlib', 4).id;
    await store.setStatus(id, 'new', 'retried');
    await store.setStatus(id, 'queued', 'test');
    await store.setStatus(id, 'building', 'test');
    await store.setStatus(id, 'publishing', 'test');
    await store.setStatus(id, 'completed', 'test', { published: published(task('zlib', 4)) });
    const inputs = await both();
    expect(inputs.history.get('zlib')).toHaveLength(3);
    expect(inputs.published.filter((p) => p.name === 'zlib').map((p) => p.uri)).toEqual(['pool/zlib-4.stone']);
  });

  it('still folds in a completion that became visible after a later one was read', async () => {
    // A task whose finishedAt was taken before the newest one seen, but whose transaction committed later.
    const late = new Date(Date.now() - COMPLETION_LAG_MS / 2);
    const t = task('late', 1);
    await orm.em.fork().insertMany(Task, [{
      ...t, status: 'completed', attempts: 1, priority: 0, createdAt: late, updatedAt: late, startedAt: late, builtAt: new Date(late.getTime() + 7000), finishedAt: late,
      published: published(t),
    }]);
    const inputs = await both();
    expect(inputs.history.get('late')).toEqual([7]);
    expect(inputs.published.map((p) => p.name)).toContain('late');
  });

  it('reloads the recipes of a repository only when intake replaced them, and forgets a removed repository', async () => {
    const first = (await kept.load()).recipes;
    expect((await kept.load()).recipes).toBe(first);
    await store.replaceRecipes('recipes', [recipe('zlib', 5)]);
    const after = (await both()).recipes;
    expect([...after.keys()]).toEqual(['recipes/zlib']);
    expect(after.get('recipes/zlib')?.release).toBe(5);
    await store.addRepository({ id: 'other', project: 'serpent', url: '/srv/other.git' });
    await store.replaceRecipes('other', [recipe('zlib', 1)]);
    expect([...(await both()).recipes.keys()].sort()).toEqual(['other/zlib', 'recipes/zlib']);
    await store.removeRepository('other');
    expect([...(await both()).recipes.keys()]).toEqual(['recipes/zlib']);
  });

  it('gives a dispatched build the packages its dependencies were last published as', async () => {
    const app = { ...recipe('app', 1), packages: [{ name: 'app', provides: [], depends: [], buildDepends: ['soname(libzlib.so)'] }] };
    await store.replaceRecipes('recipes', [recipe('zlib', 4), app]);
    await store.createTask(task('app', 1), 'test');
    const deps = { store, mirrorsDir: join(dir, 'mirrors'), variants: variantsFor([]), packagesBaseUrl: 'file:///srv/vessel', inputs: kept };
    const plan = await planBuilds(deps, { builders: [{ id: 'b1', host: 'h', isaLevels: ['x86_64'], slots: 1, busy: 0, diskFree: 1e10 }] });
    expect(plan.dispatch).toMatchObject([{ source: 'app', dependencies: [{ name: 'zlib', url: 'file:///srv/vessel/main/pool/zlib-4.stone', sha256: 'a'.repeat(64) }] }]);
  });

  it('never plans a task without its recipe when an intake commits in the middle of a round', async () => {
    // Intake writes a commit's recipes, then its tasks. Here it commits right after this round read the recipes: the
    // round must not see the new tasks without their recipes (top would be dispatched beside base, without it).
    await store.addRepository({ id: 'late', project: 'serpent', url: '/srv/late.git' });
    const late = (source: string): NewTask => ({ ...task(source, 1), id: `build/serpent/late/${source}-1.0-1/x86_64`, repository: 'late', recipePath: `r/${source}` });
    const top = { ...recipe('top', 1), packages: [{ name: 'top', provides: [], depends: [], buildDepends: ['soname(libbase.so)'] }] };
    let intakeDone = false;
    const racing = {
      load: async () => {
        const read = await kept.load();
        if (!intakeDone) {
          intakeDone = true;
          await store.replaceRecipes('late', [recipe('base', 1), top]);
          await store.createTasks([{ task: late('base'), reason: 'intake' }, { task: late('top'), reason: 'intake' }]);
        }
        return read;
      },
    } as unknown as PlanningInputsCache;
    const deps = { store, mirrorsDir: join(dir, 'mirrors'), variants: variantsFor([]), packagesBaseUrl: 'file:///srv/vessel' };
    const builders = [{ id: 'b1', host: 'h', isaLevels: ['x86_64' as const], slots: 8, busy: 0, diskFree: 1e10 }];
    const lateSources = (plan: Awaited<ReturnType<typeof planBuilds>>) => plan.dispatch.filter((d) => d.taskId.startsWith('build/serpent/late/')).map((d) => d.source);
    expect(lateSources(await planBuilds({ ...deps, inputs: racing }, { builders }))).not.toContain('top');
    expect(intakeDone).toBe(true);
    // The next round sees both, with the recipes: base first, top waits for it.
    expect(lateSources(await planBuilds({ ...deps, inputs: kept }, { builders }))).toEqual(['base']);
  });

  it("keeps repositories, holds, protections and the registry until another process changes them, then reads them again", async () => {
    // The API's own connection, as in production: what it writes is seen through the change markers, not in-process.
    const apiOrm = await openDatabase({ url: pg?.url, dataDir: dir });
    const api = new Store(apiOrm);
    try {
      const before = await kept.load();
      const again = await kept.load();
      for (const k of ['repositories', 'holds', 'protections', 'registry'] as const) expect(again[k]).toBe(before[k]);
      await adminStoreOf(api).hold({ kind: 'farm' }, 'alice', 'maintenance', 'pause');
      await adminStoreOf(api).protect('recipes', ['gcc'], 'alice', null);
      const held = await kept.load();
      expect(held.holds.get('farm')).toMatchObject({ by: 'alice', reason: 'maintenance' });
      expect(held.protections.get('recipes')).toEqual(['gcc']);
      expect(held.registry).toBe(before.registry);
      await adminStoreOf(api).release({ kind: 'farm' }, 'alice', null, 'resume');
      await builderRegistryOf(api).revoke('b1', 'alice', 'key leaked');
      await api.addRepository({ id: 'extra', project: 'serpent', url: '/srv/extra.git' });
      const after = await kept.load();
      expect(after.holds.has('farm')).toBe(false);
      expect(after.registry.get('b1')).toMatchObject({ state: 'revoked' });
      expect([...after.repositories.keys()]).toContain('extra');
      const cold = await new PlanningInputsCache(store).load();
      for (const k of ['repositories', 'holds', 'protections', 'registry'] as const) expect(after[k]).toEqual(cold[k]);
    } finally {
      await adminStoreOf(api).protect('recipes', [], 'alice', null);
      await api.removeRepository('extra');
      await apiOrm.close(true);
    }
  });
});
