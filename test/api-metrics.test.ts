import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/core';
import { createApp } from '../api/app';
import { Auth } from '../api/auth';
import type { HubStatus, PipelineControl } from '../api/pipeline';
import { listen } from '../api/server';
import type { TaskCommand, TaskCommandResult } from '../core/contracts/hub';
import { TASK_STATUSES } from '../core/task/state';
import { openDatabase } from '../db/orm';
import { Store } from '../db/store';
import { serveApp, type ServedApi } from './helpers/api-server';
import { createTestDatabase, type TestDatabase } from './support/postgres';

/**
 * GET /metrics over a real store on PostgreSQL: the read model gauges count what the store holds, the request
 * histogram is labelled by declared route (never by raw URL), and a database that does not answer fails the
 * scrape with a 503, not the API. The pipeline is never asked anything here.
 */
const pipeline: PipelineControl = {
  refresh: () => Promise.resolve(),
  retry: (cmd: TaskCommand): Promise<TaskCommandResult> => Promise.resolve({ taskId: cmd.taskId, status: 'new' }),
  cancel: (cmd: TaskCommand): Promise<TaskCommandResult> => Promise.resolve({ taskId: cmd.taskId, status: 'cancelled' }),
  hubStatus: (): Promise<HubStatus> => Promise.resolve({ ok: true, state: 'running' }),
};
const BASE = { project: 'serpent', repository: 'recipes', version: '1.0', release: 1, isa: 'x86_64', index: 'main', commit: 'c0ffee', recipePath: 'x' };
const id = (source: string) => `build/serpent/recipes/${source}-1.0-1/x86_64`;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The exposition text's samples; a line that is neither a comment nor a sample fails the parse. */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g;
    let consumed = 0;
    for (let l = label.exec(body); l; l = label.exec(body)) {
      labels[l[1]] = l[2];
      consumed += l[0].length;
    }
    if (consumed !== body.length) throw new Error(`labels do not parse: ${line}`);
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

let orm: MikroORM;
let pg: TestDatabase;
let dir: string;
let served: ServedApi | undefined;
let base: string;

async function scrape(): Promise<Sample[]> {
  const res = await fetch(`${base}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4; charset=utf-8$/);
  return parseExposition(await res.text());
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)).map((s) => s.value);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'summit-metrics-'));
  pg = await createTestDatabase('api_metrics');
  orm = await openDatabase({ url: pg.url, dataDir: dir });
  const store = new Store(orm);
  await store.addRepository({ id: 'recipes', project: 'serpent', url: '/srv/recipes.git', ref: 'main' });
  for (const source of ['a', 'b', 'broken']) await store.createTask({ ...BASE, id: id(source), source }, `recipe ${source}`);
  await store.setStatus(id('broken'), 'queued', 'dispatched');
  await store.setStatus(id('broken'), 'building', 'picked up', { builder: 'b1' });
  await store.setStatus(id('broken'), 'failed', 'did not compile');
  const builder = { isaLevels: ['x86_64'], busy: 0, diskFree: 1e10 };
  await store.upsertBuilder({ ...builder, id: 'b1', host: 'h1', slots: 2 });
  await store.upsertBuilder({ ...builder, id: 'b2', host: 'h2', slots: 3, lastSeen: new Date(Date.now() - 30_000) });
  await store.upsertBuilder({ ...builder, id: 'b3', host: 'h3', slots: 5, lastSeen: new Date(Date.now() - 10 * 60_000) });
  served = await serveApp(createApp({ store, pipeline, auth: new Auth([]) }));
  base = served.url;
});

afterAll(async () => {
  await served?.close();
  await orm?.close(true);
  await pg?.drop();
  rmSync(dir, { recursive: true, force: true });
});

it('counts tasks by status, every status listed, zero where none', async () => {
  const samples = await scrape();
  expect(value(samples, 'summit_tasks', { status: 'new' })).toEqual([2]);
  expect(value(samples, 'summit_tasks', { status: 'failed' })).toEqual([1]);
  for (const status of TASK_STATUSES.filter((s) => s !== 'new' && s !== 'failed')) {
    expect(value(samples, 'summit_tasks', { status })).toEqual([0]);
  }
  expect(value(samples, 'summit_tasks')).toHaveLength(TASK_STATUSES.length);
});

it('counts live and gone builders and the live ones\' slots', async () => {
  const samples = await scrape();
  expect(value(samples, 'summit_builders', { state: 'live' })).toEqual([2]);
  expect(value(samples, 'summit_builders', { state: 'gone' })).toEqual([1]);
  expect(value(samples, 'summit_builder_slots')).toEqual([5]);
});

it('serves the API process\'s default metrics under summit_api_', async () => {
  const samples = await scrape();
  expect(value(samples, 'summit_api_process_cpu_user_seconds_total')).toHaveLength(1);
  expect(value(samples, 'summit_api_nodejs_heap_size_used_bytes')).toHaveLength(1);
});

it('labels request durations by declared route: random ids and unknown paths add no label values', async () => {
  const task = { method: 'GET', route: '/api/tasks/:id', status: '404' };
  const count = (samples: Sample[], labels: Record<string, string>) => value(samples, 'summit_http_request_duration_seconds_count', labels);
  const before = await scrape();
  const series = (samples: Sample[]) => samples.filter((s) => s.name === 'summit_http_request_duration_seconds_count').length;

  expect((await fetch(`${base}/api/tasks/${encodeURIComponent(id(randomUUID()))}`)).status).toBe(404);
  expect((await fetch(`${base}/api/nothing-${randomUUID()}`)).status).toBe(404);
  const once = await scrape();
  expect(count(once, task)).toEqual([(count(before, task)[0] ?? 0) + 1]);
  const unmatched = { method: 'GET', route: 'unmatched', status: '404' };
  expect(count(once, unmatched)).toEqual([(count(before, unmatched)[0] ?? 0) + 1]);
  // The bucket series carry the same labels plus `le`, the last one counting every request.
  expect(value(once, 'summit_http_request_duration_seconds_bucket', { ...task, le: '+Inf' })).toEqual(count(once, task));

  const other = randomUUID();
  expect((await fetch(`${base}/api/tasks/${encodeURIComponent(id(other))}`)).status).toBe(404);
  expect((await fetch(`${base}/api/nothing-${randomUUID()}`)).status).toBe(404);
  const twice = await scrape();
  expect(count(twice, task)).toEqual([count(once, task)[0] + 1]);
  expect(count(twice, unmatched)).toEqual([count(once, unmatched)[0] + 1]);
  // No new series between the two scrapes, beyond GET /metrics's own (counted from the second scrape on).
  const metricsRoute = (samples: Sample[]) => samples.filter((s) => s.name === 'summit_http_request_duration_seconds_count' && s.labels.route === '/metrics').length;
  expect(series(twice) - metricsRoute(twice)).toBe(series(once) - metricsRoute(once));
  const labelValues = twice.flatMap((s) => Object.values(s.labels));
  expect(labelValues.some((v) => v.includes(other) || v.includes('nothing-'))).toBe(false);
});

it('answers 503 in the API\'s error shape when the database does not answer, and goes on serving', async () => {
  const closed = await openDatabase({ url: pg.url, dataDir: dir });
  await closed.close(true);
  const other = await listen(createApp({ store: new Store(closed), pipeline, auth: new Auth([]) }), 0, '127.0.0.1');
  const at = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
  try {
    const reply = await fetch(`${at}/metrics`);
    expect(reply.status).toBe(503);
    expect(reply.headers.get('retry-after')).toBe('30');
    expect(await reply.json()).toEqual({ error: { code: 'database_unavailable', message: expect.any(String), requestId: reply.headers.get('x-request-id') } });
    expect((await fetch(`${at}/api/nothing`)).status).toBe(404);
  } finally {
    await new Promise((resolve) => other.close(resolve));
  }
});

it('observes the builds that end after it started: build and publish durations, refusals by reason', async () => {
  const store = new Store(orm);
  const before = await scrape();
  expect(value(before, 'summit_build_duration_seconds_count')).toEqual([]);
  expect(value(before, 'summit_publish_refusals_total', { reason: 'hash_mismatch' })).toEqual([0]);
  // Two builds that end now, picked up 30 s ago: one published, one whose artefact vessel refused.
  for (const [source, end] of [['published', 'completed'], ['refused', 'failed']] as const) {
    await store.createTask({ ...BASE, id: id(source), source }, 'recipe');
    await store.setStatus(id(source), 'queued', 'dispatched');
    await store.setStatus(id(source), 'building', 'picked up', { builder: 'b1', startedAt: new Date(Date.now() - 30_000) });
    await store.setStatus(id(source), 'publishing', 'built');
    const reason = `vessel refused ${source}.stone: ${source}.stone: sha256 mismatch: expected 00, actual 11`;
    await store.setStatus(id(source), end, end === 'failed' ? reason : 'published', end === 'failed' ? { reason } : { published: [] });
  }
  const after = await scrape();
  expect(value(after, 'summit_build_duration_seconds_count', { isa: 'x86_64', outcome: 'built' })).toEqual([2]);
  expect(value(after, 'summit_build_duration_seconds_sum', { isa: 'x86_64', outcome: 'built' })[0]).toBeGreaterThanOrEqual(60);
  expect(value(after, 'summit_build_duration_seconds_bucket', { isa: 'x86_64', outcome: 'built', le: '15' })).toEqual([0]);
  expect(value(after, 'summit_publish_duration_seconds_count', { outcome: 'published' })).toEqual([1]);
  expect(value(after, 'summit_publish_duration_seconds_count', { outcome: 'refused' })).toEqual([1]);
  expect(value(after, 'summit_publish_refusals_total', { reason: 'hash_mismatch' })).toEqual([1]);
  // The next scrape counts nothing twice.
  const again = await scrape();
  expect(value(again, 'summit_build_duration_seconds_count', { isa: 'x86_64', outcome: 'built' })).toEqual([2]);
  expect(value(again, 'summit_publish_refusals_total', { reason: 'hash_mismatch' })).toEqual([1]);
});

it('reports the queue per ISA level and the live builders\' busy and free slots', async () => {
  const store = new Store(orm);
  await store.createTask({ ...BASE, id: 'build/serpent/recipes/v3-1.0-1/x86_64-v3x', source: 'v3', isa: 'x86_64-v3x', index: 'main-v3x' }, 'recipe');
  await store.setStatus('build/serpent/recipes/v3-1.0-1/x86_64-v3x', 'queued', 'dispatched');
  await store.upsertBuilder({ id: 'b1', host: 'h1', isaLevels: ['x86_64'], slots: 2, busy: 1, diskFree: 1e10 });
  const samples = await scrape();
  expect(value(samples, 'summit_queue_depth', { isa: 'x86_64', status: 'new' })).toEqual([2]);
  expect(value(samples, 'summit_queue_depth', { isa: 'x86_64', status: 'queued' })).toEqual([0]);
  expect(value(samples, 'summit_queue_depth', { isa: 'x86_64-v3x', status: 'queued' })).toEqual([1]);
  expect(value(samples, 'summit_queue_depth', { isa: 'x86_64-v3x', status: 'new' })).toEqual([0]);
  expect(value(samples, 'summit_builder_slots_busy')).toEqual([1]);
  expect(value(samples, 'summit_builder_slots_free')).toEqual([4]);
});

it("serves every summit_* metric the Grafana dashboard in ops/ queries", async () => {
  const dashboard = readFileSync(join(__dirname, '..', 'ops', 'grafana', 'summit-dashboard.json'), 'utf8');
  const queried = new Set([...dashboard.matchAll(/\b(summit_[a-z0-9_]+)/g)].map((m) => m[1]));
  expect(queried.size).toBeGreaterThan(8);
  const served = new Set((await scrape()).map((s) => s.name));
  for (const name of queried) expect([name, served.has(name)]).toEqual([name, true]);
});

it("README's metrics table lists exactly the summit_* metrics served (the process's own as summit_api_*)", async () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('- **Metrics**: the API'), readme.indexOf('- **Recipes and builds**'));
  const listed = new Set([...section.matchAll(/^\s*\| (.*?) \|/gm)].flatMap((m) => [...m[1].matchAll(/`(summit_[a-z0-9_*]+)`/g)].map((n) => n[1])));
  expect(listed.size).toBeGreaterThan(8);
  const res = await fetch(`${base}/metrics`);
  const families = new Set([...(await res.text()).matchAll(/^# TYPE (summit_[a-z0-9_]+) /gm)].map((m) => (m[1].startsWith('summit_api_') ? 'summit_api_*' : m[1])));
  expect([...families].filter((f) => !listed.has(f)).sort()).toEqual([]);
  expect([...listed].filter((f) => !families.has(f)).sort()).toEqual([]);
});

it("shows the queue depth of every level of the farm's profile, zero where nothing waits", async () => {
  const other = await serveApp(createApp({ store: new Store(orm), pipeline, auth: new Auth([]), isaLevels: ['x86_64', 'aarch64', 'aarch64-v9'] }));
  try {
    const res = await fetch(`${other.url}/metrics`);
    const samples = parseExposition(await res.text());
    for (const status of ['new', 'queued']) {
      expect(value(samples, 'summit_queue_depth', { isa: 'aarch64', status })).toEqual([0]);
      expect(value(samples, 'summit_queue_depth', { isa: 'aarch64-v9', status })).toEqual([0]);
    }
    // A level with waiting tasks is shown whether the profile names it or not.
    expect(value(samples, 'summit_queue_depth', { isa: 'x86_64', status: 'new' })).toEqual([2]);
  } finally {
    await other.close();
  }
});
