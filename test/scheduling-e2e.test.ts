/**
 * Scheduling on a real farm (dev server, PostgreSQL, one avalanche process with ONE slot, real nspawn builds):
 * the hub hands a builder no more builds than it has free slots, so the build a freed slot starts next is the
 * ready build with the highest priority; a task is `queued` until a builder picks it up and `building` on that
 * builder from then on; a build workflow that cannot start sends its task back to `new`; admins' retry and
 * cancel are carried out by the hub's loop, never beside it; a builder's lastSeen comes only from its heartbeats.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { MikroORM } from '@mikro-orm/core';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { HUB_WORKFLOW_ID } from '../core/contracts/hub';
import { openDatabase } from '../db/orm';
import { Store, type TaskEventRow } from '../db/store';
import { hubStateQuery } from '../workflows/signals';
import { dataConverterFor } from '../workers/temporal';
import { Farm, hookedRepository, startFarm, waitFor } from './helpers/farm';
import { recipeYaml } from './helpers/git-repo';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { startTemporalTestServer, TemporalTestServer } from './support/temporal';

jest.setTimeout(600_000);

let temporal: TemporalTestServer;
let pg: TestDatabase;
let work: string;
let farm: Farm;
let clone: string;
let orm: MikroORM;
let store: Store;
let client: Client;

const taskId = (source: string) => `build/sched/recipes/${source}-1.0.0-1/x86_64`;

async function api<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${farm.api.url}${path}`, init);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

const admin = (): RequestInit => ({ method: 'POST', headers: { authorization: `Bearer ${farm.adminToken}` } });

async function statusOf(id: string): Promise<string | undefined> {
  return (await store.findTask(id))?.status;
}

function waitStatus(ids: string[], wanted: string, timeoutMs = 240_000): Promise<true> {
  return waitFor(`${ids.length} task(s) to be ${wanted}`, async () => ((await Promise.all(ids.map(statusOf))).every((s) => s === wanted) ? true : undefined), timeoutMs, async () =>
    (await Promise.all(ids.map(async (id) => `${id} ${await statusOf(id)}`))).join('\n'));
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }).trim();
}

/** Commit and push (asynchronously: the hook calls the API in this very process). */
async function push(message: string): Promise<void> {
  git(clone, 'add', '-A');
  git(clone, 'commit', '-q', '-m', message);
  await promisify(execFile)('git', ['push', '-q', 'origin', 'main'], { cwd: clone });
}

function write(source: string, build = `install -Dm644 /dev/null %(installroot)%(datadir)/${source}/ok`): void {
  const file = join(clone, source, 'stone.yaml');
  execFileSync('mkdir', ['-p', resolve(file, '..')]);
  writeFileSync(file, recipeYaml({ name: source, version: '1.0.0', build }));
}

/** Every event of these tasks in the order the database wrote them (the events' ids). */
async function eventsOf(ids: string[]): Promise<TaskEventRow[]> {
  return (await Promise.all(ids.map((id) => store.taskEvents(id)))).flat().sort((a, b) => a.id - b.id);
}

/** Each event's `from` is the status the event before it reached: no write was lost or interleaved. */
function expectChained(events: TaskEventRow[]): void {
  for (let i = 1; i < events.length; i++) expect(`${events[i].task}: ${events[i].from}`).toBe(`${events[i].task}: ${events[i - 1].to}`);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'summit-sched-'));
  [temporal, pg] = await Promise.all([startTemporalTestServer(), createTestDatabase('sched')]);
  farm = await startFarm({ work, temporalAddress: temporal.address, databaseUrl: pg.url });
  orm = await openDatabase({ url: pg.url, dataDir: join(work, 'reader') });
  store = new Store(orm);
  client = new Client({ connection: await Connection.connect({ address: temporal.address }), dataConverter: dataConverterFor({ payloadKeys: farm.payloadKeys }) });
  await farm.startBuilder('one', { SUMMIT_BUILDER_SLOTS: '1' });
  ({ clone } = await hookedRepository(farm, work, 'sched'));
  await waitFor('the builder to report to the hub', async () => {
    const { body } = await api<{ items: Array<{ id: string }> }>('/api/builders');
    return body.items.some((b) => b.id === 'one') ? true : undefined;
  }, 60_000);
});

afterAll(async () => {
  await farm?.stop();
  await client?.connection.close();
  await orm?.close(true);
  await Promise.all([temporal?.stop(), pg?.drop()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('scheduling on one slot', () => {
  // Ten independent recipes whose past builds took 10 … 100 s, seeded in a scrambled order: their critical paths
  // (here their own estimated durations) are all different, and id order is not priority order.
  const SECONDS = [40, 100, 10, 70, 30, 90, 20, 60, 80, 50];
  const sources = SECONDS.map((_, i) => `prio${String(i).padStart(2, '0')}`);

  it('starts ten ready builds in priority order, one at a time: never more queued than free slots', async () => {
    for (const [i, source] of sources.entries()) {
      const id = `build/sched/history/${source}-0.9-1/x86_64`;
      await store.createTask({ id, project: 'sched', repository: 'history', source, version: '0.9', release: 1, isa: 'x86_64', index: 'history', commit: '0'.repeat(40), recipePath: source }, 'seeded history');
      await store.setStatus(id, 'queued', 'seeded');
      await store.setStatus(id, 'building', 'seeded', { startedAt: new Date(Date.now() - SECONDS[i] * 1000) });
      await store.setStatus(id, 'publishing', 'seeded');
      await store.setStatus(id, 'completed', 'seeded', { published: [] });
    }
    for (const source of sources) write(source);
    await push('ten independent recipes');
    const ids = sources.map(taskId);
    await waitStatus(ids, 'completed');

    const events = await eventsOf(ids);
    const pickedUp = events.filter((e) => e.to === 'building').map((e) => e.task);
    const byPriority = [...sources].sort((a, b) => SECONDS[sources.indexOf(b)] - SECONDS[sources.indexOf(a)]).map(taskId);
    expect(pickedUp).toEqual(byPriority);

    // Replaying the events in write order: at no moment were two of them queued or building on the one slot.
    const holding = new Set<string>();
    let most = 0;
    for (const e of events) {
      if (e.to === 'queued' || e.to === 'building') holding.add(e.task);
      else holding.delete(e.task);
      most = Math.max(most, holding.size);
    }
    expect(most).toBe(1);
  });

  it('records the builder and the start when the builder picks a build up, not when it is queued', async () => {
    for (const source of sources) {
      const task = await store.getTask(taskId(source));
      const events = await store.taskEvents(task.id);
      expect(events.map((e) => e.to)).toEqual(['new', 'queued', 'building', 'publishing', 'completed']);
      const [queued, building] = [events[1], events[2]];
      expect(queued.reason).toMatch(/^queued \(critical path \d+ s\)$/);
      expect(building.reason).toBe('picked up by one');
      expect(task.builder).toBe('one');
      // The build's duration runs from pickup, which comes after the hand-over to Temporal.
      expect(task.startedAt!.getTime()).toBeGreaterThanOrEqual(queued.at.getTime() - 1000);
      expect(task.builtAt!.getTime()).toBeGreaterThanOrEqual(task.startedAt!.getTime());
    }
  });

  it('ends a failed build as a Failed workflow naming its builder (BuildBuilder), and names it in the read model', async () => {
    write('fails', 'exit 3');
    await push('a recipe that fails');
    await waitStatus([taskId('fails')], 'failed');
    const task = await store.getTask(taskId('fails'));
    expect(task.builder).toBe('one');
    // The workflow records the failure, tells the hub and cleans up before it ends: wait for its end first.
    const failure: unknown = await client.workflow.getHandle(taskId('fails')).result().then(() => undefined, (err: unknown) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause?.message).toMatch(/^build failed in step /);
    const described = await client.workflow.getHandle(taskId('fails')).describe();
    expect(described.searchAttributes.BuildBuilder).toEqual(['one']);
    expect(described.searchAttributes.BuildStatus).toEqual(['failed']);
    // Failed in the Temporal UI (its list and Failures view), with the reason.
    expect(described.status.name).toBe('FAILED');
  });
});

describe('what only the hub may change', () => {
  it('sends a task whose build workflow cannot start back to new, and builds it once the way is free', async () => {
    // A workflow already runs under the build's id (as a previous run still cleaning up would): the hub's start
    // of the build workflow fails.
    const blocker = await client.workflow.start('noSuchWorkflow', { workflowId: taskId('blockedstart'), taskQueue: 'nobody-polls-this' });
    write('blockedstart');
    await push('a recipe whose build id is taken');
    await waitFor('the failed start to send the task back to new', async () =>
      ((await store.taskEvents(taskId('blockedstart'))).some((e) => e.from === 'queued' && e.to === 'new' && /did not start/.test(e.reason ?? '')) ? true : undefined), 120_000);
    const held = await client.workflow.getHandle(HUB_WORKFLOW_ID).query(hubStateQuery);
    expect(held.held ?? []).toContain(taskId('blockedstart'));
    await blocker.terminate('the way is free');
    await waitStatus([taskId('blockedstart')], 'completed');
    const events = await store.taskEvents(taskId('blockedstart'));
    expectChained(events);
    expect(events.slice(-4).map((e) => e.to)).toEqual(['queued', 'building', 'publishing', 'completed']);
  });

  it('carries out a cancel and a retry sent at the same moment one after the other, never both at once', async () => {
    write('raced', 'sleep 3 && install -Dm644 /dev/null %(installroot)%(datadir)/raced/ok');
    await push('a recipe to race admins on');
    const id = taskId('raced');
    await waitStatus([id], 'building');
    const path = (what: string) => `/api/tasks/${encodeURIComponent(id)}/${what}`;
    const [cancel, retry] = await Promise.all([api<{ status: string }>(path('cancel'), admin()), api<{ status: string }>(path('retry'), admin())]);
    expect(cancel.status).toBe(200);
    // The retry came either after the cancel (the task is new again) or before it (a building task cannot be
    // retried: 409); both are answers from the loop, in the order the hub took them.
    expect([200, 409]).toContain(retry.status);
    const final = retry.status === 200 ? 'completed' : 'cancelled';
    await waitStatus([id], final);
    const events = await store.taskEvents(id);
    expectChained(events);
    const to = events.map((e) => e.to);
    expect(to.slice(0, 4)).toEqual(['new', 'queued', 'building', 'cancelled']);
    // A new attempt may first find the cancelled run still closing (queued → new, held back) before it starts.
    if (final === 'completed') expect([to[4], ...to.slice(-4)]).toEqual(['new', 'queued', 'building', 'publishing', 'completed']);
  });
});

describe('builders', () => {
  it("stops moving a builder's lastSeen when the builder dies, while the hub keeps planning", async () => {
    const b = await farm.startBuilder('shortlived', { SUMMIT_BUILDER_SLOTS: '1' });
    const lastSeen = async (): Promise<number | undefined> => {
      const { body } = await api<{ items: Array<{ id: string; lastSeen: string }> }>('/api/builders');
      const at = body.items.find((x) => x.id === 'shortlived')?.lastSeen;
      return at ? Date.parse(at) : undefined;
    };
    const first = await waitFor('the new builder to be recorded', lastSeen, 60_000);
    await waitFor('a second heartbeat to be recorded', async () => ((await lastSeen())! > first ? true : undefined), 60_000);
    await b.stop();
    const stoppedAt = Date.now();
    const rounds = async (): Promise<number> => (await client.workflow.getHandle(HUB_WORKFLOW_ID).query(hubStateQuery)).rounds ?? 0;
    const roundsAtStop = await rounds();
    // The farm's builders beat every 2 s and the hub re-plans at least every 2 s: wait for several of both.
    await waitFor('the hub to plan again, well after the last possible beat', async () =>
      (Date.now() > stoppedAt + 8_000 && (await rounds()) >= roundsAtStop + 2 ? true : undefined), 60_000);
    expect((await lastSeen())!).toBeLessThanOrEqual(stoppedAt);
  });
});
