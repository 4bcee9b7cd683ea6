/**
 * `npm run test:compose` (scripts/test-compose.sh runs this file; plain `npm test` does not match it): the
 * production stack of docker-compose.yml, brought up for real from the images scripts/images.sh built here, runs
 * a wave of builds and survives a builder killed mid-build and the Temporal server restarted mid-wave.
 *
 *   up → every role answers → register a recipe repository (hook installed) → push the recipes → kill the
 *   avalanche container that is building → restart the Temporal server container while builds remain → every
 *   package published exactly once → real moss installs from vessel's repository over HTTP → down -v.
 *
 * The recipe repository is a bare repository on this machine, bind-mounted into the containers at /srv/git (a
 * compose override file, written here), with summit's post-receive hook calling the API's published port.
 * Figures (stack start, wave, recovery after the Temporal restart) are printed as `compose: …` lines.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { main as summitCli } from '../../cli/main';
import { readIndex } from '../../core/formats/repo-index';
import { parseRootIndex, resolveIndexPath } from '../../core/formats/root-index';
import { waitFor, type TaskView } from '../helpers/farm';
import { recipeYaml } from '../helpers/git-repo';

const execFileAsync = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');
const MOSS_CHECK = resolve(ROOT, '..', 'shared', 'tools', 'moss-check');
const PROJECT = `summit-compose-${process.pid}`;
const MINUTE = 60_000;

/** Slow recipes beside the demo chain (liba → tool → app): each build lasts long enough to be killed in. */
const SLOW = ['slow-a', 'slow-b', 'slow-c', 'slow-d'];
const PACKAGES = ['liba', 'tool', 'app', ...SLOW];

let work: string;
let ports: { api: number; vessel: number; temporal: number; prometheus: number; ui: number };
let env: NodeJS.ProcessEnv;
let adminToken: string;
let hookToken: string;
/** The published stone.index's URL on vessel's HTTP server, once the wave is in. */
let publishedUrl: string;
let publishedEntries: string[] = [];
const figures: string[] = [];

function figure(line: string): void {
  figures.push(line);
  step(line);
}

/** Progress on stderr as it happens (jest holds console output until a test ends; a stuck step should show). */
function step(line: string): void {
  process.stderr.write(`compose: ${new Date().toISOString()} ${line}\n`);
}

function composeCommand(): string[] {
  for (const candidate of [['docker', 'compose'], ['docker-compose']]) {
    const probe = spawnSync(candidate[0], [...candidate.slice(1), 'version'], { stdio: 'ignore' });
    if (!probe.error && probe.status === 0) return candidate;
  }
  throw new Error('neither `docker compose` nor `docker-compose` is installed');
}
const COMPOSE = composeCommand();

async function compose(...args: string[]): Promise<string> {
  const [command, ...prefix] = COMPOSE;
  const files = ['-f', join(ROOT, 'docker-compose.yml'), '-f', join(work, 'docker-compose.test.yml')];
  const { stdout } = await execFileAsync(command, [...prefix, '-p', PROJECT, '--project-directory', ROOT, ...files, ...args], {
    env, maxBuffer: 64 * 1024 * 1024, timeout: 20 * MINUTE,
  });
  return stdout;
}

async function docker(...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('docker', args, { maxBuffer: 16 * 1024 * 1024, timeout: 5 * MINUTE });
  return stdout.trim();
}

/** The container id of a service of this project. */
async function container(service: string): Promise<string> {
  const id = (await compose('ps', '-q', service)).trim();
  if (!id) throw new Error(`no container for ${service}`);
  return id;
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

async function api<T>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  // Every request has a deadline: a published port can accept a connection that nothing answers yet.
  const response = await fetch(`http://127.0.0.1:${ports.api}${path}`, { signal: AbortSignal.timeout(30_000), ...init });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function tasks(): Promise<TaskView[]> {
  return (await api<{ items: TaskView[] }>('/api/tasks?limit=200')).body.items;
}

async function describeTasks(): Promise<string> {
  try {
    return (await tasks()).map((t) => `${t.id} ${t.status} attempts=${t.attempts} builder=${t.builder} ${t.reason ?? ''}`).join('\n');
  } catch (err) {
    return `tasks unavailable: ${(err as Error).message}`;
  }
}

async function logsOf(...services: string[]): Promise<string> {
  try {
    return (await compose('logs', '--no-color', '--tail', '60', ...services)).slice(-12_000);
  } catch (err) {
    return `logs unavailable: ${(err as Error).message}`;
  }
}

/** The published index of `main` over HTTP, resolved the way moss does: root index → volatile → stone.index. */
async function publishedIndex(): Promise<{ url: string; names: string[]; entries: string[] }> {
  const base = `http://127.0.0.1:${ports.vessel}/main`;
  const rootResponse = await fetch(`${base}/moss-root-index.json`, { signal: AbortSignal.timeout(30_000) });
  if (rootResponse.status !== 200) return { url: '', names: [], entries: [] };
  const root = parseRootIndex(await rootResponse.text());
  const url = `${base}/${resolveIndexPath(root, 'volatile', 'x86_64')!}`;
  const bytes = Buffer.from(await (await fetch(url, { signal: AbortSignal.timeout(30_000) })).arrayBuffer());
  const entries = await readIndex(bytes, url);
  // Each entry as moss keys it (PackageHash) with what it names, for the failure messages below.
  return { url, names: entries.map((e) => e.name), entries: entries.map((e) => `${e.name} ${e.version}-${e.release}-${e.buildRelease} ${e.hash} ${e.uri}`) };
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }).trim();
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'summit-compose-'));
  // Every published port is one this machine has free (the Temporal UI's 8080 included: another stack may hold it).
  ports = { api: await freePort(), vessel: await freePort(), temporal: await freePort(), prometheus: await freePort(), ui: await freePort() };
  // Secrets made for this run only, as files (mode 0600), the way the README tells an operator to.
  const secrets = join(work, 'secrets');
  mkdirSync(secrets, { mode: 0o700 });
  const secret = (name: string, value: string) => {
    writeFileSync(join(secrets, name), `${value}\n`, { mode: 0o600 });
    chmodSync(join(secrets, name), 0o600);
  };
  secret('db-password', randomBytes(18).toString('base64url'));
  secret('temporal-db-password', randomBytes(18).toString('base64url'));
  secret('payload-keys', `k1:${randomBytes(32).toString('base64')}`);
  secret('grafana-admin-password', randomBytes(18).toString('base64url'));
  // Each builder's one-time enrolment token (issue 10): the API accepts them as trusted at its start.
  secret('enrol-avalanche-1', randomBytes(32).toString('base64url'));
  secret('enrol-avalanche-2', randomBytes(32).toString('base64url'));
  mkdirSync(join(work, 'git'));
  // The recipe repository lives on this machine; the containers that read it see it at /srv/git.
  const gitMount = [`${join(work, 'git')}:/srv/git:ro`];
  writeFileSync(join(work, 'docker-compose.test.yml'), JSON.stringify({
    services: Object.fromEntries(['api', 'summit', 'avalanche-1', 'avalanche-2'].map((s) => [s, { volumes: gitMount }])),
  }, null, 2));
  env = {
    PATH: process.env.PATH, HOME: process.env.HOME,
    SUMMIT_SECRETS_DIR: secrets,
    SUMMIT_REPOSITORY_ROOTS: '/srv/git',
    SUMMIT_API_PUBLISHED_PORT: String(ports.api),
    SUMMIT_VESSEL_PUBLISHED_PORT: String(ports.vessel),
    SUMMIT_TEMPORAL_PUBLISHED_PORT: String(ports.temporal),
    SUMMIT_PROMETHEUS_PUBLISHED_PORT: String(ports.prometheus),
    SUMMIT_UI_PUBLISHED_PORT: String(ports.ui),
    SUMMIT_CODEC_UI_ORIGIN: `http://127.0.0.1:${ports.ui}`,
  };
}, MINUTE);

afterAll(async () => {
  // SUMMIT_COMPOSE_KEEP=1 leaves the stack running and its work folder in place, to look at after a failure.
  if (work && process.env.SUMMIT_COMPOSE_KEEP === '1') console.log(`compose: kept the stack and ${work}`);
  else if (work) {
    await compose('down', '-v', '--remove-orphans', '--timeout', '20').catch((err: Error) => console.error(`compose down: ${err.message}`));
    rmSync(work, { recursive: true, force: true });
  }
  if (figures.length) console.log(`compose figures:\n  ${figures.join('\n  ')}`);
}, 5 * MINUTE);

describe('the production stack (docker-compose.yml) on this machine', () => {
  it('comes up: PostgreSQL, the Temporal server on it, the four roles, two builders, Prometheus', async () => {
    const started = Date.now();
    step('docker-compose up -d');
    await compose('up', '-d');
    step('up -d returned; waiting for the API, the hub and both builders');
    await waitFor('the API, the hub and both builders', async () => {
      const health = await api<{ status?: string }>('/health').catch(() => undefined);
      if (health?.status !== 200) return undefined;
      const builders = await api<{ items: Array<{ id: string }> }>('/api/builders').catch(() => undefined);
      return (builders?.body.items.length ?? 0) >= 2 ? true : undefined;
    }, 10 * MINUTE, () => logsOf());
    figure(`stack start (up -d until the API is healthy and both builders are heard from): ${((Date.now() - started) / 1000).toFixed(1)} s`);

    step('reading the API tokens');
    // The API's tokens were generated into its volume on first start.
    const tokens = JSON.parse(await compose('exec', '-T', 'api', 'cat', '/data/tokens.json')) as { tokens?: Array<{ role: string; token: string }> } | Array<{ role: string; token: string }>;
    const list = Array.isArray(tokens) ? tokens : tokens.tokens ?? [];
    adminToken = list.find((t) => t.role === 'admin')!.token;
    hookToken = list.find((t) => t.role === 'hook')!.token;
    expect(adminToken).toBeTruthy();
    expect(hookToken).toBeTruthy();

    step('checking the search attributes');
    // The search attributes were registered by the Temporal container at its start.
    const attributes = await compose('exec', '-T', 'temporal', 'sh', '-c', 'temporal operator search-attribute list --address "$(hostname -i | cut -d" " -f1):7233"');
    for (const name of ['BuildPackage', 'BuildIsa', 'BuildBuilder', 'BuildCommit', 'BuildStatus']) expect(attributes).toContain(name);
    step('waiting for Prometheus to scrape the API');
    // Prometheus scrapes the API.
    await waitFor('Prometheus scraping the API', async () => {
      const response = await fetch(`http://127.0.0.1:${ports.prometheus}/api/v1/targets`, { signal: AbortSignal.timeout(30_000) }).catch(() => undefined);
      if (!response?.ok) return undefined;
      const body = await response.json() as { data: { activeTargets: Array<{ labels: { job: string }; health: string }> } };
      return body.data.activeTargets.some((t) => t.labels.job === 'summit-api' && t.health === 'up') ? true : undefined;
    }, 2 * MINUTE);
  }, 15 * MINUTE);

  it('builds a pushed wave through a builder killed mid-build and a Temporal server restarted mid-wave', async () => {
    step('registering the recipe repository');
    // A recipe repository on this machine with summit's hook, registered through the API.
    const bare = join(work, 'git', 'recipes.git');
    git(work, 'init', '-q', '--bare', '-b', 'main', bare);
    const hooked = await summitCli(['hook', 'install', bare, '--repository', 'recipes', '--url', `http://127.0.0.1:${ports.api}`, '--token', hookToken, '--ref', 'main'],
      { out: () => undefined, err: (t) => console.error(t) });
    expect(hooked).toBe(0);
    const created = await api('/api/repositories', {
      method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'recipes', project: 'serpent', url: '/srv/git/recipes.git', ref: 'main' }),
    });
    expect(created.status).toBe(201);

    const clone = join(work, 'clone');
    git(work, 'clone', '-q', bare, clone);
    git(clone, 'config', 'user.email', 'compose@summit.invalid');
    git(clone, 'config', 'user.name', 'compose');
    git(clone, 'checkout', '-q', '-b', 'main');
    for (const name of ['liba', 'tool', 'app']) cpSync(join(ROOT, 'examples', 'recipes', name), join(clone, name), { recursive: true });
    for (const name of SLOW) {
      mkdirSync(join(clone, name));
      // The build lasts ~20 s: the workload, so that a builder can be killed while it runs.
      writeFileSync(join(clone, name, 'stone.yaml'), recipeYaml({ name, build: `sleep 20 && install -Dm644 /dev/null %(installroot)/usr/share/${name}/done` }));
    }
    git(clone, 'add', '-A');
    git(clone, 'commit', '-q', '-m', 'the wave');
    const pushed = Date.now();
    step('pushing the wave');
    git(clone, 'push', '-q', 'origin', 'main');

    // Kill the builder that is building a slow recipe, mid-build.
    const victim = await waitFor('a slow build running on a builder', async () => {
      const running = (await tasks()).find((t) => t.status === 'building' && SLOW.includes(t.source) && t.builder);
      return running ?? undefined;
    }, 10 * MINUTE, describeTasks);
    await docker('kill', await container(victim.builder!));
    figure(`killed ${victim.builder} while it built ${victim.source}, ${((Date.now() - pushed) / 1000).toFixed(1)} s after the push`);

    // Restart the Temporal server while builds remain.
    await waitFor('the killed build to be running again', async () => {
      const again = (await tasks()).find((t) => t.id === victim.id);
      return again && again.builder !== victim.builder && again.status === 'building' ? true : undefined;
    }, 5 * MINUTE, describeTasks);
    const remaining = (await tasks()).filter((t) => t.status !== 'completed').length;
    expect(remaining).toBeGreaterThan(0);
    const completedAtRestart = (await tasks()).filter((t) => t.status === 'completed').length;
    const restarted = Date.now();
    await docker('restart', '--time', '10', await container('temporal'));
    step(`Temporal server container restarted (docker restart returned after ${((Date.now() - restarted) / 1000).toFixed(1)} s)`);
    await docker('start', await container(victim.builder!));
    await waitFor('the Temporal server healthy again', async () => {
      const state = await docker('inspect', '-f', '{{.State.Health.Status}}', await container('temporal'));
      return state === 'healthy' ? true : undefined;
    }, 5 * MINUTE, () => logsOf('temporal'));
    figure(`Temporal server healthy again ${((Date.now() - restarted) / 1000).toFixed(1)} s after \`docker restart\` (${remaining} task(s) open at the restart)`);
    await waitFor('a build completing after the restart', async () => {
      const done = (await tasks()).filter((t) => t.status === 'completed').length;
      return done > completedAtRestart ? true : undefined;
    }, 10 * MINUTE, describeTasks);
    figure(`recovery: the first build completed ${((Date.now() - restarted) / 1000).toFixed(1)} s after the Temporal restart`);

    step('waiting for the wave to be published');
    // Every package published, each once.
    const index = await waitFor('every package in the published index', async () => {
      const all = await tasks();
      if (all.some((t) => t.status === 'failed' || t.status === 'blocked')) throw new Error(`a build failed:\n${await describeTasks()}`);
      const published = await publishedIndex();
      return PACKAGES.every((p) => published.names.includes(p)) && all.every((t) => t.status === 'completed') ? published : undefined;
    }, 20 * MINUTE, async () => `${await describeTasks()}\n${await logsOf('summit', 'vessel', 'avalanche-1', 'avalanche-2')}`);
    figure(`wave: ${PACKAGES.length} recipes pushed → all published in ${((Date.now() - pushed) / 1000).toFixed(1)} s (with the kill and the restart)`);

    publishedUrl = index.url;
    publishedEntries = index.entries;
    step(`published ${index.url}:\n  ${index.entries.join('\n  ')}`);
    expect(new Set(index.names).size).toBe(index.names.length);
    // moss keys a repository's packages by PackageHash: two entries with one hash would leave one unlisted.
    const hashes = index.entries.map((e) => e.split(' ')[2]);
    expect(new Set(hashes).size).toBe(hashes.length);
    for (const name of PACKAGES) expect(index.names.filter((n) => n === name)).toHaveLength(1);
    const all = await tasks();
    expect(all.map((t) => t.source).sort()).toEqual([...PACKAGES].sort());
    for (const task of all) {
      const { body } = await api<{ events: Array<{ to: string }> }>(`/api/tasks/${encodeURIComponent(task.id)}`);
      expect(body.events.filter((e) => e.to === 'completed')).toHaveLength(1);
    }
    // The killed build was retried, not failed; its log is readable through the API from the builder's volume.
    const log = await fetch(`http://127.0.0.1:${ports.api}/api/tasks/${encodeURIComponent(victim.id)}/log`, { signal: AbortSignal.timeout(30_000) });
    expect(log.status).toBe(200);
    expect((await log.text()).length).toBeGreaterThan(0);
  }, 40 * MINUTE);

  it('serves the repository over HTTP: real moss installs a package of the wave from it', async () => {
    expect(publishedUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/main\/history\/.+\/stone\.index$/);
    // slow-a: a package of the wave with no dependencies outside this repository (the demo chain's binaries link
    // the build image's glibc, which no repository of this stack provides).
    const check = await execFileAsync(MOSS_CHECK, [publishedUrl, 'slow-a'], { timeout: 5 * MINUTE })
      .catch((err: { stdout?: string; stderr?: string; message: string }) => ({ stdout: `${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}` }));
    step(`moss-check: ${check.stdout.trim().split('\n').slice(-1)[0]}`);
    if (!/moss: installed slow-a/.test(check.stdout)) {
      const now = await publishedIndex().catch((err: Error) => ({ url: `(${err.message})`, entries: [] as string[] }));
      console.error(`moss-check said:\n${check.stdout}\nthe index the wave test read (${publishedUrl}):\n  ${publishedEntries.join('\n  ')}\n`
        + `volatile now (${now.url}):\n  ${now.entries.join('\n  ')}`);
    }
    expect(check.stdout).toMatch(/moss: installed slow-a/);
    // For the record (not asserted): what moss says of the demo chain's top.
    const app = await execFileAsync(MOSS_CHECK, [publishedUrl, 'app'], { timeout: 5 * MINUTE })
      .catch((err: { stdout?: string; message: string }) => ({ stdout: `${err.message}\n${err.stdout ?? ''}` }));
    step(`moss-check app: ${app.stdout.trim().split('\n').filter((l) => /^moss: |No such name|FAILED/.test(l)).join(' | ')}`);
  }, 6 * MINUTE);
});
