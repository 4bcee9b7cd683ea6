/**
 * A commit's new tasks are created in their wave in one transaction (db/store.ts createTasks): before, intake
 * created them, then opened the wave and assigned them, and a planning round in between dispatched a task with no
 * wave, which vessel then published on its own (a second history for one push). And the hub does not start the
 * wave of a repository whose intake is still running (it may yet add removals or a cascade's rebuilds).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MikroORM } from '@mikro-orm/core';
import { openDatabase } from '../db/orm';
import { Store, type NewTask } from '../db/store';
import { createTestDatabase, type TestDatabase } from './support/postgres';

describe.each(['postgresql', 'embedded libsql'])('tasks created in their wave on %s', (driver) => {
  let orm: MikroORM;
  let store: Store;
  let pg: TestDatabase | undefined;
  let dir: string;

  const task = (source: string, repository = 'recipes'): NewTask => ({
    id: `build/serpent/${repository}/${source}-1.0-1/x86_64`, project: 'serpent', repository, source,
    version: '1.0', release: 1, isa: 'x86_64', index: 'main', commit: 'c0ffee', recipePath: `r/${source}`,
  });
  const rows = (repository: string, ...sources: string[]) => sources.map((s) => ({ task: task(s, repository), reason: 'test' }));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'summit-wave-atomic-'));
    if (driver === 'postgresql') pg = await createTestDatabase('waveatomic');
    orm = await openDatabase({ url: pg?.url, dataDir: dir });
    store = new Store(orm);
    for (const id of ['recipes', 'other', 'tries']) await store.addRepository({ id, project: 'serpent', url: `/srv/${id}.git` });
  });

  afterAll(async () => {
    await orm?.close(true);
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens the wave and creates every task in it at once; a second call joins the same open wave', async () => {
    const wave = await store.createTasks(rows('recipes', 'a', 'b'), { wave: { repository: 'recipes', commit: 'c0ffee', origin: 'push' } });
    expect(wave).toMatchObject({ repository: 'recipes', commit: 'c0ffee', status: 'new' });
    const again = await store.createTasks(rows('recipes', 'c'), { wave: { repository: 'recipes', commit: 'c0ffee', origin: 'push' } });
    expect(again?.id).toBe(wave!.id);
    const tasks = await store.waves.tasksOf(wave!.id);
    expect(tasks.map((t) => t.source).sort()).toEqual(['a', 'b', 'c']);
    // Without a wave (nothing asked for one), tasks have none, and no wave is opened.
    expect(await store.createTasks(rows('recipes', 'loose'))).toBeUndefined();
    expect((await store.getTask(task('loose').id)).wave).toBeNull();
  });

  it('opens no wave when the tasks cannot be created: both or neither', async () => {
    const before = await store.waves.newWaves();
    // `a` exists already: the insert fails, and the wave of this new commit is rolled back with it.
    await expect(store.createTasks(rows('recipes', 'd', 'a'), { wave: { repository: 'recipes', commit: 'beef', origin: 'push' } })).rejects.toThrow();
    expect(await store.waves.newWaves()).toEqual(before);
    await expect(store.getTask(task('d').id)).rejects.toThrow(/does not exist/);
  });

  it('lists new waves but those of repositories still filling theirs, and never a wave its own workflow starts', async () => {
    const other = await store.createTasks(rows('other', 'x'), { wave: { repository: 'other', commit: 'f00d', origin: 'push' } });
    const own = await store.createTasks(rows('tries', 'y'), { wave: { repository: 'tries', commit: 'f00d', origin: 'try', status: 'building' } });
    expect(own).toMatchObject({ status: 'building', startedAt: expect.any(Date) });
    const all = await store.waves.newWaves();
    expect(all).toContain(other!.id);
    expect(all).not.toContain(own!.id);
    const recipes = all.filter((id) => id !== other!.id);
    expect(recipes.length).toBeGreaterThan(0);
    expect(await store.waves.newWaves(['other'])).toEqual(recipes);
    expect(await store.waves.newWaves(['other', 'recipes'])).toEqual([]);
  });
});
