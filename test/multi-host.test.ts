/**
 * Several build hosts for real: each avalanche builder runs in a network namespace of its own (test/support/
 * netns.ts), joined to the "farm network" by a veth pair and with its own address there. Temporal, the API, vessel's
 * repository server and the recipe repository (git daemon) listen on the farm network's address, so a builder
 * reaches them only over its link; each builder serves its artefacts on its own address, where vessel fetches
 * them. Pulling one host's cable mid-build makes Temporal retry the build on the other host (the activity
 * heartbeat times out), and the package is published exactly once. Every part is real: dev server, PostgreSQL,
 * summit, vessel, nspawn builds.
 */
import { ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { main as summitCli } from '../cli/main';
import type { ImportRequest } from '../core/contracts/build';
import { readIndex } from '../core/formats/repo-index';
import { parseRootIndex, resolveIndexPath } from '../core/formats/root-index';
import { stopChild } from '../workers/dev-server';
import { dataConverterFor } from '../workers/temporal';
import { Farm, startFarm, waitFor, type TaskView } from './helpers/farm';
import { recipeYaml } from './helpers/git-repo';
import { describeWhenAvailable } from './support/ci';
import { createFarmNetwork, netnsUnavailableReason, type FarmNetwork, type NetHost } from './support/netns';
import { nspawnUnavailableReason } from './support/nspawn';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { freePort, startTemporalTestServer, TemporalTestServer } from './support/temporal';

jest.setTimeout(600_000);

const EXAMPLES = resolve(__dirname, '..', 'examples', 'recipes');
/** Every host serves its artefacts on the same port: each has a network namespace, so a port space, of its own. */
const ARTEFACT_PORT = 8090;

let net: FarmNetwork;
let temporal: TemporalTestServer;
let pg: TestDatabase;
let work: string;
let farm: Farm;
let gitDaemon: ChildProcess | undefined;
let clone: string;
let vesselPort: number;
/** Temporal's frontend on the farm network. */
let temporalAddress: string;
const hostOf = new Map<string, NetHost>();

const taskId = (source: string) => `build/hosts/recipes/${source}-1.0.0-1/x86_64`;

async function api<T>(path: string): Promise<T> {
  const res = await fetch(`${farm.api.url}${path}`);
  return (await res.json()) as T;
}

async function task(id: string): Promise<{ task: TaskView; events: Array<{ from: string | null; to: string; reason?: string | null }> }> {
  return api(`/api/tasks/${encodeURIComponent(id)}`);
}

function waitStatus(id: string, wanted: string, timeoutMs = 240_000): Promise<true> {
  return waitFor(`${id} to be ${wanted}`, async () => ((await task(id).catch(() => undefined))?.task?.status === wanted ? true : undefined), timeoutMs, async () =>
    (await api<{ items: TaskView[] }>('/api/tasks?limit=50')).items.map((t) => `${t.id} ${t.status} ${t.builder ?? ''} ${t.reason ?? ''}`).join('\n'));
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }).trim();
}

/** Commit and push (asynchronously: the hook calls the API in this very process). */
async function push(message: string): Promise<void> {
  git(clone, 'add', '-A');
  git(clone, 'commit', '-q', '-m', message);
  const { stderr } = await promisify(execFile)('git', ['push', '-q', 'origin', 'main'], { cwd: clone });
  expect(stderr).toMatch(/summit: reported recipes/);
}

/** Whether a TCP connection to addr:port from inside `host` succeeds (a node one-liner run in its namespace). */
async function reachableFrom(host: NetHost, addr: string, port: number): Promise<boolean> {
  const probe = `require('net').connect({host:'${addr}',port:${port},timeout:2000}).on('connect',()=>process.exit(0)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))`;
  const [cmd, ...args] = [...host.prefix, process.execPath, '-e', probe];
  return promisify(execFile)(cmd, args).then(() => true, () => false);
}

async function listening(addr: string, port: number): Promise<true | undefined> {
  return new Promise((done) => {
    const socket = createConnection({ host: addr, port }, () => { socket.destroy(); done(true); });
    socket.on('error', () => done(undefined));
  });
}

/** The published index of `main` (root index → volatile → history stone.index). */
async function publishedNames(): Promise<string[]> {
  const repo = join(farm.reposDir, 'main');
  const root = parseRootIndex(readFileSync(join(repo, 'moss-root-index.json'), 'utf8'));
  const path = join(repo, resolveIndexPath(root, 'volatile', 'x86_64')!);
  return (await readIndex(readFileSync(path), path)).map((e) => e.name);
}

/** Where vessel was told to fetch each import of a build from: the importArtefacts inputs in its workflow history. */
async function importSources(id: string): Promise<string[]> {
  const connection = await Connection.connect({ address: temporalAddress });
  try {
    const client = new Client({ connection });
    const codec = dataConverterFor({ payloadKeys: farm.payloadKeys })!.payloadCodecs![0];
    const history = await client.workflow.getHandle(id).fetchHistory();
    const urls: string[] = [];
    for (const e of history.events ?? []) {
      const scheduled = e.activityTaskScheduledEventAttributes;
      // A build of a wave is staged (stageArtefacts); one without a wave is imported and published (importArtefacts).
      if (scheduled?.activityType?.name !== 'importArtefacts' && scheduled?.activityType?.name !== 'stageArtefacts') continue;
      const [payload] = await codec.decode(scheduled.input!.payloads!);
      urls.push(defaultPayloadConverter.fromPayload<ImportRequest>(payload).build.artefactBaseUrl);
    }
    return urls;
  } finally {
    await connection.close();
  }
}

const unavailable = nspawnUnavailableReason() ?? netnsUnavailableReason();

describeWhenAvailable(unavailable, 'builders on separate hosts, reaching the farm only over their own link', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'summit-hosts-'));
    net = createFarmNetwork();
    // The dev server dials its own internal services on 127.0.0.1 whatever --ip says (with --ip 10.x.y.1 they
    // fail with "connection refused"): it listens on every address, and the hosts are given the farm network's.
    [temporal, pg] = await Promise.all([startTemporalTestServer({ ip: '0.0.0.0' }), createTestDatabase('hosts')]);
    temporalAddress = `${net.address}:${temporal.address.split(':')[1]}`;
    vesselPort = await freePort();
    farm = await startFarm({
      work, temporalAddress, databaseUrl: pg.url,
      env: {
        SUMMIT_API_HOST: net.address,
        SUMMIT_VESSEL_HOST: net.address,
        SUMMIT_VESSEL_PORT: String(vesselPort),
        // Builders fetch published dependencies from vessel's repository server, over their link.
        SUMMIT_PACKAGES_URL: `http://${net.address}:${vesselPort}`,
      },
    });

    // The recipe repository, served read-only by git daemon on the farm network (builders clone it from there).
    const bare = join(work, 'recipes.git');
    git(work, 'init', '-q', '--bare', '-b', 'main', bare);
    const gitPort = await freePort();
    gitDaemon = spawn('git', ['daemon', '--reuseaddr', `--listen=${net.address}`, `--port=${gitPort}`, '--export-all', `--base-path=${work}`, work], { stdio: 'ignore' });
    await waitFor('git daemon to listen', () => listening(net.address, gitPort), 30_000);
    const installed = await summitCli(['hook', 'install', bare, '--repository', 'recipes', '--url', farm.api.url, '--token', farm.hookToken, '--ref', 'main'], { out: () => undefined, err: (t) => console.error(t) });
    expect(installed).toBe(0);
    const created = await fetch(`${farm.api.url}/api/repositories`, {
      method: 'POST', headers: { authorization: `Bearer ${farm.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'recipes', project: 'hosts', url: `git://${net.address}:${gitPort}/recipes.git`, ref: 'main' }),
    });
    expect(created.status).toBe(201);
    clone = join(work, 'clone');
    git(work, 'clone', '-q', bare, clone);
    git(clone, 'config', 'user.email', 'hosts@summit.invalid');
    git(clone, 'config', 'user.name', 'hosts');
    git(clone, 'checkout', '-q', '-b', 'main');

    for (const id of ['host-a', 'host-b']) {
      const host = net.addHost();
      hostOf.set(id, host);
      await farm.startBuilder(id, {
        SUMMIT_AVALANCHE_HOST: host.address,
        SUMMIT_AVALANCHE_PORT: String(ARTEFACT_PORT),
        SUMMIT_AVALANCHE_PUBLIC_URL: `http://${host.address}:${ARTEFACT_PORT}`,
      }, host.prefix);
    }
    await waitFor('both hosts to report to the hub', async () => {
      const { items } = await api<{ items: Array<{ id: string }> }>('/api/builders');
      return items.length >= 2 ? true : undefined;
    }, 90_000, async () => [...farm.builders.values()].map((b) => `${b.id}:\n${readFileSync(b.logFile, 'utf8').slice(-2000)}`).join('\n'));
  });

  afterAll(async () => {
    await farm?.stop();
    if (gitDaemon) await stopChild(gitDaemon);
    await temporal?.stop();
    await pg?.drop();
    net?.destroy();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('gives each host only its link: the farm answers on the farm network address, nothing on its loopback', async () => {
    const host = hostOf.get('host-a')!;
    const [temporalPort, apiPort] = [Number(temporalAddress.split(':')[1]), Number(new URL(farm.api.url).port)];
    expect(await reachableFrom(host, net.address, temporalPort)).toBe(true);
    expect(await reachableFrom(host, net.address, apiPort)).toBe(true);
    expect(await reachableFrom(host, net.address, vesselPort)).toBe(true);
    expect(await reachableFrom(host, '127.0.0.1', temporalPort)).toBe(false);
    expect(await reachableFrom(host, '127.0.0.1', apiPort)).toBe(false);
    // Both artefact servers are on the same port, each at its own host's address, where vessel reaches them.
    for (const h of hostOf.values()) expect(await listening(h.address, ARTEFACT_PORT)).toBe(true);
    const { items } = await api<{ items: Array<{ id: string; admitting: boolean; health: { memTotal: number; cpus: number } | null }> }>('/api/builders');
    for (const b of items) {
      expect(b.admitting).toBe(true);
      expect(b.health?.memTotal).toBeGreaterThan(0);
      expect(b.health?.cpus).toBeGreaterThan(0);
    }
  });

  it('builds on the hosts, fetching dependencies from vessel over the link, and vessel fetches each build from its host', async () => {
    for (const name of ['liba', 'tool']) cpSync(join(EXAMPLES, name), join(clone, name), { recursive: true });
    await push('liba, tool');
    for (const s of ['liba', 'tool']) await waitStatus(taskId(s), 'completed');
    // Completed is built and staged; the wave publishes its builds together once all of them are.
    await waitFor('the wave of liba and tool to be published', async () => (existsSync(join(farm.reposDir, 'main', 'moss-root-index.json')) && (await publishedNames()).includes('tool') ? true : undefined), 120_000);
    // build-root: the base package vessel makes from the build root (the C library and loader these link to).
    expect((await publishedNames()).sort()).toEqual(['build-root', 'liba', 'liba-devel', 'tool']);
    for (const s of ['liba', 'tool']) {
      const { task: t } = await task(taskId(s));
      const host = hostOf.get(t.builder!)!;
      expect(await importSources(taskId(s))).toEqual([`http://${host.address}:${ARTEFACT_PORT}`]);
    }
  });

  it("requeues a build on the other host when its host's link is cut mid-build, and publishes it once", async () => {
    mkdirSync(join(clone, 'sleepy'));
    writeFileSync(join(clone, 'sleepy', 'stone.yaml'), recipeYaml({ name: 'sleepy', version: '1.0.0', build: 'sleep 15 && install -Dm644 /dev/null %(installroot)%(datadir)/sleepy/done' }));
    await push('sleepy');
    const id = taskId('sleepy');
    const victimId = await waitFor('sleepy to be building on a host', async () => {
      const { task: t } = await task(id).catch(() => ({ task: undefined }));
      return t?.status === 'building' && t.builder ? t.builder : undefined;
    }, 180_000);
    const victim = hostOf.get(victimId)!;
    victim.cut();
    const cutAt = Date.now();
    const survivorId = [...hostOf.keys()].find((h) => h !== victimId)!;

    await waitStatus(id, 'completed', 300_000);
    console.log(`multi-host: ${victimId}'s link cut → sleepy (a 15 s build) published from ${[...hostOf.keys()].find((h) => h !== victimId)} after ${Date.now() - cutAt} ms`);
    const { task: done, events } = await task(id);
    expect(done.builder).toBe(survivorId);
    // Picked up by the victim first; the survivor's pickup (the second attempt) is recorded on the building task.
    expect(events.find((e) => e.to === 'building')?.reason).toContain(victimId);
    expect(events.find((e) => e.to === 'publishing')?.reason).toBe(`built on ${survivorId}`);
    expect(events.filter((e) => e.to === 'completed')).toHaveLength(1);
    expect(await importSources(id)).toEqual([`http://${hostOf.get(survivorId)!.address}:${ARTEFACT_PORT}`]);
    await waitFor('the wave of sleepy to be published', async () => ((await publishedNames()).includes('sleepy') ? true : undefined), 120_000);
    expect((await publishedNames()).filter((n) => n === 'sleepy')).toHaveLength(1);
    expect(readdirSync(join(farm.reposDir, 'main', 'pool', 's', 'sleepy'))).toEqual(['sleepy-1.0.0-1-1-x86_64.stone']);
    const logName = `${encodeURIComponent(id)}.log`;
    expect(existsSync(join(farm.builders.get(survivorId)!.dataDir, 'avalanche', 'logs', logName))).toBe(true);
  });
});
