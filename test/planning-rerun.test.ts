/**
 * A planning run that runs again with the same activity id (its workflow task failed after the local plan
 * committed, or its worker died before the answer reached the hub): what it queued is decided again, never left
 * queued with no build workflow (activities/summit/planning.ts, Task.dispatchKey). Real databases.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MikroORM } from '@mikro-orm/core';
import { MockActivityEnvironment } from '@temporalio/testing';
import { dispatchKey } from '../activities/summit/dispatch-key';
import { planBuilds } from '../activities/summit/planning';
import { variantsFor } from '../core/variants';
import { openDatabase } from '../db/orm';
import { Store, type NewTask } from '../db/store';
import { enrolBuilders } from './helpers/enrol';
import { createTestDatabase, type TestDatabase } from './support/postgres';

const task = (source: string): NewTask => ({
  id: `build/serpent/rerun/${source}-1.0-1/x86_64`, project: 'serpent', repository: 'rerun', source, version: '1.0', release: 1,
  isa: 'x86_64', index: 'main', commit: 'c0ffee', recipePath: `r/${source}`,
});
const recipe = (source: string) => ({
  source, version: '1.0', release: 1, commit: 'c0ffee', path: `r/${source}`, derived: true, architectures: [],
  packages: [{ name: source, provides: [], depends: [], buildDepends: [] }],
});
const builders = (slots: number, busy = 0) => [{ id: 'b1', host: 'h', isaLevels: ['x86_64' as const], slots, busy, diskFree: 1e10 }];

describe('the dispatch key of a planning activity', () => {
  const execution = { workflowId: 'summit-hub', runId: 'run-1' };
  const keyOf = (info: { isLocal: boolean; activityId: string; runId?: string }) =>
    new MockActivityEnvironment({ isLocal: info.isLocal, activityId: info.activityId, workflowExecution: { ...execution, runId: info.runId ?? execution.runId } }).run(async () => dispatchKey());

  it('is the same for a run again of one activity and differs for any other', async () => {
    const first = await keyOf({ isLocal: true, activityId: '7' });
    expect(await keyOf({ isLocal: true, activityId: '7' })).toBe(first);
    expect(new Set([first, await keyOf({ isLocal: true, activityId: '8' }), await keyOf({ isLocal: true, activityId: '7', runId: 'run-2' }), await keyOf({ isLocal: false, activityId: '7' })]).size).toBe(4);
    expect(dispatchKey()).toBeUndefined();
  });
});

describe.each(['postgresql', 'embedded libsql'])('a planning run again on %s', (driver) => {
  let orm: MikroORM;
  let store: Store;
  let pg: TestDatabase | undefined;
  let dir: string;
  const deps = () => ({ store, mirrorsDir: join(dir, 'mirrors'), variants: variantsFor([]), packagesBaseUrl: 'file:///srv/vessel' });
  const ids = (plan: Awaited<ReturnType<typeof planBuilds>>) => plan.dispatch.map((d) => d.source).sort();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'summit-plan-rerun-'));
    if (driver === 'postgresql') pg = await createTestDatabase('planrerun');
    orm = await openDatabase({ url: pg?.url, dataDir: dir });
    store = new Store(orm);
    await enrolBuilders(store, ['b1']);
    await store.addRepository({ id: 'rerun', project: 'serpent', url: '/srv/rerun.git' });
    await store.replaceRecipes('rerun', ['a', 'b', 'c'].map(recipe));
    for (const s of ['a', 'b', 'c']) await store.createTask(task(s), 'test');
  });

  afterAll(async () => {
    await orm?.close(true);
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers again what the lost run dispatched, with the same build release; another run dispatches nothing of it', async () => {
    const first = await planBuilds(deps(), { builders: builders(2) }, { dispatchKey: 'hub/run-1/local-7' });
    expect(ids(first)).toHaveLength(2);
    // Another planning run finds both queued: they take the builder's two slots, nothing more is dispatched.
    expect(ids(await planBuilds(deps(), { builders: builders(2) }, { dispatchKey: 'hub/run-1/local-8' }))).toEqual([]);
    // The first run again (the hub never got its answer): the same dispatches, the attempt counted once.
    const again = await planBuilds(deps(), { builders: builders(2) }, { dispatchKey: 'hub/run-1/local-7' });
    expect(ids(again)).toEqual(ids(first));
    expect(again.dispatch.map((d) => d.buildRelease)).toEqual(first.dispatch.map((d) => d.buildRelease));
    for (const d of again.dispatch) expect(await store.getTask(d.taskId)).toMatchObject({ status: 'queued', attempts: 1 });
  });

  it('gives back to new what it queued and no longer dispatches (a slot taken meanwhile)', async () => {
    const queued = (await store.listTasks({ status: ['queued'], limit: 50, offset: 0 })).items.map((t) => t.source).sort();
    expect(queued).toEqual(['a', 'b']);
    // Meanwhile c took one of the builder's two slots (an admin's retry, another hub run): the run again has one.
    await store.setStatus(task('c').id, 'queued', 'test');
    await store.setStatus(task('c').id, 'building', 'test', { builder: 'b1' });
    const again = await planBuilds(deps(), { builders: builders(2) }, { dispatchKey: 'hub/run-1/local-7' });
    expect(ids(again)).toEqual(['a']);
    expect(await store.getTask(task('a').id)).toMatchObject({ status: 'queued', attempts: 1 });
    expect(await store.getTask(task('b').id)).toMatchObject({ status: 'new' });
    expect((await store.taskEvents(task('b').id)).at(-1)).toMatchObject({ from: 'queued', to: 'new', reason: 'queued by a planning run whose answer was lost; planned again' });
    // The next round dispatches b as any new task, as a second attempt.
    const next = await planBuilds(deps(), { builders: builders(3) }, { dispatchKey: 'hub/run-1/local-9' });
    expect(ids(next)).toEqual(['b']);
    expect(await store.getTask(task('b').id)).toMatchObject({ status: 'queued', attempts: 2 });
  });
});
