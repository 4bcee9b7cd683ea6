/**
 * Enrolment and trust (issue 10) on a real farm (dev server, PostgreSQL, summit, vessel and the API in this
 * process, each builder its own avalanche process, nspawn builds): a builder without enrolment refuses to start;
 * a community builder never receives an official build; trusted builders take it; vessel, reading the registry
 * itself, refuses a result claimed from a community, revoked or unknown builder, unsigned or signed with the wrong
 * key; revoking a builder stops its running build, which another builder then completes; a drain closes the gate;
 * a trust change makes the builder poll the official queue. The admin side goes through the `summit` CLI.
 */
import { execFile, execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import { main as summitCli } from '../cli/main';
import type { Artefact, BuildResult, ImportRequest } from '../core/contracts/build';
import { HUB_WORKFLOW_ID } from '../core/contracts/hub';
import type { BuildId, BuilderId } from '../core/contracts/ids';
import { sharedQueue, VESSEL_QUEUE } from '../core/contracts/queues';
import type { CompareRequest } from '../core/contracts/verification';
import { publicKeyText, signBuildFacts } from '../core/trust/build-signature';
import { identityPaths } from '../workers/avalanche/identity';
import { dataConverterFor } from '../workers/temporal';
import { hubStateQuery } from '../workflows/signals';
import { buildOnce } from './fixtures/avalanche/workflows';
import { compareWorkflow, importWorkflow } from './fixtures/vessel/workflows';
import { Farm, hookedRepository, startFarm, waitFor, type TaskView } from './helpers/farm';
import { recipeYaml } from './helpers/git-repo';
import { describeWhenAvailable } from './support/ci';
import { nspawnUnavailableReason } from './support/nspawn';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { startTemporalTestServer, TemporalTestServer } from './support/temporal';

jest.setTimeout(600_000);

let temporal: TemporalTestServer;
let pg: TestDatabase;
let work: string;
let farm: Farm;
let clone: string;
let client: Client;
let importer: { worker: Worker; running: Promise<void>; connection: NativeConnection } | undefined;
let driver: { worker: Worker; running: Promise<void> } | undefined;
const DRIVER_QUEUE = 'trust-test-driver';
const saved = { url: process.env.SUMMIT_API_URL, token: process.env.SUMMIT_TOKEN };

const idOf = (source: string) => `build/trust/recipes/${source}-1.0.0-1/x86_64`;
interface BuilderView { id: string; trust: string | null; state: string; enrolledAt: string | null }

async function api<T>(path: string): Promise<T> {
  return (await (await fetch(`${farm.api.url}${path}`)).json()) as T;
}

async function task(source: string): Promise<{ task: TaskView & { artefacts?: Artefact[] } } | undefined> {
  const res = await fetch(`${farm.api.url}/api/tasks/${encodeURIComponent(idOf(source))}`);
  return res.status === 200 ? ((await res.json()) as { task: TaskView }) : undefined;
}

async function builderView(id: string): Promise<BuilderView | undefined> {
  return (await api<{ items: BuilderView[] }>('/api/builders')).items.find((b) => b.id === id);
}

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await summitCli(argv, { out: (t) => { out += `${t}\n`; }, err: (t) => { err += `${t}\n`; } });
  return { code, out, err };
}

const log = (id: string) => readFileSync(farm.builders.get(id)!.logFile, 'utf8');
const rounds = async (): Promise<number> => (await client.workflow.getHandle(HUB_WORKFLOW_ID).query(hubStateQuery)).rounds ?? 0;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }).trim();
}

async function push(source: string, build: string): Promise<void> {
  mkdirSync(join(clone, source));
  writeFileSync(join(clone, source, 'stone.yaml'), recipeYaml({ name: source, version: '1.0.0', build }));
  git(clone, 'add', '-A');
  git(clone, 'commit', '-q', '-m', source);
  await promisify(execFile)('git', ['push', '-q', 'origin', 'main'], { cwd: clone });
}

/** The build logs a builder has written (one per build it ran). */
function buildLogs(id: string): string[] {
  const dir = join(farm.builders.get(id)!.dataDir, 'avalanche', 'logs');
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** A forged result as a hostile party would hand it on: claimed from `builderId`, served from http://127.0.0.1:9. */
function forgedResult(builderId: string, key: string | undefined, signedServer = 'http://127.0.0.1:9'): ImportRequest['build'] & { builderId: BuilderId } {
  const artefacts: Artefact[] = [{ name: 'first-1.0.0-1-1-x86_64.stone', kind: 'stone', size: 1, sha256: 'a'.repeat(64) }];
  const buildId = idOf('first');
  return {
    builderId: builderId as BuilderId, artefactBaseUrl: 'http://127.0.0.1:9', artefactToken: 'forged', artefacts,
    ...(key ? { signature: signBuildFacts(key, { buildId, builderId, artefactBaseUrl: signedServer, artefacts }) } : {}),
  };
}

/** Run a workflow of test/fixtures/vessel on vessel's queue: `done` when it completes, the refusal's reason when it fails. */
async function refusalOf<A>(workflow: (req: A) => Promise<unknown>, req: A, done: string): Promise<string> {
  try {
    await client.workflow.execute(workflow, { taskQueue: VESSEL_QUEUE, workflowId: `claim-${Math.random().toString(36).slice(2)}`, args: [req] });
    return done;
  } catch (err) {
    const cause = err instanceof WorkflowFailedError ? err.cause?.cause : undefined;
    if (cause instanceof ApplicationFailure) return `${cause.type}: ${cause.message}`;
    throw err;
  }
}

/**
 * Vessel's import activity, as the build workflow calls it, with a result claimed from `builderId` and signed with
 * `key` (or unsigned) for the artefact server `signedServer` (the result names http://127.0.0.1:9), or with a real
 * result: the refusal's reason, or 'imported'.
 */
async function claim(builderId: string, key: string | undefined, purpose: ImportRequest['purpose'] = 'official', real?: BuildResult, signedServer?: string): Promise<string> {
  const req: ImportRequest = real
    ? { buildId: real.buildId, index: purpose === 'official' ? 'main' : 'try-first', architecture: 'x86_64', purpose, build: real }
    : { buildId: idOf('first') as BuildId, index: 'main', architecture: 'x86_64', purpose, build: forgedResult(builderId, key, signedServer) };
  return refusalOf(importWorkflow, req, 'imported');
}

/**
 * Vessel's compare activity for a verification rebuild claimed from `builderId` (as the verification workflow asks
 * it), signed with `key` (or unsigned): the refusal's reason, or 'compared'. Nothing is fetched before the check.
 */
async function claimRebuild(builderId: string, key: string | undefined): Promise<string> {
  const req: CompareRequest = { buildId: idOf('first') as BuildId, index: 'main', published: [], rebuild: forgedResult(builderId, key) };
  return refusalOf(compareWorkflow, req, 'compared');
}

const keyOf = (id: string) => readFileSync(identityPaths(farm.builders.get(id)!.dataDir).key, 'utf8');

describeWhenAvailable(nspawnUnavailableReason(), 'builder enrolment and trust', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'summit-trust-'));
    [temporal, pg] = await Promise.all([startTemporalTestServer(), createTestDatabase('trust')]);
    farm = await startFarm({ work, temporalAddress: temporal.address, databaseUrl: pg.url });
    process.env.SUMMIT_API_URL = farm.api.url;
    process.env.SUMMIT_TOKEN = farm.adminToken;
    const connection = await Connection.connect({ address: temporal.address });
    const dataConverter = dataConverterFor({ payloadKeys: farm.payloadKeys });
    client = new Client({ connection, dataConverter });
    ({ clone } = await hookedRepository(farm, work, 'trust'));
    // The workflow that calls vessel's import activity, on vessel's queue: the farm's vessel worker runs it.
    const workerConnection = await NativeConnection.connect({ address: temporal.address });
    const worker = await Worker.create({
      connection: workerConnection,
      taskQueue: VESSEL_QUEUE, dataConverter,
      workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/vessel/workflows'), logger: { log: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined, trace: () => undefined } }),
    });
    importer = { worker, running: worker.run(), connection: workerConnection };
    // A workflow that schedules one build activity on a queue the test names (the shared queue, as a try build's).
    const drive = await Worker.create({
      connection: workerConnection, taskQueue: DRIVER_QUEUE, dataConverter,
      workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/avalanche/workflows'), logger: { log: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined, trace: () => undefined } }),
    });
    driver = { worker: drive, running: drive.run() };
  });

  afterAll(async () => {
    importer?.worker.shutdown();
    driver?.worker.shutdown();
    await importer?.running.catch(() => undefined);
    await driver?.running.catch(() => undefined);
    await importer?.connection.close();
    await client?.connection.close();
    await farm?.stop();
    await temporal?.stop();
    await pg?.drop();
    if (work) rmSync(work, { recursive: true, force: true });
    for (const [k, v] of [['SUMMIT_API_URL', saved.url], ['SUMMIT_TOKEN', saved.token]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('an unenrolled builder refuses to start polling and is given nothing', async () => {
    const stranger = await farm.startBuilder('stranger', {}, [], 'none');
    const code = await new Promise<number | null>((resolve) => stranger.child.once('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(log('stranger')).toMatch(/builder stranger is not enrolled: start it once with SUMMIT_ENROL_TOKEN/);
    expect(await builderView('stranger')).toBeUndefined();
    expect(await api('/api/builders/stranger/standing')).toMatchObject({ builderId: 'stranger', enrolled: false, trust: null });
  });

  it('a community builder enrols with a one-time token and never receives an official build', async () => {
    // The token from the CLI, spent by the builder; a second builder cannot spend it again.
    const issued = await cli('builders', 'enrol-token', '--trust', 'community', '--expires', '1h', '--json');
    expect(issued.code).toBe(0);
    const { token } = JSON.parse(issued.out) as { token: string };
    await farm.startBuilder('community', { SUMMIT_ENROL_TOKEN: token });
    const seen = await waitFor('the community builder to report', () => builderView('community'), 90_000, async () => log('community').slice(-2000));
    expect(seen).toMatchObject({ trust: 'community', state: 'enrolled', enrolledAt: expect.any(String) });
    expect(statSync(identityPaths(farm.builders.get('community')!.dataDir).key).mode & 0o777).toBe(0o600);
    expect(log('community')).toMatch(/enrolled \(community\); queues avalanche-shared-x86_64, avalanche-builder-community;/);
    const again = await fetch(`${farm.api.url}/api/builders/enrol`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, builderId: 'thief', publicKey: publicKeyText(generateKeyPairSync('ed25519').publicKey) }),
    });
    expect(again.status).toBe(401);
    expect(await again.text()).toMatch(/already used \(by builder community\)/);
    const list = await cli('builders', 'list');
    expect(list.out).toMatch(/^community .* community +enrolled /m);

    await push('first', 'install -Dm644 /dev/null %(installroot)%(datadir)/first/done');
    await waitFor('the task to exist', () => task('first'), 60_000);
    const from = await rounds();
    // Three planning rounds with the task ready and only a community builder alive: nothing dispatched to it.
    await waitFor('three more planning rounds', async () => ((await rounds()) >= from + 3 ? true : undefined), 60_000);
    expect((await task('first'))!.task.status).toBe('new');
    expect(buildLogs('community')).toEqual([]);

    // A build on the shared queue (as a try build's) does reach it, and comes back signed by it; vessel imports
    // it for a try build and refuses it for an official one.
    const result = await client.workflow.execute(buildOnce, {
      taskQueue: DRIVER_QUEUE, workflowId: 'try-first-on-community',
      args: [{ buildId: `${idOf('first')}/try` as BuildId, repoUrl: join(work, 'recipes.git'), commit: git(clone, 'rev-parse', 'HEAD'), recipePath: 'first', source: 'first', version: '1.0.0', release: 1, isa: 'x86_64', buildRelease: 1 }, sharedQueue('x86_64')],
    });
    expect(result).toMatchObject({ builderId: 'community', signature: expect.any(String) });
    expect(await claim('community', undefined, 'official', result)).toBe('ImportRefused: builder community is community; official builds are imported only from trusted builders');
    expect(await claim('community', undefined, 'try', result)).toBe('imported');
  });

  it('trusted builders take the official build, and vessel imports one only from a trusted builder it can verify', async () => {
    await farm.startBuilder('trusted-a');
    await farm.startBuilder('trusted-b');
    const done = await waitFor('first to be published', async () => {
      const t = (await task('first'))?.task;
      return t?.status === 'completed' ? t : undefined;
    }, 240_000, async () => JSON.stringify(await task('first')));
    expect(['trusted-a', 'trusted-b']).toContain(done.builder);
    // The community builder's only build is the try build above: the official one never reached it.
    expect(buildLogs('community').filter((n) => !n.startsWith(encodeURIComponent(`${idOf('first')}/try`)))).toEqual([]);

    // Claimed from the community builder, signed with its own key: it is not trusted.
    expect(await claim('community', keyOf('community'))).toBe('ImportRefused: builder community is community; official builds are imported only from trusted builders');
    // Claimed from a trusted builder but signed with another key (the community builder's, a fresh one), or unsigned.
    expect(await claim('trusted-a', keyOf('community'))).toMatch(/^ImportRefused: the build result's signature does not verify against the key registered for builder trusted-a \(trusted\)/);
    expect(await claim('trusted-a', generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())).toMatch(/does not verify against the key registered for builder trusted-a/);
    expect(await claim('trusted-a', undefined)).toBe('ImportRefused: the build result of builder trusted-a (trusted) is not signed');
    // Signed by trusted-a's own key, but for another artefact server than the result names: sent elsewhere on its way.
    expect(await claim('trusted-a', keyOf('trusted-a'), 'official', undefined, 'http://127.0.0.1:8090'))
      .toMatch(/^ImportRefused: the build result's signature does not verify against the key registered for builder trusted-a \(trusted\): not built by that builder, or altered \(build id, artefact server/);
    // A verification rebuild is checked the same way before anything is fetched (its mismatches count against a
    // builder): unsigned, or signed with another builder's key, it is refused.
    expect(await claimRebuild('trusted-b', undefined)).toBe('ImportRefused: the build result of builder trusted-b (trusted) is not signed');
    expect(await claimRebuild('trusted-b', keyOf('community'))).toMatch(/^ImportRefused: the build result's signature does not verify against the key registered for builder trusted-b \(trusted\)/);
    // A builder the registry never enrolled.
    expect(await claim('stranger', generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString())).toBe('ImportRefused: builder stranger is not enrolled in the builder registry; its official build is not imported');
  });

  it('revoking a builder stops its running build at once; another builder completes it; vessel refuses the revoked builder', async () => {
    await push('slow', 'sleep 45\n    install -Dm644 /dev/null %(installroot)%(datadir)/slow/done');
    const running = await waitFor('slow to be building', async () => {
      const t = (await task('slow'))?.task;
      return t?.status === 'building' && t.builder ? t : undefined;
    }, 120_000, async () => JSON.stringify(await task('slow')));
    const victim = running.builder!;
    const other = victim === 'trusted-a' ? 'trusted-b' : 'trusted-a';
    const revokedAt = Date.now();
    const revoked = await cli('builders', 'revoke', victim, '--reason', 'host compromised');
    expect(revoked).toMatchObject({ code: 0, out: `${victim}: revoked; it takes nothing new and its running builds are stopped and requeued\n` });
    await waitFor('the revoked builder to stop its build', async () => (/is revoked: polling nothing, 1 running build\(s\) stopped and handed back/.test(log(victim)) ? true : undefined), 30_000, async () => log(victim).slice(-2000));
    // Stopped, not ended: the 45 s build never finished there (it completes on the other builder below).
    console.log(`figure: revocation to the build stopped on ${victim}: ${((Date.now() - revokedAt) / 1000).toFixed(1)} s (heartbeat 2 s)`);
    expect(log(victim)).toMatch(new RegExp(`taking no new build: builder ${victim} is revoked by admin: host compromised`));
    const done = await waitFor('slow to be completed elsewhere', async () => {
      const t = (await task('slow'))?.task;
      return t?.status === 'completed' ? t : undefined;
    }, 240_000, async () => JSON.stringify(await task('slow')));
    expect(done.builder).toBe(other);
    expect(await builderView(victim)).toMatchObject({ state: 'revoked' });
    expect(await claim(victim, keyOf(victim))).toBe(`ImportRefused: builder ${victim} (trusted) is revoked: host compromised`);
    // The remaining trusted builder is the one left to drain below.
    expect(await cli('builders', 'trust', victim, 'community')).toMatchObject({ code: 1, err: expect.stringMatching(/revoked; enrol it again/) });
  });

  it('a drain closes a builder\'s slot gate and a resume opens it; a trust change moves it to the official queue', async () => {
    const id = (await task('slow'))!.task.builder!;
    expect((await cli('builders', 'drain', id, '--reason', 'kernel update')).code).toBe(0);
    await waitFor('the builder to close its gate', async () => (new RegExp(`taking no new build: builder ${id} is drained by admin: kernel update`).test(log(id)) ? true : undefined), 30_000, async () => log(id).slice(-2000));
    expect((await cli('builders', 'resume', id)).code).toBe(0);
    await waitFor('the builder to open its gate', async () => (/avalanche: taking builds again/.test(log(id)) ? true : undefined), 30_000, async () => log(id).slice(-2000));

    expect(await cli('builders', 'trust', 'community', 'trusted', '--reason', 'audited')).toMatchObject({ code: 0, out: 'community: trusted\n' });
    await waitFor('the promoted builder to poll the official queue', async () => (/builder community is trusted now: polling avalanche-x86_64, avalanche-builder-community/.test(log('community')) ? true : undefined), 30_000, async () => log('community').slice(-2000));
    expect(await claim('community', keyOf('community'))).not.toMatch(/official builds are imported only from trusted builders/);
  });
});
