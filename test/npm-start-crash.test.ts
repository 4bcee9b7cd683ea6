/**
 * `npm start` killed hard: kill -9 of its whole process group in the middle of the demo build, then `npm start`
 * again. No Temporal dev server outlives the farm (checked by pid and by port), the second start does not reuse
 * an orphan, the builds resume, and nothing is published twice. Then the parts that keep a farm honest: a port
 * already taken is refused with its number, the dev server dies with the node process alone (parent-death
 * signal), and a dev server that dies on its own stops `npm start` with a message.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './helpers/farm';
import { alive, listening, npmStart, pidsMentioning, publishedEntries, startNodePid, type Started, waitUntilUp, npmStartEnv } from './helpers/npm-start';
import { freePort } from './support/temporal';

jest.setTimeout(900_000);

// build-root: the base package vessel makes from the build root (the C library and loader the demo links to).
const DEMO = ['app', 'build-root', 'liba', 'liba-devel', 'tool'];
let dataDir: string;
let env: Record<string, string>;
let temporalPort: number;
const running: Started[] = [];

function filesUnder(dir: string, suffix: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith(suffix));
}

async function tasks(): Promise<Array<{ id: string; source: string; status: string }>> {
  const res = await fetch(`http://127.0.0.1:${env.SUMMIT_API_PORT}/api/tasks?limit=200`);
  return ((await res.json()) as { items: Array<{ id: string; source: string; status: string }> }).items;
}

async function gone(what: string, pids: number[]): Promise<void> {
  await waitFor(what, async () => (pids.every((p) => !alive(p)) ? true : undefined), 30_000, async () => `still alive: ${pids.filter(alive).join(' ')}`);
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'summit-crash-'));
  temporalPort = await freePort();
  env = await npmStartEnv(dataDir, temporalPort);
});

afterAll(async () => {
  // A failed assertion must not leave a farm running on the shared machine: end this test's process groups.
  for (const s of running) {
    try { process.kill(-s.child.pid!, 'SIGKILL'); } catch { /* already gone */ }
  }
  for (const pid of dataDir ? pidsMentioning(join(dataDir, 'temporal.db')) : []) process.kill(pid, 'SIGKILL');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start after kill -9', () => {
  it('leaves no orphan Temporal server when its process group is killed mid-build, and the next start resumes without publishing twice', async () => {
    const first = npmStart(env);
    running.push(first);
    await waitFor('a demo build to be running', async () => ((await tasks().catch(() => [])).some((t) => t.status === 'building') ? true : undefined),
      300_000, async () => first.output().slice(-3000));
    const servers = pidsMentioning(join(dataDir, 'temporal.db'));
    expect(servers.length).toBeGreaterThan(0);
    const before = await tasks();
    expect(before.some((t) => t.status !== 'completed')).toBe(true);

    process.kill(-first.child.pid!, 'SIGKILL');
    await first.exited;
    await gone('the Temporal dev server to die with npm start', servers);
    await waitFor(`port ${temporalPort} to be free`, async () => ((await listening(temporalPort)) ? undefined : true), 30_000);

    const second = npmStart(env);
    running.push(second);
    const published = await waitFor('every demo package in the published index', async () => {
      const names = (await publishedEntries(dataDir))?.map((e) => e.name);
      return names && DEMO.every((n) => names.includes(n)) ? names : undefined;
    }, 400_000, async () => second.output().slice(-3000));
    // A new server (not an orphan) serves the data folder's history.
    expect(pidsMentioning(join(dataDir, 'temporal.db')).some((p) => servers.includes(p))).toBe(false);
    expect([...published].sort()).toEqual(DEMO);
    const repo = join(dataDir, 'vessel', 'repos', 'main');
    expect(filesUnder(join(repo, 'pool'), '.stone')).toHaveLength(DEMO.length);
    // One published history per build at most: a build resumed after the kill is not imported a second time.
    expect(readdirSync(join(repo, 'history')).length).toBeLessThanOrEqual(3);
    const after = await tasks();
    expect(after.map((t) => `${t.source} ${t.status}`).sort()).toEqual(['app completed', 'liba completed', 'tool completed']);

    // The state it resumed from is private to this user.
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    for (const file of ['tokens.json', 'payload-keys', 'summit.db', 'temporal.db', join('avalanche', 'artefact-secret')]) {
      expect([file, (statSync(join(dataDir, file)).mode & 0o777).toString(8)]).toEqual([file, '600']);
    }

    // kill -9 of the node process alone: the kernel's parent-death signal takes the dev server with it.
    const node = startNodePid(second);
    expect(node).toBeDefined();
    const secondServers = pidsMentioning(join(dataDir, 'temporal.db'));
    process.kill(node!, 'SIGKILL');
    await gone('the Temporal dev server to die with the node process', secondServers);
    await second.exited;
  });

  it('refuses to start on a Temporal port another process holds, naming the port', async () => {
    const squatter = net.createServer();
    // A port still held (by a farm an earlier failure left running) fails here, not by hanging until the timeout.
    await new Promise<void>((resolve, reject) => squatter.once('error', reject).listen(temporalPort, '127.0.0.1', () => resolve()));
    try {
      const third = npmStart(env);
      running.push(third);
      const { code } = await third.exited;
      expect(code).not.toBe(0);
      expect(third.output()).toMatch(new RegExp(`port ${temporalPort} on 127\\.0\\.0\\.1 is already in use`));
    } finally {
      await new Promise((r) => squatter.close(r));
    }
  });

  it('stops, saying so, when the Temporal dev server dies under it', async () => {
    const fourth = npmStart(env);
    running.push(fourth);
    await waitUntilUp(fourth, 'npm start to be up', 300_000);
    const servers = pidsMentioning(join(dataDir, 'temporal.db'));
    expect(servers).toHaveLength(1);
    process.kill(servers[0], 'SIGKILL');
    const { code } = await fourth.exited;
    expect(code).not.toBe(0);
    expect(fourth.output()).toMatch(/the Temporal dev server \(pid \d+\) exited on its own \(SIGKILL\)/);
    expect(fourth.output()).toMatch(/summit: stopped/);
  });
});
