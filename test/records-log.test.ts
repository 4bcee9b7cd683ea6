/**
 * A finished build's log is fetched from its builder and kept in the transaction of the record of its end, built
 * or failed (activities/summit/records.ts): a real database and a real HTTP server in the builder's place.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { MikroORM } from '@mikro-orm/core';
import { recordActivities } from '../activities/summit/records';
import { builderId } from '../core/contracts/ids';
import { compress } from '../core/formats/zstd';
import { openDatabase } from '../db/orm';
import { Store, type NewTask } from '../db/store';

const LOG = 'step build\nmake: *** [all] Error 2\n';
const task = (source: string): NewTask => ({
  id: `build/serpent/logs/${source}-1.0-1/x86_64`, project: 'serpent', repository: 'logs', source, version: '1.0', release: 1,
  isa: 'x86_64', index: 'main', commit: 'c0ffee', recipePath: `r/${source}`,
});

let dir: string;
let orm: MikroORM;
let store: Store;
let server: Server;
let url: string;
const quiet = { warn: () => undefined, info: () => undefined };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'summit-records-log-'));
  orm = await openDatabase({ dataDir: dir });
  store = new Store(orm);
  // The builder's artefact server: the sealed log of any build, to the build's token only.
  server = createServer((req, res) => {
    if (req.headers.authorization !== 'Bearer t1' || !req.url?.endsWith('.zst')) return void res.writeHead(403).end('no');
    res.writeHead(200).end(Buffer.from(compress(Buffer.from(LOG))));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await orm?.close(true);
  rmSync(dir, { recursive: true, force: true });
});

async function building(source: string, token: string): Promise<string> {
  const t = task(source);
  await store.createTask(t, 'test');
  await store.queueTasks([t.id], () => 'dispatched');
  await recordActivities(store, () => quiet).recordStarted(t.id, { builderId: builderId('b1'), at: new Date().toISOString(), attempt: 1, log: { url, token } });
  return t.id;
}

it('keeps a failed build\'s log with its failure, and the failure without a log its builder no longer serves', async () => {
  const records = recordActivities(store, () => quiet);
  const failed = await building('broken', 't1');
  await records.recordFailure(failed, { reason: 'build failed in step build (exit 2)', logPath: '/logs/broken.log', builder: 'b1' });
  expect((await store.getTask(failed)).status).toBe('failed');
  const kept = await store.logs.collected(failed);
  expect(kept?.plainBytes).toBe(Buffer.byteLength(LOG));

  // A builder that refuses (a token it no longer knows): the failure is recorded all the same, with no log.
  const refused = await building('gone', 'stale');
  await records.recordFailure(refused, { reason: 'build failed in step build (exit 2)', logPath: '/logs/gone.log', builder: 'b1' });
  expect((await store.getTask(refused)).status).toBe('failed');
  expect(await store.logs.collected(refused)).toBeUndefined();
});

it('keeps a built build\'s log with the record of its end', async () => {
  const built = await building('fine', 't1');
  await recordActivities(store, () => quiet).recordBuilt(built, { builderId: builderId('b1'), logPath: '/logs/fine.log', artefactBaseUrl: url, artefactToken: 't1' });
  expect((await store.getTask(built)).status).toBe('publishing');
  expect((await store.logs.collected(built))?.plainBytes).toBe(Buffer.byteLength(LOG));
});
