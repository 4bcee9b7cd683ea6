/**
 * Live build logs on a real farm (real Temporal, PostgreSQL, nspawn, a builder in its own process): a build that
 * prints for over 20 s is followed through the API while it runs (Server-Sent Events relayed from the builder),
 * a reader resumes at an offset, and once the build ended its log is served from summit's storage (collected,
 * redacted, compressed) with the builder stopped and its log files gone.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { main as summitCli } from '../cli/main';
import { SseParser, type SseEvent } from '../core/formats/sse';
import { Farm, hookedRepository, startFarm, waitFor } from './helpers/farm';
import { recipeYaml } from './helpers/git-repo';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { freePort, startTemporalTestServer, TemporalTestServer } from './support/temporal';

jest.setTimeout(600_000);

let temporal: TemporalTestServer;
let pg: TestDatabase;
let work: string;
let farm: Farm;
let clone: string;
/** The builder's Temporal SDK metrics exporter (SUMMIT_TEMPORAL_METRICS_ADDRESS) and its log folder (SUMMIT_LOG_DIR). */
let sdkMetrics: string;
let builderLogs: string;

const ID = 'build/live/recipes/ticker-1.0-1/x86_64';
const TICKS = 22;
const PASSWORD = 'p4ssw0rd-live-log';
const logUrl = (query = '') => `${farm.api.url}/api/tasks/${encodeURIComponent(ID)}/log${query}`;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }).trim();
}

async function statusOf(id: string): Promise<string> {
  const res = await fetch(`${farm.api.url}/api/tasks/${encodeURIComponent(id)}`);
  return res.status === 200 ? ((await res.json()) as { task: { status: string } }).task.status : `http ${res.status}`;
}

/**
 * Reads a followed log; `onEvent` runs before the next event is read, so what it observes (the task's status)
 * is observed at the moment that event arrived.
 */
async function follow(url: string, headers: Record<string, string> = {}, onEvent?: (e: SseEvent) => Promise<void>): Promise<SseEvent[]> {
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const events: SseEvent[] = [];
  for await (const chunk of res.body!) {
    for (const e of parser.push(decoder.decode(chunk as Uint8Array, { stream: true }))) {
      events.push(e);
      await onEvent?.(e);
      if (e.event === 'end') return events;
    }
  }
  return events;
}

/** A Prometheus exposition's samples named `name` whose labels include `labels`, summed (0 when none). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const body = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => body.includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

const scrape = async () => (await fetch(`${farm.api.url}/metrics`)).text();

const ticksOf = (events: SseEvent[]) => events.filter((e) => e.event === 'log').flatMap((e) => e.data.split('\n')).filter((l) => /^tick \d+$/.test(l));

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'summit-live-log-'));
  [temporal, pg] = await Promise.all([startTemporalTestServer(), createTestDatabase('livelog')]);
  farm = await startFarm({ work, temporalAddress: temporal.address, databaseUrl: pg.url });
  sdkMetrics = `127.0.0.1:${await freePort()}`;
  builderLogs = join(work, 'builder-lv1-logs');
  await farm.startBuilder('lv1', { SUMMIT_TEMPORAL_METRICS_ADDRESS: sdkMetrics, SUMMIT_LOG_DIR: builderLogs, SUMMIT_LOG_LEVEL: 'info' });
  ({ clone } = await hookedRepository(farm, work, 'live'));
  await waitFor('the builder to report to the hub', async () => {
    const res = await fetch(`${farm.api.url}/api/builders`);
    return ((await res.json()) as { items: unknown[] }).items.length >= 1 ? true : undefined;
  }, 60_000);
});

afterAll(async () => {
  await farm?.stop();
  await temporal?.stop();
  await pg?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('live build logs', () => {
  let live: SseEvent[] = [];
  const statusAtTick = new Map<string, string>();
  let metricsBefore = '';
  const busySeen: number[] = [];

  it('streams the lines of a running build through the API while it runs, in order, ending with its status', async () => {
    // One line a second for 22 s, then a URL with a password in it.
    const build = `for i in $(seq 1 ${TICKS}); do echo "tick $i"; sleep 1; done; echo "fetching https://builder:${PASSWORD}@example.org/src.tar"; install -Dm644 /dev/null %(installroot)%(datadir)/ticker/done`;
    mkdirSync(resolve(clone, 'ticker'), { recursive: true });
    writeFileSync(join(clone, 'ticker', 'stone.yaml'), recipeYaml({ name: 'ticker', version: '1.0', release: 1, build }));
    metricsBefore = await scrape();
    git(clone, 'add', '-A');
    git(clone, 'commit', '-q', '-m', 'a build that prints for 22 s');
    await promisify(execFile)('git', ['push', '-q', 'origin', 'main'], { cwd: clone });
    await waitFor('the task to exist', async () => ((await statusOf(ID)).startsWith('http') ? undefined : true), 120_000);

    // Followed from before the builder took it: the stream waits, then relays.
    live = await follow(logUrl('?follow=1'), {}, async (e) => {
      const tick = e.event === 'log' ? e.data.split('\n').find((l) => /^tick \d+$/.test(l)) : undefined;
      if (tick && !statusAtTick.has(tick)) {
        statusAtTick.set(tick, await statusOf(ID));
        busySeen.push(sample(await scrape(), 'summit_builder_slots_busy'));
      }
    });
    expect(ticksOf(live)).toEqual(Array.from({ length: TICKS }, (_, i) => `tick ${i + 1}`));
    // The first lines arrived while the task was still building: streamed, not served after the fact.
    expect(statusAtTick.get('tick 1')).toBe('building');
    expect(statusAtTick.get('tick 2')).toBe('building');
    const end = live[live.length - 1];
    expect(end.event).toBe('end');
    const ended = JSON.parse(end.data) as { status: string; bytes: number };
    expect(['publishing', 'completed']).toContain(ended.status);
    // Event ids are byte offsets, rising.
    const ids = live.filter((e) => e.event === 'log').map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ended.bytes).toBe(ids[ids.length - 1]);
  });

  it('moves the metrics as the build runs: a busy slot while it builds, its durations once it is published', async () => {
    // The builder's heartbeat (every 2 s) reported its slot busy while the 22 s step ran.
    expect(busySeen).toContain(1);
    await waitFor('the build to be published', async () => ((await statusOf(ID)) === 'completed' ? true : undefined), 180_000);
    const after = await scrape();
    for (const name of ['summit_build_duration_seconds_count', 'summit_publish_duration_seconds_count']) {
      const labels: Record<string, string> = name.startsWith('summit_build') ? { isa: 'x86_64', outcome: 'built' } : { outcome: 'published' };
      expect(sample(after, name, labels)).toBe(sample(metricsBefore, name, labels) + 1);
    }
    // The step alone prints for 22 s: the build took longer than that.
    expect(sample(after, 'summit_build_duration_seconds_sum', { outcome: 'built' }) - sample(metricsBefore, 'summit_build_duration_seconds_sum', { outcome: 'built' })).toBeGreaterThan(22);
    expect(sample(after, 'summit_tasks', { status: 'completed' })).toBe(sample(metricsBefore, 'summit_tasks', { status: 'completed' }) + 1);
    expect(sample(after, 'summit_queue_depth', { isa: 'x86_64', status: 'queued' })).toBe(0);
    expect(sample(after, 'summit_http_request_duration_seconds_count', { route: '/api/tasks/:id/log', status: '200' })).toBeGreaterThanOrEqual(1);
  });

  it("serves the builder's Temporal SDK metrics on its own port, with the build activity counted", async () => {
    const res = await fetch(`http://${sdkMetrics}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^temporal_\w+\{[^}]*role="avalanche"/m);
    expect(sample(text, 'temporal_activity_execution_latency_seconds_count', { activity_type: 'buildRecipe' })).toBeGreaterThanOrEqual(1);
    // The Grafana dashboard's SDK panels about activity workers find their series here.
    for (const name of ['temporal_activity_execution_latency_seconds_bucket', 'temporal_worker_task_slots_available']) expect(text).toMatch(new RegExp(`^${name}\\{`, 'm'));
  });

  it("writes the builder's logs, the SDK's included, as JSON lines to <log dir>/avalanche.log, without task tokens", async () => {
    const lines = readFileSync(join(builderLogs, 'avalanche.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.every((l) => l.role === 'avalanche' && typeof l.time === 'string' && typeof l.level === 'string')).toBe(true);
    // The activity's own logger (Context.log), through the SDK's runtime logger, with the build's ids.
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'build started', buildId: ID, builderId: 'lv1', taskQueue: 'avalanche-x86_64' }));
    expect(lines.some((l) => 'taskToken' in l)).toBe(false);
  });

  it('never lets the password out, live or collected', async () => {
    const text = live.filter((e) => e.event === 'log').map((e) => e.data).join('\n');
    expect(text).toContain('fetching https://');
    expect(text).not.toContain(PASSWORD);
    expect(text).toMatch(/https:\/\/\*+@example\.org/);
  });

  it('resumes after Last-Event-ID with the lines that follow it', async () => {
    const at = live.find((e) => e.event === 'log' && e.data.split('\n').includes('tick 5'))!;
    const resumed = await follow(logUrl('?follow=1'), { 'last-event-id': at.id! });
    const after = ticksOf(resumed);
    expect(after[0]).toBe('tick 6');
    expect(after[after.length - 1]).toBe(`tick ${TICKS}`);
    expect(ticksOf(await follow(logUrl(`?follow=1&from=${at.id!}`)))).toEqual(after);
  });

  it('serves the finished log from summit storage once the builder and its files are gone', async () => {
    await waitFor('the build to be published', async () => ((await statusOf(ID)) === 'completed' ? true : undefined), 180_000);
    const builder = farm.builders.get('lv1')!;
    await builder.stop();
    const logs = join(builder.dataDir, 'avalanche', 'logs');
    expect(readdirSync(logs).some((f) => f.endsWith('.log.zst'))).toBe(true);
    rmSync(logs, { recursive: true, force: true });
    expect(existsSync(logs)).toBe(false);

    const whole = await fetch(logUrl());
    expect(whole.status).toBe(200);
    // The container writes through a terminal: its lines end in \r\n.
    const text = (await whole.text()).replace(/\r\n/g, '\n');
    expect(text).toContain(`tick ${TICKS}\n`);
    expect(text).not.toContain(PASSWORD);
    expect(text.indexOf('tick 1\n')).toBeLessThan(text.indexOf(`tick ${TICKS}\n`));

    const tail = (await (await fetch(logUrl('?tail=3'))).text()).replace(/\r\n/g, '\n');
    expect(tail.trimEnd().split('\n')).toHaveLength(3);
    expect(text.endsWith(tail)).toBe(true);

    const replay = await follow(logUrl('?follow=1'));
    expect(ticksOf(replay)).toEqual(ticksOf(live));
    expect(JSON.parse(replay[replay.length - 1].data)).toMatchObject({ status: 'completed', collected: true });
  });

  it('prints it with summit tasks log, and follows it to the end with -f', async () => {
    const env = { ...process.env };
    process.env.SUMMIT_API_URL = farm.api.url;
    try {
      const out: string[] = [];
      const err: string[] = [];
      expect(await summitCli(['tasks', 'log', ID], { out: (t) => out.push(t), err: (t) => err.push(t) })).toBe(0);
      expect(out.join('')).toContain(`tick ${TICKS}`);
      const followed: string[] = [];
      expect(await summitCli(['tasks', 'log', '-f', ID], { out: (t) => followed.push(t), err: (t) => err.push(t) })).toBe(0);
      expect(followed.join('')).toContain('tick 1\n');
      expect(err.join('\n')).toContain('-- completed --');
      expect(await summitCli(['tasks', 'log', 'build/none/x/y-1-1/x86_64'], { out: () => undefined, err: (t) => err.push(t) })).toBe(1);
    } finally {
      process.env = env;
    }
  });
});
