/**
 * The admin console on a real farm (Temporal dev server, PostgreSQL, the summit hub and API; no nspawn): every
 * `summit tasks|builders|repos|farm` command run in sequence against the API, and what planning does with each
 * decision. The builder is a "ghost": this test sends its heartbeats to the hub itself, so a dispatched build stays
 * `queued` (no worker polls its queue) and every dispatch decision stays visible in the read model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/core';
import { Client, Connection } from '@temporalio/client';
import { HUB_WORKFLOW_ID, SIGNAL_BUILDER_HEARTBEAT, type BuilderStatus } from '../core/contracts/hub';
import { main } from '../cli/main';
import { openDatabase } from '../db/orm';
import { Store } from '../db/store';
import { dataConverterFor } from '../workers/temporal';
import { Farm, startFarm, waitFor } from './helpers/farm';
import { recipeYaml, TestRepo } from './helpers/git-repo';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { startTemporalTestServer, TemporalTestServer } from './support/temporal';
import { enrolBuilders } from './helpers/enrol';

jest.setTimeout(300_000);

let temporal: TemporalTestServer;
let pg: TestDatabase;
let work: string;
let farm: Farm;
let orm: MikroORM;
let store: Store;
let client: Client;
let repo: TestRepo;
let beat: NodeJS.Timeout | undefined;
const saved = { url: process.env.SUMMIT_API_URL, token: process.env.SUMMIT_TOKEN };

const id = (source: string) => `build/adm/recipes/${source}-1.0-1/x86_64`;
const ghost: BuilderStatus = { id: 'ghost', host: 'ghost.invalid', isaLevels: ['x86_64'], slots: 1, busy: 0, diskFree: 50 * 2 ** 30 };

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => { out += `${t}\n`; }, err: (t) => { err += `${t}\n`; } });
  return { code, out, err };
}

/** Runs a command that must succeed, and returns what it printed. */
async function ok(...argv: string[]): Promise<string> {
  const r = await run(...argv);
  expect({ argv, code: r.code, err: r.err }).toEqual({ argv, code: 0, err: '' });
  return r.out;
}

async function json<T>(...argv: string[]): Promise<T> {
  return JSON.parse(await ok(...argv, '--json')) as T;
}

async function task(source: string) {
  return store.findTask(id(source));
}

/** Until every named task is in `status` with a reason matching `reason` (when given). */
function waitTasks(sources: string[], status: string, reason?: RegExp): Promise<true> {
  return waitFor(`${sources.join(', ')} ${status}${reason ? ` (${reason})` : ''}`, async () => {
    const rows = await Promise.all(sources.map(task));
    return rows.every((t) => t?.status === status && (!reason || reason.test(t.reason ?? ''))) ? true : undefined;
  }, 60_000, async () => (await Promise.all(sources.map(task))).map((t) => `${t?.id} ${t?.status} ${t?.reason}`).join('\n'));
}

/** The ghost builder's heartbeat, every second (the farm's hub forgets a builder after 6 s of silence). */
function heartbeat(slots: number): void {
  if (beat) clearInterval(beat);
  const send = () => void client.workflow.getHandle(HUB_WORKFLOW_ID).signal(SIGNAL_BUILDER_HEARTBEAT, { ...ghost, slots }).catch(() => undefined);
  send();
  beat = setInterval(send, 1_000);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'summit-admin-'));
  [temporal, pg] = await Promise.all([startTemporalTestServer(), createTestDatabase('admin')]);
  farm = await startFarm({ work, temporalAddress: temporal.address, databaseUrl: pg.url });
  orm = await openDatabase({ url: pg.url, dataDir: join(work, 'reader') });
  store = new Store(orm);
  await enrolBuilders(store, ['ghost']);
  client = new Client({ connection: await Connection.connect({ address: temporal.address }), dataConverter: dataConverterFor({ payloadKeys: farm.payloadKeys }) });
  process.env.SUMMIT_API_URL = farm.api.url;
  process.env.SUMMIT_TOKEN = farm.adminToken;
  repo = new TestRepo(join(work, 'recipes'));
  for (const source of ['a', 'b', 'c', 'gcc']) repo.write(`${source}/stone.yaml`, recipeYaml({ name: source }));
  repo.commit('four independent recipes');
});

afterAll(async () => {
  if (beat) clearInterval(beat);
  process.env.SUMMIT_API_URL = saved.url;
  process.env.SUMMIT_TOKEN = saved.token;
  if (saved.url === undefined) delete process.env.SUMMIT_API_URL;
  if (saved.token === undefined) delete process.env.SUMMIT_TOKEN;
  await farm?.stop();
  await client?.connection.close();
  await orm?.close(true);
  await Promise.all([temporal?.stop(), pg?.drop()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the admin console on one farm', () => {
  it('farm pause: tasks that arrive are held with the reason, the farm and the hub say so', async () => {
    expect(await ok('farm', 'pause', '--reason', 'maintenance')).toContain('farm: paused');
    expect(await ok('repos', 'add', 'recipes', '--project', 'adm', '--url', repo.dir, '--ref', 'main')).toContain('recipes: registered');
    expect(await ok('repos', 'protect', 'recipes', 'gcc*', '--reason', 'toolchain')).toContain('builds of gcc* wait');
    expect(await ok('repos', 'refresh', 'recipes')).toContain('refresh asked');
    await waitTasks(['a', 'b', 'c', 'gcc'], 'new', /^held: the farm is paused by admin: maintenance$/);

    const table = await ok('tasks', 'list', '--repository', 'recipes');
    const lines = table.trim().split('\n');
    expect(lines[0]).toMatch(/^TASK\s+STATUS\s+PRIO\s+BUILDER\s+UPDATED\s+REASON$/);
    expect(lines.slice(1, 5).map((l) => l.split(/\s+/)[0]).sort()).toEqual(['a', 'b', 'c', 'gcc'].map(id));
    expect(lines[5]).toBe('4 of 4 task(s)');
    const page = await json<{ items: Array<{ id: string; reason: string }> }>('tasks', 'list', '--status', 'new');
    expect(page.items).toHaveLength(4);

    expect(await ok('farm', 'show')).toMatch(/^farm: paused by admin \d+s ago: maintenance$/m);
    const state = await json<{ paused: { by: string; reason: string } }>('farm', 'show');
    expect(state.paused).toMatchObject({ by: 'admin', reason: 'maintenance' });
    await waitFor('the hub details to say the farm is paused', async () => {
      const meta = await client.workflow.getHandle(HUB_WORKFLOW_ID).query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      return meta.currentDetails?.includes('farm paused by admin: maintenance') ? true : undefined;
    }, 30_000);
  });

  it('tasks priority: the bumped task is dispatched first, above critical-path (and id) order', async () => {
    expect(await ok('tasks', 'priority', id('c'), '5', '--reason', 'urgent')).toBe(`${id('c')}: priority 5 (new)\n`);
    heartbeat(1);
    await waitFor('the ghost builder to be recorded', async () => ((await store.listBuilders()).some((b) => b.id === 'ghost') ? true : undefined), 30_000);
    expect(await ok('farm', 'resume')).toContain('farm: resumed');
    await waitTasks(['c'], 'queued');
    await waitTasks(['a', 'b'], 'new');
    await waitTasks(['gcc'], 'new', /^held: awaiting an admin's approval \(protected: gcc\)/);
    const shown = await json<{ task: { priority: number }; events: Array<{ reason: string }> }>('tasks', 'show', id('c'));
    expect(shown.task.priority).toBe(5);
    expect(shown.events.map((e) => e.reason)).toContain('priority 5 (was 0) by admin: urgent');
    expect(await ok('tasks', 'show', id('c'))).toMatch(/^priority\s+5$/m);
  });

  it('repos pause: the repository’s new tasks are held, running ones go on; cancel and retry', async () => {
    expect(await ok('repos', 'pause', 'recipes', '--reason', 'freeze')).toBe('recipes: paused\n');
    expect(await ok('repos', 'pause', 'recipes')).toBe('recipes: paused (already)\n');
    expect(await ok('tasks', 'cancel', id('c'))).toBe(`${id('c')}: cancelled\n`);
    // The slot is free again, yet nothing of the paused repository is dispatched.
    await waitTasks(['a', 'b'], 'new', /^held: repository recipes is paused by admin: freeze$/);
    expect(await ok('repos', 'list')).toMatch(/^recipes\s+adm\s+main\s+[0-9a-f]{12}\s+\S+ ago\s+by admin \d+s ago: freeze\s+gcc\*\s+\//m);
    const repos = await json<{ items: Array<{ id: string; paused: { reason: string } | null; protectedPackages: string[] }> }>('repos', 'list');
    expect(repos.items[0]).toMatchObject({ id: 'recipes', paused: { reason: 'freeze' }, protectedPackages: ['gcc*'] });
    expect(await ok('tasks', 'retry', id('c'))).toBe(`${id('c')}: new\n`);
    await waitTasks(['a', 'b', 'c'], 'new', /^held: repository recipes is paused/);
  });

  it('builders drain: a drained builder is given nothing; resume gives it work again', async () => {
    expect(await ok('builders', 'list')).toMatch(/^BUILDER\s+HOST\s+TRUST\s+STATE\s+ISA\s+BUSY\s+DISK FREE\s+LAST SEEN\s+DRAINED\nghost\s+ghost\.invalid\s+trusted\s+enrolled\s+x86_64\s+0\/1\s+50\.0 GiB\s+\d+s ago\s+-$/m);
    expect(await ok('builders', 'drain', 'ghost', '--reason', 'kernel update')).toBe('ghost: drained\n');
    expect(await ok('repos', 'resume', 'recipes')).toBe('recipes: resumed\n');
    // Resumed, but the only builder is drained: planning finds none to give them to.
    await waitTasks(['a', 'b', 'c'], 'new', /^no builder serves x86_64$/);
    const builders = await json<{ items: Array<{ id: string; drained: { by: string; reason: string } | null }> }>('builders', 'list');
    expect(builders.items).toEqual([expect.objectContaining({ id: 'ghost', drained: expect.objectContaining({ by: 'admin', reason: 'kernel update' }) })]);
    expect(await ok('builders', 'resume', 'ghost')).toBe('ghost: takes work\n');
    // Its priority survived the cancel and the retry.
    await waitTasks(['c'], 'queued');
    await waitTasks(['a', 'b'], 'new');
  });

  it('tasks approve: a protected build waits for an approval even with free slots, then is dispatched', async () => {
    heartbeat(4);
    await waitTasks(['a', 'b'], 'queued');
    await waitTasks(['gcc'], 'new', /^held: awaiting an admin's approval/);
    expect(await ok('tasks', 'approve', id('gcc'), '--reason', 'reviewed')).toBe(`${id('gcc')}: approved (new)\n`);
    await waitTasks(['gcc'], 'queued');
    const shown = await json<{ approval: { by: string } | null; events: Array<{ reason: string }> }>('tasks', 'show', id('gcc'));
    expect(shown.approval).toMatchObject({ by: 'admin' });
    expect(shown.events.map((e) => e.reason)).toContain('approved by admin: reviewed');
  });

  it('farm show lists every admin action with who and why; repos add and remove; errors exit non-zero', async () => {
    const { events } = await json<{ events: Array<{ subject: string; action: string; by: string; reason: string | null }> }>('farm', 'show');
    expect(events.map((e) => `${e.subject} ${e.action} ${e.reason ?? ''}`.trim()).reverse()).toEqual([
      // The ghost's enrolment (test/helpers/enrol.ts) is the farm's first admin event.
      'builder:ghost enrol trusted', 'farm pause maintenance', 'repository:recipes protect gcc* toolchain', 'farm resume', 'repository:recipes pause freeze',
      'builder:ghost drain kernel update', 'repository:recipes resume', 'builder:ghost resume',
    ]);
    expect(await ok('farm', 'show')).toMatch(/^AT\s+SUBJECT\s+ACTION\s+BY\s+REASON$/m);

    expect(await ok('repos', 'add', 'spare', '--project', 'adm', '--url', repo.dir)).toContain('spare: registered');
    expect((await json<{ items: Array<{ id: string }> }>('repos', 'list')).items.map((r) => r.id)).toEqual(['recipes', 'spare']);
    expect(await ok('repos', 'remove', 'spare')).toBe('spare: removed\n');
    expect((await json<{ items: Array<{ id: string }> }>('repos', 'list')).items.map((r) => r.id)).toEqual(['recipes']);

    const removeBusy = await run('repos', 'remove', 'recipes');
    expect(removeBusy).toMatchObject({ code: 1, out: '' });
    expect(removeBusy.err).toMatch(/409 repository "recipes" has open tasks/);
    expect(await run('tasks', 'approve', 'nope')).toMatchObject({ code: 1, err: expect.stringMatching(/404 task "nope" does not exist/) });
    expect(await run('tasks', 'priority', id('a'), 'high')).toMatchObject({ code: 2, err: expect.stringMatching(/whole number/) });
    expect(await run('tasks', 'list', '--status', 'bogus')).toMatchObject({ code: 1, err: expect.stringMatching(/422/) });
    expect(await run('builders', 'drain', 'nobody')).toMatchObject({ code: 1, err: expect.stringMatching(/404 builder "nobody" does not exist/) });

    // Only an admin may: the hook token is refused (403), no token is 401, and the CLI says where a token comes from.
    const asHook = await fetch(`${farm.api.url}/api/farm/pause`, { method: 'POST', headers: { authorization: `Bearer ${farm.hookToken}` } });
    expect(asHook.status).toBe(403);
    expect((await fetch(`${farm.api.url}/api/tasks/${encodeURIComponent(id('a'))}/priority`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"priority":1}' })).status).toBe(401);
    const dataDir = process.env.SUMMIT_DATA_DIR;
    delete process.env.SUMMIT_TOKEN;
    process.env.SUMMIT_DATA_DIR = join(work, 'nowhere');
    try {
      expect(await run('farm', 'pause')).toMatchObject({ code: 1, err: expect.stringMatching(/no SUMMIT_TOKEN and the tokens file could not be read/) });
    } finally {
      process.env.SUMMIT_TOKEN = farm.adminToken;
      if (dataDir === undefined) delete process.env.SUMMIT_DATA_DIR;
      else process.env.SUMMIT_DATA_DIR = dataDir;
    }

    // The repository's own admin history, on its page.
    const detail = (await (await fetch(`${farm.api.url}/api/repositories/recipes`)).json()) as { events: Array<{ action: string; reason: string | null }>; protectedPackages: string[] };
    expect(detail.protectedPackages).toEqual(['gcc*']);
    expect(detail.events.map((e) => `${e.action} ${e.reason ?? ''}`.trim()).reverse()).toEqual(['protect gcc* toolchain', 'pause freeze', 'resume']);
  });
});
