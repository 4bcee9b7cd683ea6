/**
 * Admission on the builder itself (workers/avalanche/admission.ts, build-slots.ts): a started builder on a real
 * Temporal dev server, building in nspawn, whose host measurement a test can put under pressure. Under pressure it
 * polls for no build (a build waiting on its queue stays scheduled through several measurements), and a build
 * that a poll already waiting brings in after the gate closed is handed back before it starts; relieved, it
 * builds both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { HostSample } from '../core/builder/health';
import type { BuildRequest, BuildResult } from '../core/contracts/build';
import { buildId, type BuildId } from '../core/contracts/ids';
import { isaQueue } from '../core/contracts/queues';
import { startAvalanche, type RunningAvalanche } from '../workers/avalanche';
import { sampleHost } from '../workers/avalanche/admission';
import { loadAvalancheConfig } from '../workers/avalanche/config';
import { waitFor } from './helpers/farm';
import { buildOnce } from './fixtures/avalanche/workflows';
import { createRecipeRepo, recipeYaml, type RecipeRepo } from './fixtures/avalanche/recipe-repo';
import { describeWhenAvailable } from './support/ci';
import { nspawnUnavailableReason } from './support/nspawn';
import { startTemporalTestServer, taskQueueFor, type TemporalTestServer } from './support/temporal';
import { installQuietWorkerRuntime } from './support/worker';

jest.setTimeout(180_000);

describeWhenAvailable(nspawnUnavailableReason(), 'a builder under pressure', () => {
  let tmp: string;
  let server: TemporalTestServer;
  let connection: NativeConnection;
  let client: Client;
  let avalanche: RunningAvalanche;
  let repo: RecipeRepo;
  let workflows: { worker: Worker; running: Promise<void> };
  let workflowQueue: string;
  /** The switch: while true, the builder measures no free disk (below its 1 MiB threshold). */
  let pressed = true;
  let samples = 0;
  const sample = async (dir: string): Promise<HostSample> => {
    samples++;
    const real = await sampleHost(dir);
    return pressed ? { ...real, diskFree: 0 } : real;
  };

  beforeAll(async () => {
    installQuietWorkerRuntime();
    tmp = mkdtempSync(join(os.tmpdir(), 'summit-avalanche-admission-'));
    repo = createRecipeRepo(join(tmp, 'repo'), { 'nap/stone.yaml': recipeYaml('nap', 'install: |\n    %install_dir %(installroot)%(datadir)/nap') }, false);
    server = await startTemporalTestServer();
    connection = await NativeConnection.connect({ address: server.address });
    client = new Client({ connection, namespace: server.namespace });
    workflowQueue = taskQueueFor('avalanche-admission-workflows');
    const worker = await Worker.create({ connection, namespace: server.namespace, taskQueue: workflowQueue, workflowsPath: require.resolve('./fixtures/avalanche/workflows') });
    workflows = { worker, running: worker.run() };
    avalanche = await startAvalanche(loadAvalancheConfig({
      SUMMIT_TEMPORAL_ADDRESS: server.address, SUMMIT_DATA_DIR: join(tmp, 'data'), SUMMIT_BUILDER_ID: 'admission-test',
      SUMMIT_BUILDER_SLOTS: '1', SUMMIT_BUILDER_ISA: 'x86_64', SUMMIT_BUILDER_HEARTBEAT: '1s', SUMMIT_BUILDER_MIN_FREE_DISK: '1M',
      SUMMIT_AVALANCHE_PORT: '0', SUMMIT_AVALANCHE_HOST: '127.0.0.1', SUMMIT_REPOSITORY_ROOTS: join(tmp, 'repo'),
    }), undefined, { sampleHost: sample });
  }, 120_000);

  afterAll(async () => {
    await avalanche?.stop();
    workflows?.worker.shutdown();
    await workflows?.running.catch(() => undefined);
    await connection?.close();
    await server?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const request = (n: number): BuildRequest => ({
    buildId: `${buildId({ project: 'demo', repository: 'recipes', source: 'nap', version: '1.0', release: 1, isa: 'x86_64' })}/${n}` as BuildId, repoUrl: repo.bare,
    commit: repo.commit, recipePath: 'nap', source: 'nap', version: '1.0', release: 1, isa: 'x86_64', buildRelease: 1,
  });

  /** The build activity of a workflow as Temporal sees it: scheduled or started, its attempt, its last failure's type. */
  const activity = async (workflowId: string) => {
    const [a] = (await client.workflow.getHandle(workflowId).describe()).raw.pendingActivities ?? [];
    return a && { started: a.state === 2, attempt: a.attempt ?? 0, failure: a.lastFailure?.applicationFailureInfo?.type ?? undefined };
  };

  /** Let the builder measure its host `n` more times. */
  const measurements = async (n: number) => {
    const from = samples;
    await waitFor(`${n} more measurements`, async () => (samples >= from + n ? true : undefined), 30_000);
  };

  it('starts no build while under pressure, and starts it once relieved', async () => {
    expect((await avalanche.status()).health?.pressure).toEqual([expect.stringMatching(/^free disk 0 MiB is below 1 MiB$/)]);
    const handle = await client.workflow.start(buildOnce, { taskQueue: workflowQueue, workflowId: 'pressed-1', args: [request(1), isaQueue('x86_64')] });
    await waitFor('the build to be scheduled', () => activity('pressed-1'), 30_000);
    await measurements(3);
    expect(await activity('pressed-1')).toEqual({ started: false, attempt: 1, failure: undefined });
    expect(avalanche.runtime.slots.busy).toBe(0);

    const relievedAt = Date.now();
    pressed = false;
    const result: BuildResult = await handle.result();
    expect(Date.parse(result.startedAt)).toBeGreaterThanOrEqual(relievedAt);
    expect((await avalanche.status()).health?.pressure).toEqual([]);
  });

  it('hands back a build that a poll already waiting brings after the gate closed, and builds it when relieved', async () => {
    // The builder is idle with its one permit held by its poller, waiting for a build.
    await waitFor('the poller to hold the permit', async () => (avalanche.runtime.slots.available === 0 && avalanche.runtime.slots.busy === 0 ? true : undefined), 30_000);
    pressed = true;
    await avalanche.runtime.admission.check();
    expect(avalanche.runtime.slots.open).toBe(false);
    const handle = await client.workflow.start(buildOnce, { taskQueue: workflowQueue, workflowId: 'pressed-2', args: [request(2), isaQueue('x86_64')] });
    await waitFor('the build to be handed back', async () => {
      const a = await activity('pressed-2');
      return a?.failure === 'BuilderUnderPressure' ? a : undefined;
    }, 60_000);
    await measurements(3);
    expect(await activity('pressed-2')).toEqual({ started: false, attempt: 2, failure: 'BuilderUnderPressure' });

    const relievedAt = Date.now();
    pressed = false;
    const result: BuildResult = await handle.result();
    expect(Date.parse(result.startedAt)).toBeGreaterThanOrEqual(relievedAt);
  });
});
