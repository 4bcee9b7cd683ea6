/**
 * A builder with a backlog (SUMMIT_BUILDER_BACKLOG) on a real Temporal dev server and real nspawn: it accepts
 * builds beyond its slots, and those it holds start in critical-path order, never more at once than its slots.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { BuildRequest, BuildResult } from '../core/contracts/build';
import { buildId, type BuildId } from '../core/contracts/ids';
import { isaQueue } from '../core/contracts/queues';
import { startAvalanche, type RunningAvalanche } from '../workers/avalanche';
import { loadAvalancheConfig } from '../workers/avalanche/config';
import { buildOnce } from './fixtures/avalanche/workflows';
import { createRecipeRepo, recipeYaml, type RecipeRepo } from './fixtures/avalanche/recipe-repo';
import { describeWhenAvailable } from './support/ci';
import { nspawnUnavailableReason } from './support/nspawn';
import { startTemporalTestServer, taskQueueFor, type TemporalTestServer } from './support/temporal';
import { installQuietWorkerRuntime } from './support/worker';

describeWhenAvailable(nspawnUnavailableReason(), 'a builder with a backlog', () => {
  let tmp: string;
  let server: TemporalTestServer;
  let connection: NativeConnection;
  let client: Client;
  let avalanche: RunningAvalanche;
  let repo: RecipeRepo;
  let workflows: { worker: Worker; running: Promise<void> };
  let workflowQueue: string;

  beforeAll(async () => {
    installQuietWorkerRuntime();
    tmp = mkdtempSync(join(os.tmpdir(), 'summit-avalanche-backlog-'));
    repo = createRecipeRepo(join(tmp, 'repo'), {
      // The first build holds the only slot long enough for the others to be accepted behind it.
      'nap/stone.yaml': recipeYaml('nap', 'install: |\n    sleep 5\n    %install_dir %(installroot)%(datadir)/nap'),
      'dot/stone.yaml': recipeYaml('dot', 'install: |\n    %install_dir %(installroot)%(datadir)/dot'),
    }, false);
    server = await startTemporalTestServer();
    connection = await NativeConnection.connect({ address: server.address });
    client = new Client({ connection, namespace: server.namespace });
    workflowQueue = taskQueueFor('avalanche-backlog-workflows');
    const worker = await Worker.create({ connection, namespace: server.namespace, taskQueue: workflowQueue, workflowsPath: require.resolve('./fixtures/avalanche/workflows') });
    workflows = { worker, running: worker.run() };
    avalanche = await startAvalanche(loadAvalancheConfig({
      SUMMIT_TEMPORAL_ADDRESS: server.address, SUMMIT_DATA_DIR: join(tmp, 'data'), SUMMIT_BUILDER_ID: 'backlog-test',
      SUMMIT_BUILDER_SLOTS: '1', SUMMIT_BUILDER_BACKLOG: '4', SUMMIT_BUILDER_ISA: 'x86_64',
      SUMMIT_AVALANCHE_PORT: '0', SUMMIT_AVALANCHE_HOST: '127.0.0.1', SUMMIT_REPOSITORY_ROOTS: join(tmp, 'repo'),
    }));
  }, 120_000);

  afterAll(async () => {
    await avalanche?.stop();
    workflows?.worker.shutdown();
    await workflows?.running.catch(() => undefined);
    await connection?.close();
    await server?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const request = (source: string, n: number, criticalPath: number): BuildRequest => ({
    buildId: `${buildId({ project: 'demo', repository: 'recipes', source, version: '1.0', release: 1, isa: 'x86_64' })}/${n}` as BuildId,
    repoUrl: repo.bare, commit: repo.commit, recipePath: source, source, version: '1.0', release: 1, isa: 'x86_64', buildRelease: 1, criticalPath,
  });
  const run = (req: BuildRequest) => client.workflow.execute(buildOnce, { taskQueue: workflowQueue, workflowId: req.buildId, args: [req, isaQueue('x86_64')] });

  it('reports its slots, not its backlog, as capacity', async () => {
    expect(await avalanche.status()).toMatchObject({ slots: 1, busy: 0 });
  });

  it('starts the builds it holds longest critical path first, one at a time', async () => {
    const first = run(request('nap', 0, 0));
    await until(() => avalanche.runtime.slots.accepted === 1);
    const paths = [5, 40, 12, 25];
    const rest = paths.map((p, i) => run(request('dot', i + 1, p)));
    // All four accepted while the first still holds the slot: the order is the builder's, not the queue's.
    await until(() => avalanche.runtime.slots.accepted === 5);
    expect((await avalanche.status()).busy).toBe(1);
    const results: BuildResult[] = await Promise.all([first, ...rest]);
    const startOf = (r: BuildResult) => Date.parse(r.startedAt);
    const order = results.slice(1).map((r, i) => ({ path: paths[i], at: startOf(r) })).sort((a, b) => a.at - b.at).map((x) => x.path);
    expect(order).toEqual([40, 25, 12, 5]);
    const spans = results.map((r) => [startOf(r), Date.parse(r.finishedAt)]).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
  }, 120_000);
});

async function until(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the builder');
    await new Promise((r) => setTimeout(r, 20));
  }
}
