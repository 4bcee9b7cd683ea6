/**
 * Vessel's activities through a real Temporal dev server and a real worker: what the pipeline's workflows will see.
 * A refusal arrives as a non-retryable ApplicationFailure of type IMPORT_REFUSED with the ImportRefusal in its
 * details and is attempted once; a refused token is retried; admin commands that cannot apply fail at once.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActivityFailure, ApplicationFailure, Client, WorkflowFailedError } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { IMPORT_REFUSED, type ImportRefusal } from '../core/contracts/build';
import { ARTEFACT_ACCESS_DENIED, STREAM_COMMAND_REFUSED } from '../core/contracts/vessel';
import { readIndex } from '../core/formats/repo-index';
import { createVesselActivities, vesselDeps } from '../activities/vessel/activities';
import { importRequest, startArtefactServer, sha256, buildStone, testMeta, type ArtefactServer } from './support/vessel-fixtures';
import { startTemporalTestServer, taskQueueFor, type TemporalTestServer } from './support/temporal';
import { installQuietWorkerRuntime } from './support/worker';
import { importWorkflow, promoteAndTagWorkflow, rollbackWorkflow } from './fixtures/vessel/workflows';

let temporal: TemporalTestServer;
let connection: NativeConnection;
let client: Client;
let bundle: WorkflowBundleWithSourceMap;
let work: string;
let artefacts: ArtefactServer;

beforeAll(async () => {
  installQuietWorkerRuntime();
  [temporal, bundle] = await Promise.all([
    startTemporalTestServer(),
    // One bundle for the file: webpack takes seconds, a Worker from a ready bundle milliseconds.
    bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/vessel/workflows'), logger: { log: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined, trace: () => undefined } }),
  ]);
  connection = await NativeConnection.connect({ address: temporal.address });
  client = new Client({ connection, namespace: temporal.namespace });
}, 120_000);

afterAll(async () => {
  await connection?.close();
  await temporal?.stop();
});

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'summit-vessel-worker-'));
  artefacts = await startArtefactServer();
});

afterEach(async () => {
  await artefacts.close();
  await rm(work, { recursive: true, force: true });
});

/** Runs `body` while a vessel worker (on a queue of the test's own) serves the activities. */
async function withVesselWorker<T>(body: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = taskQueueFor(expect.getState().currentTestName);
  const worker = await Worker.create({
    connection,
    namespace: temporal.namespace,
    taskQueue,
    workflowBundle: bundle,
    activities: createVesselActivities(vesselDeps(join(work, 'vessel'))),
  });
  return worker.runUntil(body(taskQueue));
}

/** WorkflowFailedError → ActivityFailure → ApplicationFailure. */
async function activityFailure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const activity = (err as WorkflowFailedError).cause;
  expect(activity).toBeInstanceOf(ActivityFailure);
  const cause = (activity as ActivityFailure).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

describe('the vessel worker', () => {
  it('publishes a build through a real worker', async () => {
    const s = await buildStone(work, testMeta('liba', 1));
    const req = importRequest(artefacts, 'build/p/r/liba-1.0-1/x86_64', [s]);
    const result = await withVesselWorker((taskQueue) =>
      client.workflow.execute(importWorkflow, { taskQueue, workflowId: `${taskQueue}-import`, args: [req] }),
    );
    expect(result).toMatchObject({ historyId: '1', index: 'main', published: [{ name: 'liba', sha256: s.artefact.sha256, size: s.artefact.size }] });
    const [entry] = await readIndex(await readFile(result.indexPath));
    expect([entry.name, entry.hash, entry.size]).toEqual(['liba', sha256(s.bytes), s.bytes.length]);
  });

  it('refuses a corrupted artefact once, as a non-retryable IMPORT_REFUSED carrying the file and both hashes', async () => {
    const s = await buildStone(work, testMeta('liba', 1));
    const req = importRequest(artefacts, 'corrupt', [s]);
    const corrupted = Buffer.from(s.bytes);
    corrupted[100] ^= 0x01;
    artefacts.serve('corrupt', s.artefact.name, { bytes: corrupted });

    const failure = await withVesselWorker((taskQueue) =>
      activityFailure(client.workflow.execute(importWorkflow, { taskQueue, workflowId: `${taskQueue}-import`, args: [req] })),
    );
    expect(failure.type).toBe(IMPORT_REFUSED);
    expect(failure.nonRetryable).toBe(true);
    const refusal = failure.details?.[0] as ImportRefusal;
    expect(refusal).toEqual({
      buildId: 'corrupt',
      file: s.artefact.name,
      reason: `${s.artefact.name}: sha256 mismatch: expected ${s.artefact.sha256}, actual ${sha256(corrupted)}`,
    });
    expect(artefacts.requests).toHaveLength(1); // not retried
  });

  it('retries a refused token (ArtefactAccessDenied) until the retry policy gives up', async () => {
    const req = importRequest(artefacts, 'bad-token', [await buildStone(work, testMeta('liba', 1))]);
    req.build.artefactToken = 'expired';
    const failure = await withVesselWorker((taskQueue) =>
      activityFailure(client.workflow.execute(importWorkflow, { taskQueue, workflowId: `${taskQueue}-import`, args: [req] })),
    );
    expect(failure.type).toBe(ARTEFACT_ACCESS_DENIED);
    expect(failure.nonRetryable).toBe(false);
    expect(artefacts.requests.map((r) => r.authorized)).toEqual([false, false, false]); // maximumAttempts: 3
  });

  it('runs the admin commands, and fails one that cannot apply at once (non-retryable)', async () => {
    const result = await withVesselWorker(async (taskQueue) => {
      for (const [i, release] of [1, 2].entries()) {
        const req = importRequest(artefacts, `b${i}`, [await buildStone(work, testMeta('liba', release))]);
        await client.workflow.execute(importWorkflow, { taskQueue, workflowId: `${taskQueue}-import-${i}`, args: [req] });
      }
      const history = await client.workflow.execute(promoteAndTagWorkflow, { taskQueue, workflowId: `${taskQueue}-admin`, args: ['main', 'first', '1'] });
      const failure = await activityFailure(client.workflow.execute(rollbackWorkflow, { taskQueue, workflowId: `${taskQueue}-rollback`, args: ['main', 'unstable', '9'] }));
      return { history, failure };
    });
    expect(result.history).toMatchObject({ index: 'main', streams: { volatile: '2', unstable: '2' }, tags: { first: '1' } });
    expect(result.history.histories.map((h) => h.id)).toEqual(['1', '2']);
    expect(result.failure.type).toBe(STREAM_COMMAND_REFUSED);
    expect(result.failure.nonRetryable).toBe(true);
    expect(result.failure.message).toMatch(/history 9 does not exist/);
  });
});
