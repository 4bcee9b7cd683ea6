/**
 * GET /api/tasks's page and total (api/services/task-list.ts) over the real store on both databases: the page
 * is always read now, the total is counted now or reused for the same filter within its age, and the answer
 * says which (totalExact, totalAt). The clock is injected: no sleeping, no timing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/core';
import { TaskList } from '../api/services/task-list';
import type { TaskStatus } from '../core/task/state';
import { Task } from '../db/entities';
import { openDatabase } from '../db/orm';
import { Store } from '../db/store';
import { createTestDatabase, type TestDatabase } from './support/postgres';

const BASE = { project: 'serpent', repository: 'recipes', version: '1.0', isa: 'x86_64', index: 'main', commit: 'c0ffee', recipePath: 'x' };

describe.each(['postgresql', 'embedded libsql'])('the task list on %s', (driver) => {
  let orm: MikroORM;
  let store: Store;
  let pg: TestDatabase | undefined;
  let dir: string;
  let n = 0;

  async function addTask(source: string, status: string, createdAt: Date): Promise<string> {
    const id = `build/serpent/recipes/${source}-1.0-${++n}/x86_64`;
    await store.createTask({ ...BASE, id, source, release: n }, 'test');
    await orm.em.fork().nativeUpdate(Task, { id }, { status, createdAt });
    return id;
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'summit-task-list-'));
    if (driver === 'postgresql') pg = await createTestDatabase('tasklist');
    orm = await openDatabase({ url: pg?.url, dataDir: dir });
    store = new Store(orm);
    const base = Date.UTC(2021, 0, 1);
    // Three tasks per instant (ties broken by id), statuses interleaved so that a page of several statuses mixes them.
    const statuses = ['failed', 'completed', 'cancelled', 'blocked'];
    for (let i = 0; i < 40; i++) await addTask(`s${i % 7}`, statuses[i % statuses.length], new Date(base + Math.floor(i / 3) * 1000));
  });

  afterAll(async () => {
    await orm?.close(true);
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts for the first request, reuses the count within its age saying so, and counts again after it', async () => {
    let now = Date.UTC(2030, 0, 1);
    const list = new TaskList(store, 1000, () => now);
    const first = await list.page({ status: ['failed'], limit: 5, offset: 0 });
    expect(first).toMatchObject({ total: 10, totalExact: true, totalAt: new Date(now).toISOString() });
    await addTask('late', 'failed', new Date(Date.UTC(2022, 0, 1)));
    now += 1000;
    const reused = await list.page({ status: ['failed'], limit: 5, offset: 0 });
    // The page is read now (the new task is on it); the total is the count of a second ago, and says so.
    expect((JSON.parse(reused.itemsJson) as Array<{ source: string }>)[0].source).toBe('late');
    expect(reused).toMatchObject({ total: 10, totalExact: false, totalAt: first.totalAt });
    expect((await list.page({ status: ['failed'], limit: 5, offset: 0 }, 'exact'))).toMatchObject({ total: 11, totalExact: true });
    now += 1001;
    expect(await list.page({ status: ['failed'], limit: 5, offset: 0 })).toMatchObject({ total: 11, totalExact: true, totalAt: new Date(now).toISOString() });
    // Another filter is another count; the order of statuses or a repeated one is the same filter.
    expect(await list.page({ status: ['cancelled', 'failed'], limit: 5, offset: 0 })).toMatchObject({ total: 21, totalExact: true });
    expect(await list.page({ status: ['failed', 'cancelled', 'failed'], limit: 5, offset: 0 })).toMatchObject({ total: 21, totalExact: false });
    // Age 0: every request counts.
    const always = new TaskList(store, 0, () => now);
    await always.page({ limit: 1, offset: 0 });
    expect(await always.page({ limit: 1, offset: 0 })).toMatchObject({ total: 41, totalExact: true });
  });

  it('pages several statuses by keyset in the list order, each task once, the same as offset paging', async () => {
    for (const status of [['failed', 'cancelled'], ['blocked', 'completed', 'failed'], ['completed', 'completed']] as TaskStatus[][]) {
      const everything = await store.listTasks({ status, limit: 200, offset: 0 });
      expect(everything.next).toBeNull();
      expect(everything.items.length).toBe(everything.total);
      const all = await orm.em.fork().find(Task, { status: { $in: status } }, { orderBy: { createdAt: 'desc', id: 'desc' } });
      expect(everything.items.map((t) => t.id)).toEqual(all.map((t) => t.id));
      const byKeyset: string[] = [];
      const byOffset: string[] = [];
      let page = await store.listTasks({ status, limit: 4, offset: 0 });
      for (;;) {
        byKeyset.push(...page.items.map((t) => t.id));
        if (!page.next) break;
        page = await store.listTasks({ status, limit: 4, offset: 0, after: page.next });
      }
      for (let offset = 0; offset < all.length; offset += 4) byOffset.push(...(await store.listTasks({ status, limit: 4, offset })).items.map((t) => t.id));
      expect(byKeyset).toEqual(all.map((t) => t.id));
      expect(byOffset).toEqual(all.map((t) => t.id));
    }
  });

  // The embedded file only: PostgreSQL is a server.
  (driver === 'embedded libsql' ? it : it.skip)('opens the embedded file for several processes: write-ahead log, writers wait for each other, commits without fsync', async () => {
    const connection = orm.em.getConnection();
    expect(await connection.execute('PRAGMA journal_mode')).toEqual([{ journal_mode: 'wal' }]);
    expect(await connection.execute('PRAGMA busy_timeout')).toEqual([{ timeout: 5000 }]);
    // 1 = NORMAL (SQLite's default, 2 = FULL, syncs at every commit).
    expect(await connection.execute('PRAGMA synchronous')).toEqual([{ synchronous: 1 }]);
  });

  it('gives list items every field of the task, with the types the entity has', async () => {
    const [item] = (await store.listTasks({ source: 's1', limit: 1, offset: 0, count: false })).items;
    expect((await store.listTasks({ limit: 1, offset: 0, count: false })).total).toBeNull();
    await store.updateTask(item.id, { logPath: '/logs/x.log', priority: 2.5 });
    await orm.em.fork().nativeUpdate(Task, { id: item.id }, { published: [{ name: 's1', uri: 'pool/s1.stone', sha256: 'ab'.repeat(32), size: 7 }], finishedAt: new Date(Date.UTC(2021, 5, 1, 1, 2, 3, 456)) });
    const [lean] = (await store.listTasks({ source: 's1', limit: 1, offset: 0 })).items;
    const full = await store.getTask(item.id);
    expect(JSON.parse(JSON.stringify(lean))).toEqual(JSON.parse(JSON.stringify(full)));
    expect(lean.createdAt).toBeInstanceOf(Date);
    expect(lean.priority).toBe(2.5);
    expect(lean.published).toEqual([{ name: 's1', uri: 'pool/s1.stone', sha256: 'ab'.repeat(32), size: 7 }]);
    expect(lean.finishedAt?.toISOString()).toBe('2021-06-01T01:02:03.456Z');
    // The database's JSON of the same page is what JSON.stringify of the entity gives, key for key.
    const [written] = JSON.parse((await store.listTasksJson({ source: 's1', limit: 1, offset: 0 })).json) as unknown[];
    expect(written).toEqual(JSON.parse(JSON.stringify(full)));
    expect(Object.keys(written as object)).toEqual(Object.keys(JSON.parse(JSON.stringify(full)) as object));
  });

  it('writes the same pages as JSON as it lists, cursors included', async () => {
    for (const filter of [{}, { status: ['failed', 'blocked'] as TaskStatus[] }, { repository: 'recipes', status: ['completed'] as TaskStatus[] }]) {
      let listed = await store.listTasks({ ...filter, limit: 7, offset: 0, count: false });
      let written = await store.listTasksJson({ ...filter, limit: 7, offset: 0 });
      for (;;) {
        expect(JSON.parse(written.json)).toEqual(JSON.parse(JSON.stringify(listed.items)));
        expect(written.next).toEqual(listed.next);
        if (!listed.next) break;
        listed = await store.listTasks({ ...filter, limit: 7, offset: 0, after: listed.next, count: false });
        written = await store.listTasksJson({ ...filter, limit: 7, offset: 0, after: written.next! });
      }
    }
  });
});
