/**
 * Records the workflow histories the replay test (test/workflow-replay.test.ts) replays: `npm run record:histories`.
 * Not part of `npm test` (jest.config.js leaves this file out unless SUMMIT_RECORD_HISTORIES=1).
 *
 * It runs the real pipeline on the real services (test/helpers/farm.ts: Temporal dev server, PostgreSQL, one
 * avalanche builder in systemd-nspawn, vessel, the API): a repository with `liba` (the demo library, builds and
 * publishes) and `broken` (does not compile) is refreshed through the API, and once both builds have ended and a
 * poll has run, the histories of the hub, of both build workflows and of the poll workflow are written to
 * test/fixtures/histories/<name>.binpb (Temporal's History, binary protobuf: what is replayed) and <name>.json (the
 * same as `temporal workflow show -o json`, for reading), with index.json naming each one's workflow id.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { HUB_WORKFLOW_ID } from '../core/contracts/hub';
import { SUMMIT_QUEUE } from '../core/contracts/queues';
import { hubStateQuery } from '../workflows/signals';
import { Farm, startFarm, waitFor } from './helpers/farm';
import { REPLAY_PAYLOAD_KEYS } from './support/replay-key';
import { dataConverterFor } from '../workers/temporal';
import { recipeYaml, TestRepo } from './helpers/git-repo';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { startTemporalTestServer, temporalBinary, TemporalTestServer } from './support/temporal';

jest.setTimeout(600_000);

const OUT = resolve(__dirname, 'fixtures', 'histories');
const EXAMPLES = resolve(__dirname, '..', 'examples', 'recipes');

let temporal: TemporalTestServer;
let pg: TestDatabase;
let work: string;
let farm: Farm;
let connection: Connection;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'summit-record-'));
  [temporal, pg] = await Promise.all([startTemporalTestServer(), createTestDatabase('record')]);
  farm = await startFarm({ work, temporalAddress: temporal.address, databaseUrl: pg.url, payloadKeys: REPLAY_PAYLOAD_KEYS });
  await farm.startBuilder('av1');
  connection = await Connection.connect({ address: temporal.address });
});

afterAll(async () => {
  await connection?.close();
  await farm?.stop();
  await temporal?.stop();
  await pg?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function api<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${farm.api.url}${path}`, init);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

interface TaskView { id: string; source: string; status: string }
/** A workflow task scheduled and not yet completed: the history would end mid-task. */
function workflowTaskInFlight(events: proto.api.history.v1.IHistoryEvent[]): boolean {
  let scheduled = -1;
  events.forEach((e, i) => {
    if (e.workflowTaskScheduledEventAttributes) scheduled = i;
  });
  return scheduled >= 0 && !events.slice(scheduled).some((e) => e.workflowTaskCompletedEventAttributes);
}

const tasks = async (): Promise<TaskView[]> => (await api<{ items: TaskView[] }>('/api/tasks?limit=50')).body.items;

test('records the hub, a build that publishes (through its wave), a build that fails, the wave and a poll', async () => {
  const started = Date.now();
  const client = new Client({ connection, namespace: temporal.namespace, dataConverter: dataConverterFor({ payloadKeys: REPLAY_PAYLOAD_KEYS }) });
  const repo = new TestRepo(join(work, 'recipes'));
  cpSync(join(EXAMPLES, 'liba'), join(repo.dir, 'liba'), { recursive: true });
  repo.write('broken/stone.yaml', recipeYaml({ name: 'broken', version: '1.0.0', build: 'cc -o broken %(pkgdir)/broken.c' }));
  repo.write('broken/broken.c', 'int main(void) { return 0 }\n');
  repo.commit('liba and broken');

  await waitFor('the builder to report to the hub', async () => ((await api<{ items: unknown[] }>('/api/builders')).body.items.length > 0 ? true : undefined), 60_000);
  const admin = { authorization: `Bearer ${farm.adminToken}`, 'content-type': 'application/json' };
  expect((await api('/api/repositories', { method: 'POST', headers: admin, body: JSON.stringify({ id: 'recipes', project: 'record', url: repo.dir, ref: 'main' }) })).status).toBe(201);
  expect((await api('/api/repositories/recipes/refresh', { method: 'POST', headers: { authorization: `Bearer ${farm.hookToken}` } })).status).toBeLessThan(300);

  const ended = await waitFor('liba completed and broken failed', async () => {
    const all = await tasks();
    const liba = all.find((t) => t.source === 'liba' && t.status === 'completed');
    const broken = all.find((t) => t.source === 'broken' && t.status === 'failed');
    return liba && broken ? { liba: liba.id, broken: broken.id } : undefined;
  }, 300_000, async () => JSON.stringify(await tasks()));

  // Both build workflows closed, their wave published (liba's packages in one history), then one poll, then the
  // hub idle again (nothing pending).
  for (const id of [ended.liba, ended.broken]) {
    await waitFor(`${id} to close`, async () => ((await client.workflow.getHandle(id).describe()).status.name !== 'RUNNING' ? true : undefined), 60_000);
  }
  const waveId = await waitFor('the wave to be published', async () => {
    const { items } = (await api<{ items: Array<{ id: string; status: string }> }>('/api/waves?repository=recipes')).body;
    return items.length === 1 && items[0].status === 'published' ? items[0].id : undefined;
  }, 120_000);
  await waitFor(`${waveId} to close`, async () => ((await client.workflow.getHandle(waveId).describe()).status.name !== 'RUNNING' ? true : undefined), 60_000);
  await client.workflow.execute('pollRepositoriesWorkflow', { workflowId: 'record-poll', taskQueue: SUMMIT_QUEUE });
  const hub = client.workflow.getHandle(HUB_WORKFLOW_ID);
  await waitFor('the hub to take in the poll', async () => ((await hub.query(hubStateQuery)).pendingRefreshes === 0 ? true : undefined), 60_000);
  // Once the hub's intake of the poll's refresh has been recorded, its history ends with a workflow task completed.
  await waitFor('the hub to finish its round', async () => {
    const events = (await hub.fetchHistory()).events ?? [];
    return events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'refreshRepository').length >= 2 &&
      !workflowTaskInFlight(events) ? true : undefined;
  }, 60_000, async () => {
    const events = (await hub.fetchHistory()).events ?? [];
    return `${events.length} events; last: ${events.slice(-12).map((e) => String(e.eventType)).join(', ')}`;
  });

  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const recorded = { hub: HUB_WORKFLOW_ID, 'build-published': ended.liba, 'build-failed': ended.broken, wave: waveId, poll: 'record-poll' };
  for (const [name, workflowId] of Object.entries(recorded)) {
    // Replayed: the binary History (protobuf), read back with History.decode. The JSON beside it, as the CLI writes
    // it, is for people reviewing a re-recording; the SDK's own JSON reader (historyFromJSON) fails in this
    // node_modules ("type must be a Type": @temporalio/common and @temporalio/proto each nest a copy of protobufjs 8).
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    writeFileSync(join(OUT, `${name}.binpb`), proto.api.history.v1.History.encode(history).finish());
    const json = execFileSync(temporalBinary(), ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--address', temporal.address, '--namespace', temporal.namespace], { encoding: 'utf8', maxBuffer: 64 << 20 });
    writeFileSync(join(OUT, `${name}.json`), `${JSON.stringify(JSON.parse(json), null, 1)}\n`);
  }
  writeFileSync(join(OUT, 'index.json'), `${JSON.stringify(recorded, null, 2)}\n`);
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: resolve(__dirname, '..'), encoding: 'utf8' }).trim();
  writeFileSync(join(OUT, 'README.md'), [
    '# Recorded workflow histories',
    '',
    'Written by `npm run record:histories` (test/record-histories.test.ts) from a real run of the pipeline; replayed',
    'against the current workflow code by test/workflow-replay.test.ts. Re-record them when a workflow changes on',
    'purpose (see "Changing a workflow safely" in the README), never to make a replay failure go away unexplained.',
    '',
    `Recorded at commit ${commit}. Each workflow as <name>.binpb and <name>.json: ${Object.entries(recorded).map(([n, id]) => `${n} (\`${id}\`)`).join(', ')}.`,
    '',
  ].join('\n'));
  console.log(`recorded ${Object.keys(recorded).length} histories into ${OUT} in ${Math.round((Date.now() - started) / 1000)} s`);
});
