/**
 * Hostile recipes through the real pipeline (Temporal dev server, PostgreSQL, git, systemd-nspawn): a repository
 * holding a binary file, an alias bomb, a deeply nested file, a 50 MB file, badly named and badly versioned
 * recipes next to a good one. The good one must be built and published; each bad one must be listed with its
 * reason by GET /api/repositories/:id and in the hub's Temporal details; the farm (API, summit and vessel live
 * in this very process) must keep answering /health within a second and keep its memory bounded. Beside it, a
 * repository whose URL does not exist must fail at once, without retries, and one whose fetch hangs (its HEAD
 * is a FIFO nobody writes) must hold nothing up.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Client, Connection } from '@temporalio/client';
import { HUB_WORKFLOW_ID, QUERY_HUB_STATE, type HubState } from '../core/contracts/hub';
import { readIndex } from '../core/formats/repo-index';
import { parseRootIndex, resolveIndexPath } from '../core/formats/root-index';
import { Farm, startFarm, waitFor } from './helpers/farm';
import { recipeYaml, TestRepo } from './helpers/git-repo';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { startTemporalTestServer, TemporalTestServer } from './support/temporal';
import { dataConverterFor } from '../workers/temporal';
import { AesGcmPayloadCodec, parsePayloadKeys } from '../core/payload-codec';

jest.setTimeout(600_000);

let temporal: TemporalTestServer;
let pg: TestDatabase;
let work: string;
let farm: Farm;
let repo: TestRepo;
let stuck: string;
let client: Client;
let connection: Connection;

async function hubState(): Promise<HubState> {
  return client.workflow.getHandle(HUB_WORKFLOW_ID).query<HubState>(QUERY_HUB_STATE);
}

const HEAD = (name: string, version = '"1.0"') => `name: ${name}\nversion: ${version}\nrelease: 1\nhomepage: https://example.org\nlicense: MIT\n`;

function aliasBomb(): string {
  const levels = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 12; i++) levels.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(',')}]`);
  return `${HEAD('bomb')}${levels.join('\n')}\n`;
}

/** What each bad recipe must be refused for, by path. */
const EXPECTED: Record<string, RegExp> = {
  'binary/stone.yaml': /not UTF-8 at byte \d+/,
  'bomb/stone.yaml': /the document expands to more than 100000 nodes/,
  'deep/stone.yaml': /values are nested more than 64 levels deep/,
  'huge/stone.yaml': /the file is 5\d{7} bytes, more than the 1048576-byte limit for a recipe: not read/,
  'evil-dots/stone.yaml': /name: the name "\.\.\/evil" may hold only letters, digits/,
  'evil-slash/stone.yaml': /name: the name "a\/b" may hold only letters, digits/,
  'evil-shell/stone.yaml': /name: the name "\$\(touch x\)" may hold only letters, digits/,
  'beta/stone.yaml': /version: the version "1\.0 beta" may hold only letters, digits/,
};

async function api<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${farm.api.url}${path}`, init);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

const admin = () => ({ authorization: `Bearer ${farm.adminToken}`, 'content-type': 'application/json' });

interface RepositoryView {
  id: string;
  lastCommit: string | null;
  invalidRecipes: Array<{ path: string; commit: string; errors: string[] }>;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'summit-security-intake-'));
  [temporal, pg] = await Promise.all([startTemporalTestServer(), createTestDatabase('security_intake')]);
  farm = await startFarm({ work, temporalAddress: temporal.address, databaseUrl: pg.url });
  await farm.startBuilder('av1');
  connection = await Connection.connect({ address: temporal.address });
  client = new Client({ connection, dataConverter: dataConverterFor({ payloadKeys: farm.payloadKeys }) });
  // A repository whose fetch hangs: git blocks opening its HEAD, a FIFO, until the test writes to it.
  stuck = join(work, 'stuck.git');
  execFileSync('git', ['init', '-q', '--bare', stuck]);
  rmSync(join(stuck, 'HEAD'));
  execFileSync('mkfifo', [join(stuck, 'HEAD')]);

  repo = new TestRepo(join(work, 'recipes'));
  repo.write('good/stone.yaml', recipeYaml({ name: 'good', version: '1.0.0', build: 'install -Dm644 /dev/null %(installroot)%(datadir)/good/ok' }));
  repo.write('binary/stone.yaml', Buffer.concat([Buffer.from(HEAD('binary')), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0xff, 0xfe, 0x00, 0x80])]));
  repo.write('bomb/stone.yaml', aliasBomb());
  // Just under the size cap: only the nesting check stands between this file and the recursive YAML composer.
  repo.write('deep/stone.yaml', `${HEAD('deep')}builddeps: ${'['.repeat(500_000)}${']'.repeat(500_000)}\n`);
  const line = '    - a-long-line-of-build-dependency-text-that-goes-on-and-on\n';
  repo.write('huge/stone.yaml', `${HEAD('huge')}builddeps:\n${line.repeat(Math.ceil(50e6 / line.length))}`);
  repo.write('evil-dots/stone.yaml', HEAD('../evil'));
  repo.write('evil-slash/stone.yaml', HEAD('a/b'));
  repo.write('evil-shell/stone.yaml', HEAD('"$(touch x)"'));
  repo.write('beta/stone.yaml', HEAD('beta', '"1.0 beta"'));
  repo.commit('one good recipe among hostile ones');
});

afterAll(async () => {
  await connection?.close();
  await farm?.stop();
  await temporal?.stop();
  await pg?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('intake of hostile recipes', () => {
  let view: RepositoryView;
  const latencies: number[] = [];
  let rssBefore = 0;
  let rssPeak = 0;

  it('lists every bad recipe with its reason while /health keeps answering, and refuses an unknown URL at once', async () => {
    // Warm: the first /health opens the API's connections; that cost is not intake's.
    expect((await fetch(`${farm.api.url}/health`)).status).toBe(200);
    // Baseline: the same probes on the idle farm, for comparison in the report.
    const idle = monitorEventLoopDelay({ resolution: 10 });
    idle.enable();
    const idleLatencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      await (await fetch(`${farm.api.url}/health`)).text();
      idleLatencies.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, 50));
    }
    idle.disable();
    console.log(`security-intake: idle farm: /health max ${Math.max(...idleLatencies).toFixed(0)} ms, event loop delay max ${(idle.max / 1e6).toFixed(0)} ms`);
    rssBefore = process.memoryUsage().rss;
    // How long this process's event loop was held up: separates blocking work from a merely busy machine.
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const t0 = performance.now();
    const timeline: string[] = [];
    // Probe /health back to back for the whole intake: the API shares this process with summit's activities.
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const started = performance.now();
        const res = await fetch(`${farm.api.url}/health`);
        await res.text();
        latencies.push(performance.now() - started);
        timeline.push(`${(started - t0).toFixed(0)}:${(performance.now() - started).toFixed(0)}`);
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      for (const [id, url] of [['stuck', stuck], ['missing', join(work, 'no-such-repository.git')], ['recipes', repo.dir]]) {
        expect((await api('/api/repositories', { method: 'POST', headers: admin(), body: JSON.stringify({ id, project: 'sec', url, ref: 'main' }) })).status).toBe(201);
        expect((await api(`/api/repositories/${id}/refresh`, { method: 'POST', headers: { authorization: `Bearer ${farm.hookToken}` } })).status).toBe(202);
      }
      view = await waitFor('intake of the hostile repository', async () => {
        const { body } = await api<RepositoryView>('/api/repositories/recipes');
        return body.lastCommit ? body : undefined;
      }, 300_000);
    } finally {
      probing = false;
      await probe;
      loopDelay.disable();
    }
    const max = Math.max(...latencies);
    const median = [...latencies].sort((a, b) => a - b)[Math.floor(latencies.length / 2)];
    console.log(`security-intake: /health probed ${latencies.length} times during intake, median ${median.toFixed(0)} ms, max ${max.toFixed(0)} ms; ` +
      `event loop delay max ${(loopDelay.max / 1e6).toFixed(0)} ms; RSS ${(rssBefore / 2 ** 20).toFixed(0)} MiB before, peak ${(rssPeak / 2 ** 20).toFixed(0)} MiB\n` +
      `  probes (start ms:latency ms): ${timeline.join(' ')}`);
    expect(latencies.length).toBeGreaterThan(3);
    // The issue's bound: parsing is off this event loop, so the API answers within a second throughout.
    expect(max).toBeLessThan(1000);
    // The 50 MB file is never read and parsing happens in a thread with a 256 MiB heap: nothing near the
    // 4.6 GB the synchronous parse reached.
    expect(rssPeak - rssBefore).toBeLessThan(512 * 2 ** 20);

    expect(view.invalidRecipes.map((r) => r.path).sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const bad of view.invalidRecipes) {
      expect(bad.commit).toBe(view.lastCommit);
      expect(bad.errors.join('\n')).toMatch(EXPECTED[bad.path]);
    }
    // Each refusal names the file and, where there is one, the line.
    expect(view.invalidRecipes.find((r) => r.path === 'beta/stone.yaml')!.errors).toEqual([
      'beta/stone.yaml:2:10 version: the version "1.0 beta" may hold only letters, digits and . _ + ~ - (starting with a letter or digit)',
    ]);
    expect((await api('/api/repositories/nothing-here')).status).toBe(404);
  });

  it('read that repository while the hanging one was still being fetched, then ends the hanging one', async () => {
    expect((await hubState()).runningRefreshes).toEqual(['stuck']);
    // The hanging intake heartbeats (what Temporal watches with the 30 s heartbeat timeout), saying where it is.
    const pending = await waitFor('a heartbeat from the hanging intake', async () => {
      const { raw } = await client.workflow.getHandle(HUB_WORKFLOW_ID).describe();
      return raw.pendingActivities?.find((a) => a.activityType?.name === 'refreshRepository' && a.lastHeartbeatTime) ?? undefined;
    }, 60_000);
    // Heartbeat details are payloads like any other: encrypted by the farm's codec (describe() does not decode them).
    const codec = new AesGcmPayloadCodec(parsePayloadKeys(farm.payloadKeys, 'the farm key'));
    const [details] = await codec.decode([pending.heartbeatDetails!.payloads![0]]);
    expect(JSON.parse(Buffer.from(details.data!).toString('utf8'))).toEqual({ stage: 'fetching', read: 0, total: 0 });
    // Give the blocked git an end of file on its HEAD (a writer opens and closes the FIFO) until intake gives up.
    await waitFor('the hanging intake to end', async () => {
      try {
        closeSync(openSync(join(stuck, 'HEAD'), constants.O_WRONLY | constants.O_NONBLOCK));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err; // ENXIO: no reader at this moment
      }
      return (await hubState()).runningRefreshes?.includes('stuck') ? undefined : true;
    }, 120_000);
  });

  it('builds and publishes the good recipe next to them, and nothing else', async () => {
    const id = 'build/sec/recipes/good-1.0.0-1/x86_64';
    await waitFor('good to be completed', async () => {
      const { body } = await api<{ items: Array<{ id: string; status: string }> }>('/api/tasks?limit=50');
      return body.items.find((t) => t.id === id)?.status === 'completed' ? true : undefined;
    }, 300_000, async () => JSON.stringify((await api('/api/tasks?limit=50')).body));
    const { body } = await api<{ items: Array<{ source: string }> }>('/api/tasks?repository=recipes&limit=50');
    expect(body.items.map((t) => t.source)).toEqual(['good']);
    const index = join(farm.reposDir, 'main');
    // Completed is built and staged: its wave publishes it a moment later.
    await waitFor('the wave of good to be published', async () => (existsSync(join(index, 'moss-root-index.json')) ? true : undefined), 120_000);
    const root = parseRootIndex(readFileSync(join(index, 'moss-root-index.json'), 'utf8'));
    const path = join(index, resolveIndexPath(root, 'volatile', 'x86_64')!);
    // build-root (the build root's C library and loader, when a package links to them) is the repository's own.
    expect((await readIndex(readFileSync(path), path)).map((e) => e.name).filter((n) => n !== 'build-root')).toEqual(['good']);
  });

  it('shows the invalid recipes in the hub details, and the unknown URL as failed after one attempt', async () => {
    {
      const hub = client.workflow.getHandle(HUB_WORKFLOW_ID);
      const details = await waitFor('the hub details to list both repositories', async () => {
        const meta = await hub.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
        const text = meta.currentDetails ?? '';
        return text.includes('**recipes**') && text.includes('**missing**') ? text : undefined;
      }, 60_000);
      expect(details).toContain('**recipes** at');
      expect(details).toContain('1 recipe(s) read, 8 invalid');
      for (const path of Object.keys(EXPECTED)) expect(details).toContain(`\`${path}\``);
      expect(details).toMatch(/\*\*missing\*\*: failed: repository "missing": the repository does not exist at this URL/);

      // Non-retryable: every failed intake of "missing" ran exactly one attempt.
      const events = (await hub.fetchHistory()).events ?? [];
      const byId = new Map(events.map((e) => [e.eventId?.toString(), e]));
      // Activity inputs are encrypted by the farm's payload codec: decode each scheduled intake's request.
      const codec = new AesGcmPayloadCodec(parsePayloadKeys(farm.payloadKeys, 'the farm key'));
      const repositoryById = new Map<string, string>();
      for (const e of events) {
        const input = e.activityTaskScheduledEventAttributes?.input?.payloads?.[0];
        if (e.activityTaskScheduledEventAttributes?.activityType?.name !== 'refreshRepository' || !input) continue;
        const [plain] = await codec.decode([input]);
        repositoryById.set(String(e.eventId), (JSON.parse(Buffer.from(plain.data!).toString('utf8')) as { repository: string }).repository);
      }
      const repositoryOf = (scheduledId: unknown): string => repositoryById.get(String(scheduledId)) ?? '';
      const failed = events.map((e) => e.activityTaskFailedEventAttributes).filter((a) => a && repositoryOf(a.scheduledEventId) === 'missing');
      // The poll Schedule (every hour, on the hour) may read it once more during the test: each intake of it failed
      // at its first attempt.
      expect(failed.length).toBeGreaterThanOrEqual(1);
      const scheduled = events.map((e) => e.activityTaskScheduledEventAttributes).filter((a) => a?.activityType?.name === 'refreshRepository');
      expect(scheduled.map((a) => Number(a!.heartbeatTimeout?.seconds))).toEqual(scheduled.map(() => 30));
      for (const f of failed) expect(byId.get(String(f!.startedEventId))!.activityTaskStartedEventAttributes!.attempt).toBe(1);
    }
  });

  it('leaves no trace of the shell name anywhere it could have run', () => {
    // `$(touch x)` was only ever data: no file named x in the work folder, the mirror or the builder's folder.
    const found = execFileSync('find', [work, '-name', 'x', '-newer', join(work, 'recipes', 'good', 'stone.yaml')], { encoding: 'utf8' }).trim();
    expect(found).toBe('');
  });
});
