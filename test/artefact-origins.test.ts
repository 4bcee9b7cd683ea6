/**
 * SUMMIT_ARTEFACT_ORIGINS (core/security/artefact-origins.ts) where it is enforced, on real servers and a real
 * database: a build result names its builder's server itself, so a hostile enrolled builder could aim vessel's
 * fetch and release, summit's log collection and the API's live log at any host they reach. With the list set,
 * none of them sends a single request outside it; inside it, everything works as before.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MikroORM } from '@mikro-orm/core';
import { ApplicationFailure } from '@temporalio/common';
import { vesselDeps } from '../activities/vessel/activities';
import { importBuild } from '../activities/vessel/import-build';
import { releaseArtefacts } from '../activities/vessel/release';
import { stagingDirFor } from '../activities/vessel/staging';
import { recordActivities } from '../activities/summit/records';
import { openTaskLog } from '../api/services/task-log';
import { parseConfig } from '../core/config';
import { IMPORT_REFUSED, type ImportRefusal } from '../core/contracts/build';
import { builderId } from '../core/contracts/ids';
import { compress } from '../core/formats/zstd';
import { ArtefactOrigins } from '../core/security/artefact-origins';
import { openDatabase } from '../db/orm';
import { Store, type NewTask } from '../db/store';
import { buildStone, importRequest, startArtefactServer, testMeta, type ArtefactServer } from './support/vessel-fixtures';

/** Only some other host: the test servers on 127.0.0.1 are outside it. */
const ELSEWHERE = ArtefactOrigins.parse('http://avalanche-1:8090');
/** The test servers' host on any port. */
const LOCAL = ArtefactOrigins.parse('http://127.0.0.1:*');

describe('vessel', () => {
  let work: string;
  let server: ArtefactServer;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'summit-origins-'));
    server = await startArtefactServer();
  });

  afterEach(async () => {
    await server.close();
    await rm(work, { recursive: true, force: true });
  });

  it('refuses an import from a server outside the list before it sends anything, naming the server, the builder and the list', async () => {
    const deps = vesselDeps(join(work, 'vessel'), {}, {}, { buildRoot: false }, { artefactOrigins: ELSEWHERE });
    const req = importRequest(server, 'build/p/r/far-1.0-1/x86_64', [await buildStone(work, testMeta('far', 1))]);
    const failure = await importBuild(deps, req).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    const refusal = failure as ApplicationFailure;
    expect(refusal.type).toBe(IMPORT_REFUSED);
    expect(refusal.nonRetryable).toBe(true);
    expect(refusal.details?.[0] as ImportRefusal).toMatchObject({ file: '(builder)' });
    expect(refusal.message).toContain(`builder test-builder: artefact server ${server.baseUrl} is not in SUMMIT_ARTEFACT_ORIGINS (http://avalanche-1:8090)`);
    expect(server.requests).toEqual([]);
    expect(existsSync(stagingDirFor(deps.layout, req.buildId))).toBe(false);
  });

  it('imports from a server inside the list', async () => {
    const deps = vesselDeps(join(work, 'vessel'), {}, {}, { buildRoot: false }, { artefactOrigins: LOCAL });
    const req = importRequest(server, 'build/p/r/near-1.0-1/x86_64', [await buildStone(work, testMeta('near', 1))]);
    const result = await importBuild(deps, req);
    expect(result.published.map((p) => p.name)).toEqual(['near']);
    expect(server.requests.length).toBeGreaterThan(0);
  });

  it('sends no release to a server outside the list, and says why', async () => {
    const warnings: Array<Record<string, unknown>> = [];
    const req = { buildId: 'build/p/r/far-1.0-1/x86_64', build: { builderId: 'b1', artefactBaseUrl: server.baseUrl, releaseToken: server.token } };
    expect(await releaseArtefacts(req, (_message, meta) => warnings.push(meta), ELSEWHERE)).toBe(false);
    expect(server.requests).toEqual([]);
    expect(warnings).toEqual([expect.objectContaining({ builderId: 'b1', problem: expect.stringContaining('is not in SUMMIT_ARTEFACT_ORIGINS') })]);
    // Inside the list the release is sent (the test server answers 404: there is nothing to delete).
    expect(await releaseArtefacts(req, () => undefined, LOCAL)).toBe(false);
    expect(server.requests).toEqual([{ path: `/builds/${encodeURIComponent(req.buildId)}`, authorized: true }]);
  });
});

describe('summit and the API', () => {
  const LOG = 'step build\nall good\n';
  let dir: string;
  let orm: MikroORM;
  let store: Store;
  let builder: Server;
  let url: string;
  const hits: string[] = [];
  const warnings: Array<Record<string, unknown>> = [];
  const log = { warn: (_m: string, meta?: Record<string, unknown>) => void warnings.push(meta ?? {}), info: () => undefined };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'summit-origins-db-'));
    orm = await openDatabase({ dataDir: dir });
    store = new Store(orm);
    // A builder's artefact server: the sealed log and the live log of any build.
    builder = createServer((req, res) => {
      hits.push(req.url ?? '/');
      if (req.url?.endsWith('.zst')) return void res.writeHead(200).end(Buffer.from(compress(Buffer.from(LOG))));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(`event: log\nid: 9\ndata: live line\n\nevent: end\ndata: {"bytes":9,"sealed":false}\n\n`);
    });
    await new Promise<void>((resolve) => builder.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(builder.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => builder?.close(resolve));
    await orm?.close(true);
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    hits.length = 0;
    warnings.length = 0;
  });

  async function picked(source: string, origins: ArtefactOrigins): Promise<string> {
    const task: NewTask = {
      id: `build/serpent/origins/${source}-1.0-1/x86_64`, project: 'serpent', repository: 'origins', source, version: '1.0', release: 1,
      isa: 'x86_64', index: 'main', commit: 'c0ffee', recipePath: `r/${source}`,
    };
    await store.createTask(task, 'test');
    await store.queueTasks([task.id], () => 'dispatched');
    await recordActivities(store, () => log, origins).recordStarted(task.id, { builderId: builderId('b1'), at: new Date().toISOString(), attempt: 1, log: { url, token: 't1' } });
    return task.id;
  }

  it('keeps no log address outside the list and fetches nothing from it when the build ends', async () => {
    const id = await picked('far', ELSEWHERE);
    expect((await store.logs.state(id)).source).toBeUndefined();
    await recordActivities(store, () => log, ELSEWHERE).recordBuilt(id, { builderId: builderId('b1'), logPath: '/logs/far.log', artefactBaseUrl: url, artefactToken: 't1' });
    expect((await store.getTask(id)).status).toBe('publishing');
    expect(await store.logs.collected(id)).toBeUndefined();
    expect(hits).toEqual([]);
    expect(warnings).toEqual([
      expect.objectContaining({ taskId: id, builderId: 'b1', problem: expect.stringContaining(`artefact server ${url} is not in SUMMIT_ARTEFACT_ORIGINS`) }),
      expect.objectContaining({ taskId: id, builderId: 'b1', problem: expect.stringContaining('is not in SUMMIT_ARTEFACT_ORIGINS') }),
    ]);
  });

  it('keeps and collects the log of a builder inside the list', async () => {
    const id = await picked('near', LOCAL);
    expect((await store.logs.state(id)).source?.url).toBe(url);
    await recordActivities(store, () => log, LOCAL).recordBuilt(id, { builderId: builderId('b1'), logPath: '/logs/near.log', artefactBaseUrl: url, artefactToken: 't1' });
    expect((await store.logs.collected(id))?.plainBytes).toBe(Buffer.byteLength(LOG));
    expect(hits).toHaveLength(1);
    expect(warnings).toEqual([]);
  });

  it('reads a live log only from a server inside the list (an address recorded before the list was set)', async () => {
    const id = await picked('live', ArtefactOrigins.ANY);
    /** Where the log was read and what it said, or the error's name. */
    const read = (origins: ArtefactOrigins): Promise<string> =>
      openTaskLog(store, id, undefined, origins).then(
        async (l) => {
          let text = '';
          for await (const chunk of l.stream) text += String(chunk);
          return `${l.path}: ${text}`;
        },
        (err: Error) => err.name,
      );
    expect(await read(ELSEWHERE)).toBe('LogUnavailableError');
    expect(hits).toEqual([]);
    expect(await read(LOCAL)).toBe(`${url}: live line\n`);
    expect(hits).toEqual([`/logs/${encodeURIComponent(id)}`]);
  });
});

it('refuses a bad SUMMIT_ARTEFACT_ORIGINS at start, naming the setting and the entry', () => {
  expect(() => parseConfig({ SUMMIT_ARTEFACT_ORIGINS: 'http://avalanche-1:8090,avalanche-2' })).toThrow(/SUMMIT_ARTEFACT_ORIGINS: "avalanche-2" is not an http\(s\) origin/);
  expect(parseConfig({ SUMMIT_ARTEFACT_ORIGINS: 'http://avalanche-1:8090' }).SUMMIT_ARTEFACT_ORIGINS.restricted).toBe(true);
  expect(parseConfig({}).SUMMIT_ARTEFACT_ORIGINS).toBe(ArtefactOrigins.ANY);
});
