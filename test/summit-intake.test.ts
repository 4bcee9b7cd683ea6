import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MikroORM } from '@mikro-orm/core';
import { refreshRepository } from '../activities/summit/intake';
import { planBuilds } from '../activities/summit/planning';
import { variantsFor } from '../activities/summit/variants';
import { openDatabase } from '../db/orm';
import { Store } from '../db/store';
import { recipeYaml, TestRepo } from './helpers/git-repo';
import { createTestDatabase, TestDatabase } from './support/postgres';

let work: string;
let pg: TestDatabase;
let orm: MikroORM;
let store: Store;
let repo: TestRepo;
const builder = { id: 'b1', host: 'h', isaLevels: ['x86_64' as const], slots: 2, busy: 0, diskFree: 1e10 };

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'summit-intake-'));
  pg = await createTestDatabase('intake');
  orm = await openDatabase({ url: pg.url, dataDir: work });
  store = new Store(orm);
  repo = new TestRepo(join(work, 'recipes'));
  await store.addRepository({ id: 'recipes', project: 'serpent', url: repo.dir });
});

afterAll(async () => {
  await orm?.close(true);
  await pg?.drop();
  rmSync(work, { recursive: true, force: true });
});

const deps = () => ({ store, mirrorsDir: join(work, 'mirrors'), variants: variantsFor([]), packagesBaseUrl: 'file:///srv/vessel' });
const ids = (xs: string[]) => xs.map((x) => x.replace('build/serpent/recipes/', ''));

describe('intake and planning on a real git repository', () => {
  it('turns every recipe into a task, marks manifests derived, and lists an invalid recipe without stopping', async () => {
    repo.write('l/liba/stone.yaml', recipeYaml({ name: 'liba' }));
    repo.write('t/tool/stone.yaml', recipeYaml({ name: 'tool', builddeps: ['liba'] }));
    repo.write('a/app/stone.yaml', recipeYaml({ name: 'app', rundeps: ['tool'] }));
    repo.write('b/bad/stone.yaml', 'name: bad\nrelease: [\n');
    const commit = repo.commit('first');
    const result = await refreshRepository(deps(), { repository: 'recipes', origin: 'hook' });
    expect(result.commit).toBe(commit);
    expect(ids(result.created).sort()).toEqual(['app-1.0-1/x86_64', 'liba-1.0-1/x86_64', 'tool-1.0-1/x86_64']);
    expect(result.invalid).toEqual([{ path: 'b/bad/stone.yaml', errors: [expect.stringContaining('b/bad/stone.yaml:')] }]);
    expect((await store.listRecipes('recipes')).every((r) => r.derived)).toBe(true);
  });

  it('is idempotent for the same commit', async () => {
    const again = await refreshRepository(deps(), { repository: 'recipes', origin: 'poll' });
    expect(again.created).toEqual([]);
  });

  it('dispatches only ready tasks, in dependency order, within builder capacity', async () => {
    const plan = await planBuilds(deps(), { builders: [builder] });
    expect(ids(plan.dispatch.map((d) => d.taskId))).toEqual(['liba-1.0-1/x86_64']);
    expect(plan.dispatch[0]).toMatchObject({ source: 'liba', recipePath: 'l/liba', dependencies: [], repoUrl: repo.dir });
    expect(await planBuilds(deps(), { builders: [] })).toMatchObject({ dispatch: [] });
  });

  it('supersedes a not-yet-running task when a newer release arrives, and builds the newer one', async () => {
    repo.write('l/liba/stone.yaml', recipeYaml({ name: 'liba', release: 2 }));
    repo.commit('liba r2');
    const result = await refreshRepository(deps(), { repository: 'recipes', origin: 'hook', commit: 'main' });
    expect(ids(result.created)).toEqual(['liba-1.0-2/x86_64']);
    expect(ids(result.superseded)).toEqual(['liba-1.0-1/x86_64']);
    expect((await store.getTask('build/serpent/recipes/liba-1.0-1/x86_64')).supersededBy).toBe('build/serpent/recipes/liba-1.0-2/x86_64');
  });

  it('blocks the dependents of a failed task and unblocks them when it is retried', async () => {
    const liba = 'build/serpent/recipes/liba-1.0-2/x86_64';
    await store.setStatus(liba, 'building', 'test');
    await store.setStatus(liba, 'failed', 'test');
    const plan = await planBuilds(deps(), { builders: [builder] });
    expect(ids(plan.blocked).sort()).toEqual(['app-1.0-1/x86_64', 'tool-1.0-1/x86_64']);
    expect((await store.getTask('build/serpent/recipes/tool-1.0-1/x86_64')).status).toBe('blocked');
    await store.setStatus(liba, 'new', 'retried');
    const after = await planBuilds(deps(), { builders: [builder] });
    expect(ids(after.unblocked).sort()).toEqual(['app-1.0-1/x86_64', 'tool-1.0-1/x86_64']);
    expect(ids(after.dispatch.map((d) => d.taskId))).toEqual(['liba-1.0-2/x86_64']);
  });

  it('refuses a commit that is not in the repository with a clear error', async () => {
    await expect(refreshRepository(deps(), { repository: 'recipes', origin: 'api', commit: 'deadbeef' })).rejects.toThrow(/commit "deadbeef" is not in the mirror/);
  });
});
