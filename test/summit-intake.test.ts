import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MikroORM } from '@mikro-orm/core';
import { mirrorPath, readRecipesAt, refreshRepository } from '../activities/summit/intake';
import { planBuilds } from '../activities/summit/planning';
import { variantsFor } from '../core/variants';
import { openDatabase } from '../db/orm';
import { Store } from '../db/store';
import { recipeYaml, TestRepo } from './helpers/git-repo';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { enrolBuilders } from './helpers/enrol';

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
  await enrolBuilders(store, ['b1']);
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
    // What is dispatched is queued in the same round; the slot it takes is then counted as busy.
    expect((await store.getTask(plan.dispatch[0].taskId)).status).toBe('queued');
    expect(await planBuilds(deps(), { builders: [builder] })).toMatchObject({ dispatch: [] });
    expect(await planBuilds(deps(), { builders: [] })).toMatchObject({ dispatch: [] });
    // As when its build workflow does not start: back to new, not yet running (the next test supersedes it).
    await store.moveTask(plan.dispatch[0].taskId, 'new', 'build workflow did not start');
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
    await store.setStatus(liba, 'queued', 'test');
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

describe('intake of a repository with problem recipes', () => {
  let hostile: TestRepo;
  const limits = { maxBytes: 4096, parseTimeoutMs: 10_000, parseMemoryMb: 64 };
  const hostileDeps = (over: Partial<typeof limits> = {}) => ({ ...deps(), limits: { ...limits, ...over } });

  beforeAll(async () => {
    hostile = new TestRepo(join(work, 'hostile'));
    await store.addRepository({ id: 'hostile', project: 'serpent', url: hostile.dir });
    hostile.write('good/stone.yaml', recipeYaml({ name: 'good' }));
    hostile.write('slash/stone.yaml', recipeYaml({ name: 'a/b' }));
    hostile.write('twice/stone.yaml', recipeYaml({ name: 'good' }));
    hostile.write('big/stone.yaml', `${recipeYaml({ name: 'big' })}# ${'x'.repeat(8192)}\n`);
    hostile.write('fat-manifest/stone.yaml', recipeYaml({ name: 'fat-manifest' }));
    hostile.write('fat-manifest/manifest.x86_64.bin', Buffer.alloc(8192, 1));
    hostile.write('nulls/stone.yaml', `${recipeYaml({ name: 'nulls' })}upstreams :\n    # - https://example.org/nulls-1.0.tar.xz : 0123\n`);
    hostile.commit('problems');
  });

  it('lists each problem recipe with its reason, persists the list, and creates tasks for the others', async () => {
    const progress: Array<{ stage: string; read: number; total: number }> = [];
    const result = await refreshRepository(hostileDeps(), { repository: 'hostile', origin: 'hook' }, (p) => progress.push(p));
    expect(result.created.map((id) => id.replace('build/serpent/hostile/', '')).sort()).toEqual(['good-1.0-1/x86_64', 'nulls-1.0-1/x86_64']);
    const reasons = Object.fromEntries(result.invalid.map((i) => [i.path, i.errors.join('\n')]));
    expect(reasons).toEqual({
      'big/stone.yaml': expect.stringMatching(/^big\/stone\.yaml: the file is \d+ bytes, more than the 4096-byte limit for a recipe: not read$/),
      'fat-manifest/stone.yaml': 'fat-manifest/manifest.x86_64.bin: the file is 8192 bytes, more than the 4096-byte limit for a recipe: not read',
      'slash/stone.yaml': expect.stringContaining('slash/stone.yaml:1:15 name: the name "a/b" may hold only letters, digits'),
      'twice/stone.yaml': 'twice/stone.yaml: the name "good" is already used by good/stone.yaml',
    });
    expect(result.invalidTotal).toBe(4);
    const stored = await store.listInvalidRecipes('hostile');
    expect(stored.map((r) => ({ path: r.path, errors: r.errors, commit: r.commit }))).toEqual(result.invalid.map((i) => ({ ...i, commit: result.commit })));
    // Progress: fetching first, then recipes read out of the total, ending with all of them read.
    expect(progress[0].stage).toBe('fetching');
    const reading = progress.filter((p) => p.stage === 'reading');
    expect(reading.at(-1)).toEqual({ stage: 'reading', read: 6, total: 6 });
    expect(reading.map((p) => p.read)).toEqual([...reading.map((p) => p.read)].sort((a, b) => a - b));
  });

  it('replaces the list on the next refresh: a fixed recipe leaves it', async () => {
    hostile.write('slash/stone.yaml', recipeYaml({ name: 'slash' }));
    hostile.commit('fix the name');
    await refreshRepository(hostileDeps(), { repository: 'hostile', origin: 'hook' });
    expect((await store.listInvalidRecipes('hostile')).map((r) => r.path)).toEqual(['big/stone.yaml', 'fat-manifest/stone.yaml', 'twice/stone.yaml']);
  });

  it('refuses every recipe that misses the parse deadline, replacing the parser thread each time, and goes on', async () => {
    // 1 ms is less than a parser thread needs to start: each recipe hits the deadline, its thread is terminated
    // and the next recipe gets a new one. Intake itself completes.
    const result = await refreshRepository(hostileDeps({ parseTimeoutMs: 1 }), { repository: 'hostile', origin: 'poll' });
    expect(result.recipes).toBe(0);
    const late = result.invalid.filter((i) => i.errors.some((e) => e.endsWith('parsing took longer than 1 ms: refused')));
    expect(late.map((i) => i.path)).toEqual(['good/stone.yaml', 'nulls/stone.yaml', 'slash/stone.yaml', 'twice/stone.yaml']);
    // Back to normal limits, the same commit reads as before.
    expect((await refreshRepository(hostileDeps(), { repository: 'hostile', origin: 'poll' })).recipes).toBe(3);
  });
});

describe('intake reads only what changed', () => {
  let tree: TestRepo;
  const snapshot = async () => (await store.recipeSnapshot('tree'))!;

  beforeAll(async () => {
    tree = new TestRepo(join(work, 'tree'));
    await store.addRepository({ id: 'tree', project: 'serpent', url: tree.dir });
    for (const name of ['alpha', 'beta', 'gamma']) tree.write(`${name}/stone.yaml`, recipeYaml({ name }));
    tree.commit('three recipes');
  });

  it('does not read again a commit it has read: the snapshot stays as it was', async () => {
    const first = await refreshRepository(deps(), { repository: 'tree', origin: 'hook' });
    expect(first.created).toHaveLength(3);
    const read = await snapshot();
    const again = await refreshRepository(deps(), { repository: 'tree', origin: 'poll' });
    expect(again).toMatchObject({ commit: first.commit, recipes: 3, created: [], updated: [], superseded: [], invalidTotal: 0 });
    expect(await snapshot()).toMatchObject({ commit: first.commit, generation: read.generation });
    expect((await store.getRepository('tree')).lastCommit).toBe(first.commit);
  });

  it('re-reads a changed recipe at a new commit, takes the unchanged ones as they were read, and drops a removed one', async () => {
    const before = new Map((await store.listRecipes('tree')).map((r) => [r.source, r]));
    tree.write('beta/stone.yaml', recipeYaml({ name: 'beta', release: 2 }));
    tree.git('rm', '-rq', 'gamma');
    const commit = tree.commit('beta r2, gamma gone');
    const mirror = mirrorPath(join(work, 'mirrors'), 'tree');
    const result = await refreshRepository(deps(), { repository: 'tree', origin: 'hook' });
    expect(ids(result.created)).toEqual(['build/serpent/tree/beta-1.0-2/x86_64']);
    expect(ids(result.superseded)).toEqual(['build/serpent/tree/beta-1.0-1/x86_64']);
    const after = await store.listRecipes('tree');
    expect(after.map((r) => [r.source, r.release, r.commit])).toEqual([['alpha', 1, commit], ['beta', 2, commit]]);
    expect(after.find((r) => r.source === 'alpha')!.blob).toBe(before.get('alpha')!.blob);
    expect(after.find((r) => r.source === 'beta')!.blob).not.toBe(before.get('beta')!.blob);
    expect((await store.getTask('build/serpent/tree/alpha-1.0-1/x86_64')).commit).toBe(commit);
    // Offered the rows read before, only the changed file is parsed.
    expect((await readRecipesAt(mirror, commit, { known: after })).parsed).toBe(0);
    expect((await readRecipesAt(mirror, commit, { known: [...before.values()] })).parsed).toBe(1);
    expect((await readRecipesAt(mirror, commit)).parsed).toBe(2);
  });

  it('reads a commit again under other limits', async () => {
    const read = await snapshot();
    const result = await refreshRepository({ ...deps(), limits: { maxBytes: 64, parseTimeoutMs: 10_000, parseMemoryMb: 64 } }, { repository: 'tree', origin: 'poll' });
    expect(result.recipes).toBe(0);
    expect(result.invalidTotal).toBe(2);
    expect((await snapshot()).generation).toBe(read.generation + 1);
  });
});
