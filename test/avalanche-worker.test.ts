/**
 * The avalanche worker entry point: its configuration, and a started builder on a real Temporal dev server that
 * takes builds from its ISA queues within its slots and reports its status.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { BuildRequest, BuildResult } from '../core/contracts/build';
import { buildId, type BuildId } from '../core/contracts/ids';
import { isaQueue, type IsaLevel } from '../core/contracts/queues';
import { detectIsaLevels } from '../core/isa';
import { startAvalanche, type RunningAvalanche } from '../workers/avalanche';
import { loadAvalancheConfig } from '../workers/avalanche/config';
import { DEFAULT_LIMITS } from '../core/build/limits';
import { secretPath } from '../activities/avalanche/paths';
import { buildOnce } from './fixtures/avalanche/workflows';
import { createRecipeRepo, recipeYaml, type RecipeRepo } from './fixtures/avalanche/recipe-repo';
import { describeWhenAvailable } from './support/ci';
import { nspawnUnavailableReason } from './support/nspawn';
import { startTemporalTestServer, taskQueueFor, type TemporalTestServer } from './support/temporal';
import { installQuietWorkerRuntime } from './support/worker';

describe('avalanche configuration', () => {
  it('fills in defaults for everything but the secret, which has no setting', () => {
    const c = loadAvalancheConfig({ SUMMIT_DATA_DIR: '/srv/summit' });
    expect(c).toMatchObject({
      temporalAddress: '127.0.0.1:7233', namespace: 'default', dataDir: '/srv/summit', slots: 1, port: 8090,
      host: '0.0.0.0', tokenTtlSeconds: 6 * 3600, corruptArtefacts: false, buildRoot: undefined, publicUrl: undefined,
    });
    expect(c.builderId).toMatch(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/);
    expect(c.jobs).toBeGreaterThanOrEqual(1);
  });

  it('reads every variable, treating empty ones as unset', () => {
    expect(loadAvalancheConfig({
      SUMMIT_BUILDER_ID: 'b1', SUMMIT_BUILDER_SLOTS: '3', SUMMIT_BUILD_JOBS: '2', SUMMIT_BUILD_ROOT: '/', SUMMIT_AVALANCHE_PORT: '0',
      SUMMIT_AVALANCHE_PUBLIC_URL: 'http://b1.farm:8090/', SUMMIT_ARTEFACT_TOKEN_TTL: '30m', SUMMIT_TEST_CORRUPT_ARTEFACTS: '1', SUMMIT_DATA_DIR: '',
    })).toMatchObject({ builderId: 'b1', slots: 3, jobs: 2, buildRoot: '/', port: 0, publicUrl: 'http://b1.farm:8090', tokenTtlSeconds: 1800, corruptArtefacts: true });
  });

  it('reads the build limits, sizes in powers of 1024, and keeps the network off unless switched on', () => {
    expect(loadAvalancheConfig({}).limits).toEqual(DEFAULT_LIMITS);
    expect(loadAvalancheConfig({
      SUMMIT_BUILD_MEMORY: '256M', SUMMIT_BUILD_TASKS: '128', SUMMIT_BUILD_CPU_WEIGHT: '50', SUMMIT_BUILD_TIME: '20s',
      SUMMIT_BUILD_DISK: '2G', SUMMIT_BUILD_LOG: '512K', SUMMIT_BUILD_NETWORK: '1', SUMMIT_BUILD_UID_BASE: String(0x10000 * 100),
    })).toMatchObject({
      limits: { memoryBytes: 256 * 2 ** 20, tasks: 128, cpuWeight: 50, timeMs: 20_000, diskBytes: 2 * 2 ** 30, logBytes: 512 * 1024, networkAllowed: true },
      uidBase: 0x10000 * 100,
    });
  });

  it.each([
    [{ SUMMIT_BUILD_MEMORY: '256MB' }, /SUMMIT_BUILD_MEMORY: a size such as 256M/],
    [{ SUMMIT_BUILD_TASKS: '4' }, /SUMMIT_BUILD_TASKS/],
    [{ SUMMIT_BUILD_UID_BASE: '100000' }, /SUMMIT_BUILD_UID_BASE/],
    [{ SUMMIT_BUILD_NETWORK: 'yes' }, /SUMMIT_BUILD_NETWORK/],
    [{ SUMMIT_BUILDER_SLOTS: '0' }, /SUMMIT_BUILDER_SLOTS/],
    [{ SUMMIT_BUILDER_ID: 'a/b' }, /SUMMIT_BUILDER_ID: letters, digits/],
    [{ SUMMIT_BUILD_ROOT: '/no/such/dir' }, /SUMMIT_BUILD_ROOT: an existing directory/],
    [{ SUMMIT_ARTEFACT_TOKEN_TTL: '1d' }, /SUMMIT_ARTEFACT_TOKEN_TTL/],
    [{ SUMMIT_TEST_CORRUPT_ARTEFACTS: 'yes' }, /SUMMIT_TEST_CORRUPT_ARTEFACTS/],
  ])('refuses %p naming the variable', (env, message) => {
    expect(() => loadAvalancheConfig(env)).toThrow(message);
  });
});

describeWhenAvailable(nspawnUnavailableReason(), 'a running avalanche builder', () => {
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
    tmp = mkdtempSync(join(os.tmpdir(), 'summit-avalanche-worker-'));
    repo = createRecipeRepo(join(tmp, 'repo'), { 'nap/stone.yaml': recipeYaml('nap', 'install: |\n    sleep 1\n    %install_dir %(installroot)%(datadir)/nap') }, false);
    server = await startTemporalTestServer();
    connection = await NativeConnection.connect({ address: server.address });
    client = new Client({ connection, namespace: server.namespace });
    workflowQueue = taskQueueFor('avalanche-worker-workflows');
    workflows = await (async () => {
      const worker = await Worker.create({ connection, namespace: server.namespace, taskQueue: workflowQueue, workflowsPath: require.resolve('./fixtures/avalanche/workflows') });
      return { worker, running: worker.run() };
    })();
    avalanche = await startAvalanche(loadAvalancheConfig({
      SUMMIT_TEMPORAL_ADDRESS: server.address, SUMMIT_DATA_DIR: join(tmp, 'data'), SUMMIT_BUILDER_ID: 'worker-test',
      SUMMIT_BUILDER_SLOTS: '1', SUMMIT_AVALANCHE_PORT: '0', SUMMIT_AVALANCHE_HOST: '127.0.0.1',
      SUMMIT_REPOSITORY_ROOTS: join(tmp, 'repo'),
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

  const request = (isa: IsaLevel, n: number): BuildRequest => ({
    buildId: `${buildId({ project: 'demo', repository: 'recipes', source: 'nap', version: '1.0', release: 1, isa })}/${n}` as BuildId, repoUrl: repo.bare,
    commit: repo.commit, recipePath: 'nap', source: 'nap', version: '1.0', release: 1, isa, buildRelease: 1,
  });

  it('serves the ISA levels its CPU has, keeps its token secret private and reports its status', async () => {
    const expected = detectIsaLevels(readFileSync('/proc/cpuinfo', 'utf8')).levels;
    expect(await avalanche.status()).toMatchObject({ id: 'worker-test', host: os.hostname(), isaLevels: expected, slots: 1, busy: 0 });
    expect((await avalanche.status()).diskFree).toBeGreaterThan(0);
    expect(statSync(secretPath(join(tmp, 'data'))).mode & 0o777).toBe(0o600);
  });

  it('runs builds from every ISA queue it serves, never more at once than its slots', async () => {
    const levels = avalanche.runtime.isaLevels;
    const run = (isa: IsaLevel, n: number) => client.workflow.execute(buildOnce, {
      taskQueue: workflowQueue, workflowId: `nap-${isa}-${n}`, args: [request(isa, n), isaQueue(isa)],
    });
    // Two builds per level at once on a one-slot builder: they must run one after the other.
    const results: BuildResult[] = await Promise.all(levels.flatMap((isa) => [run(isa, 1), run(isa, 2)]));
    const spans = results.map((r) => [Date.parse(r.startedAt), Date.parse(r.finishedAt)]).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
    expect(results.every((r) => r.artefactBaseUrl === avalanche.artefactBaseUrl && r.builderId === 'worker-test')).toBe(true);
    const stone = results[0].artefacts[0];
    const response = await fetch(`http://127.0.0.1:${new URL(avalanche.artefactBaseUrl).port}/builds/${encodeURIComponent(results[0].buildId)}/${stone.name}`, {
      headers: { Authorization: `Bearer ${results[0].artefactToken}` },
    });
    expect(response.status).toBe(200);
  }, 120_000);
});
