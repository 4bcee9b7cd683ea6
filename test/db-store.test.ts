import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MikroORM } from '@mikro-orm/core';
import { IllegalTransitionError } from '../core/task/state';
import { Task } from '../db/entities';
import { openDatabase } from '../db/orm';
import { ConflictError, NotFoundError, Store } from '../db/store';
import { createTestDatabase, TestDatabase } from './support/postgres';

const TASK = {
  id: 'build/serpent/recipes/liba-1.0-1/x86_64', project: 'serpent', repository: 'recipes', source: 'liba', version: '1.0',
  release: 1, isa: 'x86_64', index: 'main', commit: 'c0ffee', recipePath: 'l/liba',
};

describe.each(['postgresql', 'embedded libsql'])('the read model on %s', (driver) => {
  let orm: MikroORM;
  let store: Store;
  let pg: TestDatabase | undefined;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'summit-db-'));
    if (driver === 'postgresql') pg = await createTestDatabase('store');
    orm = await openDatabase({ url: pg?.url, dataDir: dir });
    store = new Store(orm);
  });

  afterAll(async () => {
    await orm?.close(true);
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens twice over the same schema without losing data', async () => {
    await store.addRepository({ id: 'recipes', project: 'serpent', url: '/srv/recipes.git' });
    const again = await openDatabase({ url: pg?.url, dataDir: dir });
    expect((await new Store(again).listRepositories()).map((r) => r.id)).toEqual(['recipes']);
    await again.close(true);
    await expect(store.addRepository({ id: 'recipes', project: 'serpent', url: 'x' })).rejects.toThrow(ConflictError);
  });

  it('creates the task list indexes on a database that lacks them, at open', async () => {
    const LIST_INDEXES = ['tasks_created_at_id_index', 'tasks_repository_created_at_id_index', 'tasks_source_created_at_id_index', 'tasks_status_created_at_id_index'];
    const indexes = async (o: MikroORM): Promise<string[]> => {
      const sql = driver === 'postgresql' ? `select indexname as name from pg_indexes where tablename = 'tasks'` : `select name from sqlite_master where type = 'index' and tbl_name = 'tasks'`;
      const rows: Array<{ name: string }> = await o.em.getConnection().execute(sql);
      return rows.map((r) => r.name).filter((n) => LIST_INDEXES.includes(n)).sort();
    };
    expect(await indexes(orm)).toEqual(LIST_INDEXES);
    for (const name of LIST_INDEXES) await orm.em.getConnection().execute(`drop index ${name}`);
    expect(await indexes(orm)).toEqual([]);
    const again = await openDatabase({ url: pg?.url, dataDir: dir });
    expect(await indexes(again)).toEqual(LIST_INDEXES);
    await again.close(true);
  });

  it('walks a task through the state machine, recording every event and time', async () => {
    await store.createTask(TASK, 'recipe liba 1.0-1 at c0ffee');
    await store.setStatus(TASK.id, 'queued', 'dispatched');
    expect(await store.getTask(TASK.id)).toMatchObject({ status: 'queued', builder: null, startedAt: null, attempts: 1 });
    await store.setStatus(TASK.id, 'building', 'picked up', { builder: 'b1' });
    await store.setStatus(TASK.id, 'building', 'retried record is a no-op');
    await store.setStatus(TASK.id, 'publishing', 'built');
    await store.setStatus(TASK.id, 'completed', 'published', { published: [{ name: 'liba', uri: 'pool/l/liba/x.stone', sha256: 'a'.repeat(64), size: 10 }] });
    const task = await store.getTask(TASK.id);
    expect(task).toMatchObject({ status: 'completed', attempts: 1, builder: 'b1' });
    expect(task.startedAt).toBeInstanceOf(Date);
    expect(task.finishedAt).toBeInstanceOf(Date);
    expect((await store.taskEvents(TASK.id)).map((e) => `${e.from}->${e.to}`)).toEqual(['null->new', 'new->queued', 'queued->building', 'building->publishing', 'publishing->completed']);
    expect(await store.publishedRelease('recipes', 'liba', 'x86_64')).toBe(1);
  });

  it('refuses an illegal move with a typed error and changes nothing', async () => {
    await expect(store.setStatus(TASK.id, 'building', 'again')).rejects.toThrow(IllegalTransitionError);
    expect((await store.getTask(TASK.id)).status).toBe('completed');
    await expect(store.getTask('nope')).rejects.toThrow(NotFoundError);
  });

  // Twenty tasks, each building; for each, an admin's cancel and the build's "built" record race. Whoever writes
  // second decides again on what it finds: built then cancelled is legal, cancelled then built is not. The record
  // goes through both writers' paths: one that reads the task first, one that writes without reading it.
  it.each([
    ['compare-and-set: racing writers never both win, and every event follows the one before it', 'race', (id: string) => store.setStatus(id, 'publishing', 'built on b1')],
    ['compare-and-set without a read: a record racing a cancel never both win', 'record-race', (id: string) => store.recordMove(id, 'building', 'publishing', 'built on b1')],
  ])('%s', async (_title, name, built) => {
    const ids = Array.from({ length: 20 }, (_, i) => `${TASK.id}-${name}-${i}`);
    for (const id of ids) {
      await store.createTask({ ...TASK, id, source: 'racer', repository: 'races' }, 'x');
      await store.queueTasks([id], () => 'dispatched');
      await store.recordMove(id, 'queued', 'building', 'picked up', { builder: 'b1' });
    }
    const outcomes = await Promise.all(ids.map((id) => Promise.allSettled([store.moveTask(id, 'cancelled', 'cancelled by admin'), built(id)])));
    for (const [i, [cancel, record]] of outcomes.entries()) {
      expect(cancel.status).toBe('fulfilled');
      const events = await store.taskEvents(ids[i]);
      for (let e = 1; e < events.length; e++) expect(`${ids[i]}: ${events[e].from}`).toBe(`${ids[i]}: ${events[e - 1].to}`);
      expect((await store.getTask(ids[i])).status).toBe('cancelled');
      // The built record either came first (then the cancel moved publishing → cancelled) or was refused.
      if (record.status === 'rejected') expect(record.reason).toBeInstanceOf(IllegalTransitionError);
      else expect(events.map((e) => e.to)).toEqual(['new', 'queued', 'building', 'publishing', 'cancelled']);
    }
  });

  it('a move limited to some statuses leaves any other alone: a failure does not overwrite a cancel', async () => {
    const id = `${TASK.id}-cancel-wins`;
    await store.createTask({ ...TASK, id, source: 'racer', repository: 'races' }, 'x');
    await store.setStatus(id, 'queued', 'dispatched');
    await store.moveTask(id, 'cancelled', 'cancelled by admin');
    const r = await store.moveTask(id, 'failed', 'build failed', { reason: 'build failed' }, { onlyFrom: ['queued', 'building', 'publishing'] });
    expect(r).toMatchObject({ moved: false, from: 'cancelled' });
    expect(await store.getTask(id)).toMatchObject({ status: 'cancelled', reason: null });
  });

  it('queues only tasks that are still new, counting each dispatch as an attempt', async () => {
    const ids = [1, 2, 3].map((i) => `${TASK.id}-queue-${i}`);
    for (const id of ids) await store.createTask({ ...TASK, id, source: 'racer', repository: 'races' }, 'x');
    await store.setStatus(ids[1], 'cancelled', 'cancelled by admin');
    expect(await store.queueTasks(ids, () => 'dispatched')).toEqual([ids[0], ids[2]]);
    expect((await store.getTask(ids[0])).attempts).toBe(1);
    expect((await store.getTask(ids[1])).status).toBe('cancelled');
  });

  it('a record that knows the expected status writes without reading, and decides again when the task is elsewhere', async () => {
    const id = `${TASK.id}-record`;
    await store.createTask({ ...TASK, id, source: 'recorder', repository: 'races' }, 'x');
    expect(await store.queueTasks([id], () => 'dispatched')).toEqual([id]);
    expect(await store.recordMove(id, 'queued', 'building', 'picked up', { builder: 'b1' })).toEqual({ from: 'queued', moved: true });
    // A retried record finds the task already there: only its fields are written, no second event.
    expect(await store.recordMove(id, 'queued', 'building', 'picked up again', { builder: 'b2' }, { onlyFrom: ['queued', 'building'] })).toEqual({ from: 'building', moved: false });
    await store.moveTask(id, 'cancelled', 'cancelled by admin');
    // A failure expected from building finds a cancel: left alone, as moveTask would.
    expect(await store.recordMove(id, 'building', 'failed', 'build failed', { reason: 'build failed' }, { onlyFrom: ['queued', 'building', 'publishing'] })).toEqual({ from: 'cancelled', moved: false });
    await expect(store.recordMove(id, 'building', 'publishing', 'built')).rejects.toThrow(IllegalTransitionError);
    await store.setStatus(id, 'new', 'retried');
    expect(await store.queueTasks([id], () => 'dispatched again')).toEqual([id]);
    expect(await store.getTask(id)).toMatchObject({ status: 'queued', attempts: 2, builder: null, startedAt: null });
    expect((await store.taskEvents(id)).map((e) => `${e.from}->${e.to}`)).toEqual(['null->new', 'new->queued', 'queued->building', 'building->cancelled', 'cancelled->new', 'new->queued']);
  });

  it("writes what goes with a record (a build log's source) in the move's transaction, and on its own when the task is elsewhere", async () => {
    const id = `${TASK.id}-also`;
    await store.createTask({ ...TASK, id, source: 'also', repository: 'races' }, 'x');
    await store.queueTasks([id], () => 'dispatched');
    const source = (attempt: number) => ({ builder: `b${attempt}`, url: `http://b${attempt}`, token: `t${attempt}`, attempt });
    // The write with the move fails: neither the move nor its event is kept.
    const failing = store.recordMove(id, 'queued', 'building', 'picked up', { builder: 'b1' }, {
      also: async (em) => {
        await store.logs.setSource(id, source(1), em);
        throw new Error('the log write failed');
      },
    });
    await expect(failing).rejects.toThrow('the log write failed');
    expect(await store.getTask(id)).toMatchObject({ status: 'queued', builder: null });
    expect(await store.logs.state(id)).toEqual({});
    expect((await store.taskEvents(id)).map((e) => e.to)).toEqual(['new', 'queued']);

    expect(await store.recordMove(id, 'queued', 'building', 'picked up', { builder: 'b1' }, { also: (em) => store.logs.setSource(id, source(1), em) })).toEqual({ from: 'queued', moved: true });
    expect((await store.logs.state(id)).source).toEqual(source(1));
    // A retried record (already building, so the compare-and-set misses): the write still happens, on its own.
    expect(await store.recordMove(id, 'queued', 'building', 'picked up again', { builder: 'b2' }, { onlyFrom: ['queued', 'building'], also: (em) => store.logs.setSource(id, source(2), em) })).toEqual({ from: 'building', moved: false });
    expect((await store.logs.state(id)).source).toEqual(source(2));
    expect((await store.taskEvents(id)).map((e) => e.to)).toEqual(['new', 'queued', 'building']);
  });

  it("keeps a build log's source of the latest attempt: a late pickup of an earlier attempt changes nothing", async () => {
    const id = `${TASK.id}-log`;
    await store.logs.setSource(id, { builder: 'b1', url: 'http://b1', token: 't1', attempt: 1 });
    await store.logs.setSource(id, { builder: 'b2', url: 'http://b2', token: 't2', attempt: 2 });
    await store.logs.setSource(id, { builder: 'b1', url: 'http://b1', token: 't1', attempt: 1 });
    expect((await store.logs.state(id)).source).toEqual({ builder: 'b2', url: 'http://b2', token: 't2', attempt: 2 });
    await store.logs.setCollected(id, { stored: Buffer.from('x'), plainBytes: 1 }, 'b2');
    await store.logs.setSource(id, { builder: 'b3', url: 'http://b3', token: 't3', attempt: 3 });
    expect(await store.logs.state(id)).toEqual({ source: { builder: 'b3', url: 'http://b3', token: 't3', attempt: 3 } });
  });

  it('filters and pages tasks', async () => {
    for (let i = 2; i <= 5; i++) await store.createTask({ ...TASK, id: `${TASK.id}-${i}`, source: `lib${i}` }, 'x');
    const page = await store.listTasks({ status: ['new'], limit: 3, offset: 0 });
    expect(page.total).toBe(4);
    expect(page.items).toHaveLength(3);
    const rest = await store.listTasks({ status: ['new'], limit: 3, offset: 3 });
    expect(rest.items).toHaveLength(1);
    expect((await store.listTasks({ source: 'liba', limit: 10, offset: 0 })).items.map((t) => t.status)).toEqual(['completed']);
  });

  it('pages tasks by keyset: disjoint, ordered, complete, and stable while tasks are added', async () => {
    const base = Date.UTC(2020, 0, 1);
    // Several tasks per instant, so that ties on createdAt are broken by id.
    for (let i = 0; i < 23; i++) {
      const id = `${TASK.id}-k${String(i).padStart(2, '0')}`;
      await store.createTask({ ...TASK, id, source: 'keyset' }, 'x');
      await orm.em.fork().nativeUpdate(Task, { id }, { createdAt: new Date(base + Math.floor(i / 3) * 1000) });
    }
    const want = (await store.listTasks({ source: 'keyset', limit: 200, offset: 0 })).items.map((t) => t.id);
    expect(want).toHaveLength(23);
    const seen: string[] = [];
    let page = await store.listTasks({ source: 'keyset', limit: 5, offset: 0 });
    let added = 0;
    for (;;) {
      expect(page.total).toBe(23 + added);
      seen.push(...page.items.map((t) => t.id));
      if (!page.next) break;
      // A newer task arriving between pages lands before the cursor: it neither shifts nor repeats a page.
      await store.createTask({ ...TASK, id: `${TASK.id}-new${added++}`, source: 'keyset' }, 'x');
      page = await store.listTasks({ source: 'keyset', limit: 5, offset: 0, after: page.next });
    }
    expect(seen).toEqual(want);
    const rows = await Promise.all(seen.map((id) => store.getTask(id)));
    for (let i = 1; i < rows.length; i++) {
      const [a, b] = [rows[i - 1], rows[i]];
      expect(a.createdAt > b.createdAt || (a.createdAt.getTime() === b.createdAt.getTime() && a.id > b.id)).toBe(true);
    }
  });

  it('replaces a repository recipe snapshot, keeping JSON columns intact', async () => {
    const pkg = { name: 'liba', provides: ['soname(libliba.so.1(x86_64))'], depends: [], buildDepends: ['binary(make)'] };
    await store.replaceRecipes('recipes', [
      { source: 'liba', version: '1.0', release: 1, commit: 'c1', path: 'l/liba', packages: [pkg], derived: false, architectures: ['x86_64'] },
      { source: 'tool', version: '2', release: 1, commit: 'c1', path: 't/tool', packages: [], derived: true, architectures: ['x86_64'] },
    ]);
    await store.replaceRecipes('recipes', [
      { source: 'liba', version: '1.1', release: 2, commit: 'c2', path: 'l/liba', packages: [pkg], derived: false, architectures: ['x86_64'] },
    ]);
    const recipes = await store.listRecipes('recipes');
    expect(recipes.map((r) => [r.source, r.release, r.commit])).toEqual([['liba', 2, 'c2']]);
    expect(recipes[0].packages).toEqual([pkg]);
  });

  it('bumps the snapshot generation with every replacement and keeps the commit and limits it was read at', async () => {
    const pkg = { name: 'liba', provides: [], depends: [], buildDepends: [] };
    const row = { source: 'liba', version: '1.1', release: 2, commit: 'c3', path: 'l/liba', packages: [pkg], derived: false, architectures: [], blob: 'b'.repeat(40) };
    const before = (await store.recipeSnapshot('recipes'))!.generation;
    await store.replaceRecipes('recipes', [row], { commit: 'c3', readWith: '[1,2,3]' });
    const unchanged = (await store.listRecipes('recipes'))[0];
    await store.replaceRecipes('recipes', [{ ...row, commit: 'c4' }], { commit: 'c4', readWith: '[1,2,3]' });
    expect(await store.recipeSnapshot('recipes')).toMatchObject({ commit: 'c4', readWith: '[1,2,3]', generation: before + 2, recipes: 1 });
    const [after] = await store.listRecipes('recipes');
    expect(after).toMatchObject({ commit: 'c4', blob: 'b'.repeat(40), manifestBlob: null, packages: [pkg] });
    expect(after.updatedAt.getTime()).toBe(unchanged.updatedAt.getTime());
    expect((await store.recipeSnapshots()).map((s) => s.repository)).toEqual(['recipes']);
  });

  it("answers intake's questions for a whole repository and writes its tasks in bulk", async () => {
    const t = (source: string, release: number) => ({ ...TASK, id: `build/serpent/recipes/${source}-1.0-${release}/x86_64`, source, release, recipePath: `x/${source}` });
    await store.createTasks([{ task: t('bulka', 1), reason: 'intake' }, { task: t('bulkb', 1), reason: 'intake' }, { task: t('bulkb', 2), reason: 'intake' }]);
    expect(await store.getTask(t('bulka', 1).id)).toMatchObject({ status: 'new', attempts: 0, commit: 'c0ffee' });
    expect((await store.getTask(t('bulka', 1).id)).createdAt).toBeInstanceOf(Date);
    expect((await store.taskEvents(t('bulkb', 2).id)).map((e) => `${e.from}->${e.to} ${e.reason}`)).toEqual(['null->new intake']);
    await store.setStatus(t('bulkb', 2).id, 'queued', 'dispatched');
    await store.setStatus(t('bulkb', 2).id, 'building', 'picked up');
    await store.moveToCommit([t('bulka', 1).id, t('bulkb', 2).id], 'f00d');
    expect((await store.getTask(t('bulka', 1).id)).commit).toBe('f00d');
    expect((await store.getTask(t('bulkb', 2).id)).commit).toBe('c0ffee'); // already running: keeps its commit
    await store.setStatus(t('bulkb', 2).id, 'publishing', 'built');
    await store.setStatus(t('bulkb', 2).id, 'completed', 'published');
    const published = await store.publishedReleases('recipes');
    expect(published.get('bulkb/x86_64')).toBe(2);
    expect(published.get('liba/x86_64')).toBe(1);
    expect(published.has('bulka/x86_64')).toBe(false);
    // The supersedable ones of the repository, plus the ones asked for by id whatever their status.
    const rows = await store.intakeTasks('recipes', [t('bulkb', 2).id]);
    expect(rows.filter((r) => r.source.startsWith('bulk')).map((r) => `${r.id.replace('build/serpent/recipes/', '')} ${r.status}`).sort()).toEqual(['bulka-1.0-1/x86_64 new', 'bulkb-1.0-1/x86_64 new', 'bulkb-1.0-2/x86_64 completed']);
    const since = await store.completedTasksSince((await store.getTask(t('bulkb', 2).id)).finishedAt!);
    expect(since.map((r) => r.id)).toEqual([t('bulkb', 2).id]);
  });

  it('keeps builders with their ISA levels', async () => {
    await store.upsertBuilder({ id: 'b1', host: 'h', isaLevels: ['x86_64', 'x86_64-v3x'], slots: 2, busy: 0, diskFree: 5e10 });
    await store.upsertBuilder({ id: 'b1', host: 'h', isaLevels: ['x86_64'], slots: 1, busy: 1, diskFree: 4e10 });
    expect(await store.listBuilders()).toMatchObject([{ id: 'b1', isaLevels: ['x86_64'], slots: 1, busy: 1, diskFree: 4e10 }]);
  });
});
