/**
 * Hostile upstreams through the real pipeline (Temporal dev server, PostgreSQL, git, a builder process running
 * systemd-nspawn): a file:// upstream naming the farm's own tokens.json with its real sha256 (so only the
 * location rule can stop it), the same through a symlink planted in the allowed mirror, a git upstream with the
 * path of a private repository of the host, an `ext::` remote helper, an ssh "host" that is an option, and a URL
 * that is an option. Each ends with its build failed for a stated reason after one attempt, or (the option URL,
 * which the recipe schema already refuses) with no build at all; nothing of them is published, and neither the
 * secret nor the private repository's content is found in any file of the farm or in the API.
 * A good recipe using the configured mirror (SUMMIT_LOCAL_SOURCES) is built and published beside them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../db/orm';
import { Store } from '../db/store';
import { readIndex } from '../core/formats/repo-index';
import { parseRootIndex, resolveIndexPath } from '../core/formats/root-index';
import { extractPackage } from '../packaging/extract';
import { withStoneFile } from '../packaging/open-stone';
import { createRecipeRepo, recipeYaml } from './fixtures/avalanche/recipe-repo';
import { Farm, startFarm, waitFor, type TaskView } from './helpers/farm';
import { TestRepo } from './helpers/git-repo';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { startTemporalTestServer, TemporalTestServer } from './support/temporal';

jest.setTimeout(600_000);

let temporal: TemporalTestServer;
let pg: TestDatabase;
let work: string;
let farm: Farm;
let adminToken: string;
const PRIVATE_MARKER = `private-repository-content-${randomBytes(8).toString('hex')}`;


async function api<T>(path: string, init: RequestInit = {}): Promise<{ status: number; text: string; body: T }> {
  const res = await fetch(`${farm.api.url}${path}`, init);
  const text = await res.text();
  const json = res.headers.get('content-type')?.includes('application/json') && text ? JSON.parse(text) : undefined;
  return { status: res.status, text, body: json as T };
}

async function tasks(): Promise<TaskView[]> {
  return (await api<{ items: TaskView[] }>('/api/tasks?limit=200')).body.items;
}

const taskId = (source: string) => `build/sec/hostile/${source}-1.0-1/x86_64`;

/** Every regular file below `dir`, symlinks not followed (the planted link would otherwise lead to the secret). */
function filesBelow(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesBelow(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** What each hostile recipe must fail with: the refusal names the upstream and the rule. */
const HOSTILE: Record<string, RegExp> = {
  secretfile: /upstream file:\/\/\S*tokens\.json: \S+ is outside the folders configured in SUMMIT_LOCAL_SOURCES/,
  // After `tokens.json: ` the log's redaction masks what follows as if it were a token's value.
  secretlink: /upstream \S*mirror\/tokens\.json: \S+ leads to \S*tokens\.json, outside the folders configured in SUMMIT_LOCAL_SOURCES/,
  privategit: /git upstream file:\/\/\S*private: \S*private is outside the folders configured in SUMMIT_LOCAL_SOURCES/,
  extgit: /git upstream ext::sh -c touch% \S*pwned-ext: git remote helpers \("ext::"\) are not allowed/,
  sshoption: /git upstream ssh:\/\/-oProxyCommand=\S*: the host starts with "-", which ssh would read as an option/,
};

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'summit-sec-sources-'));
  [temporal, pg] = await Promise.all([startTemporalTestServer(), createTestDatabase('sec_sources')]);
  const mirror = join(work, 'mirror');
  mkdirSync(join(mirror, 'hello-1.0'), { recursive: true });
  farm = await startFarm({ work, temporalAddress: temporal.address, databaseUrl: pg.url, localSources: mirror });
  await farm.startBuilder('sec1');

  // The host's secrets: the farm's token file, and a private repository next to the farm.
  const tokensFile = join(farm.config.SUMMIT_DATA_DIR, 'tokens.json');
  adminToken = farm.adminToken;
  const secretSha = createHash('sha256').update(readFileSync(tokensFile)).digest('hex');
  const secret = new TestRepo(join(work, 'private'));
  secret.write('secret.txt', `${PRIVATE_MARKER}\n`).commit('private');
  symlinkSync(tokensFile, join(mirror, 'tokens.json'));

  // The operator's mirror, which recipes may use.
  writeFileSync(join(mirror, 'hello-1.0', 'hello.txt'), 'hello from the mirror\n');
  execFileSync('tar', ['-czf', join(mirror, 'hello-1.0.tar.gz'), '-C', mirror, 'hello-1.0']);
  const helloSha = createHash('sha256').update(readFileSync(join(mirror, 'hello-1.0.tar.gz'))).digest('hex');

  const steal = (name: string, from: string) => `install: |\n    mkdir -p %(installroot)%(datadir)/${name}\n    cp -r ${from} %(installroot)%(datadir)/${name}/`;
  const repo = createRecipeRepo(join(work, 'hostile'), {
    'secretfile/stone.yaml': recipeYaml('secretfile', `upstreams:\n    - file://${tokensFile}: ${secretSha}\n${steal('secretfile', '%(sourcedir)/tokens.json')}`),
    'secretlink/stone.yaml': recipeYaml('secretlink', `upstreams:\n    - file://${mirror}/tokens.json: ${secretSha}\n${steal('secretlink', '%(sourcedir)/tokens.json')}`),
    'privategit/stone.yaml': recipeYaml('privategit', `upstreams:\n    - git|file://${join(work, 'private')}:\n        ref: main\n${steal('privategit', 'secret.txt')}`),
    'extgit/stone.yaml': recipeYaml('extgit', `upstreams:\n    - git|ext::sh -c touch% ${join(work, 'pwned-ext')}:\n        ref: main\n${steal('extgit', '.')}`),
    'sshoption/stone.yaml': recipeYaml('sshoption', `upstreams:\n    - git|ssh://-oProxyCommand=touch%20pwned-ssh/r.git:\n        ref: main\n${steal('sshoption', '.')}`),
    'optionurl/stone.yaml': recipeYaml('optionurl', `upstreams:\n    - --upload-pack=touch ${join(work, 'pwned-dash')}: ${secretSha}\n${steal('optionurl', '.')}`),
    'good/stone.yaml': recipeYaml('good', `upstreams:\n    - file://${mirror}/hello-1.0.tar.gz: ${helloSha}\ninstall: |\n    %install_file hello.txt %(installroot)%(datadir)/good/hello.txt`),
  }, false);

  const admin = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const created = await api('/api/repositories', { method: 'POST', headers: admin, body: JSON.stringify({ id: 'hostile', project: 'sec', url: repo.bare }) });
  expect(created.status).toBe(201);
  const refresh = await api('/api/repositories/hostile/refresh', { method: 'POST', headers: { authorization: `Bearer ${farm.hookToken}` } });
  expect(refresh.status).toBe(202);
});

afterAll(async () => {
  await farm?.stop();
  await temporal?.stop();
  await pg?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('hostile upstreams on a real farm', () => {
  it('fails each hostile build once, for the stated reason, and builds the good recipe from the configured mirror', async () => {
    const ended = (t: TaskView) => ['completed', 'failed'].includes(t.status);
    const all = await waitFor('every build to end', async () => {
      const list = await tasks();
      const wanted = [...Object.keys(HOSTILE), 'good'].map(taskId);
      return wanted.every((id) => list.some((t) => t.id === id && ended(t))) ? list : undefined;
    }, 480_000, async () => (await tasks()).map((t) => `${t.id} ${t.status} ${t.reason ?? ''}`).join('\n'));

    expect(all.find((t) => t.id === taskId('good'))).toMatchObject({ status: 'completed', attempts: 1 });
    for (const [source, reason] of Object.entries(HOSTILE)) {
      const t = all.find((x) => x.id === taskId(source))!;
      expect({ source, status: t.status, attempts: t.attempts }).toEqual({ source, status: 'failed', attempts: 1 });
      expect(t.reason).toMatch(/build failed in step sources/);
      expect(t.logTail).toMatch(reason);
    }
    // The option URL never parses as a URL: the recipe is refused at intake, so it never becomes a build.
    expect(all.some((t) => t.source === 'optionurl')).toBe(false);
  });

  it('refuses, once and without blaming the recipe, to clone a repository outside the builder\'s SUMMIT_REPOSITORY_ROOTS', async () => {
    // A row the API would refuse now, as one stored before the rule: summit mirrors it, the builder must not clone it.
    const outside = mkdtempSync(join(tmpdir(), 'summit-sec-outside-'));
    const orm = await openDatabase({ url: pg.url, dataDir: work });
    try {
      const repo = createRecipeRepo(outside, { 'plain/stone.yaml': recipeYaml('plain', 'install: |\n    true') }, false);
      await new Store(orm).addRepository({ id: 'outside', project: 'sec', url: repo.bare });
      const refresh = await api('/api/repositories/outside/refresh', { method: 'POST', headers: { authorization: `Bearer ${farm.hookToken}` } });
      expect(refresh.status).toBe(202);
      const id = 'build/sec/outside/plain-1.0-1/x86_64';
      const t = await waitFor('the build of the outside repository to end', async () => {
        const found = (await tasks()).find((x) => x.id === id);
        return found && ['completed', 'failed'].includes(found.status) ? found : undefined;
      }, 240_000, async () => (await tasks()).map((x) => `${x.id} ${x.status} ${x.reason ?? ''}`).join('\n'));
      expect(t).toMatchObject({ status: 'failed', attempts: 1 });
      expect(t.reason).toMatch(/^build did not complete: repository URL \S*recipes\.git: \S*recipes\.git is outside the folders configured in SUMMIT_REPOSITORY_ROOTS/);
    } finally {
      await orm.close(true);
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('ran none of the injected commands', () => {
    expect(existsSync(join(work, 'pwned-ext'))).toBe(false);
    expect(existsSync(join(work, 'pwned-dash'))).toBe(false);
    expect(filesBelow(work).filter((f) => f.includes('pwned'))).toEqual([]);
  });

  it('published only the good recipe', async () => {
    const repo = join(farm.reposDir, 'main');
    const root = parseRootIndex(readFileSync(join(repo, 'moss-root-index.json'), 'utf8'));
    const path = join(repo, resolveIndexPath(root, 'volatile', 'x86_64')!);
    const entries = await readIndex(readFileSync(path), path);
    expect(entries.map((e) => e.name)).toEqual(['good']);
    const stones = filesBelow(farm.reposDir).filter((f) => f.endsWith('.stone')).map((f) => f.split('/').pop());
    expect(stones).toEqual([expect.stringMatching(/^good-1\.0-1-1-x86_64\.stone$/)]);
  });

  it('left the secret and the private repository nowhere: no file of the farm or inside its packages, no task, no log', async () => {
    const tokensFile = join(farm.config.SUMMIT_DATA_DIR, 'tokens.json');
    const privateRepo = join(work, 'private');
    const files = filesBelow(work).filter((f) => f !== tokensFile && !f.startsWith(`${privateRepo}/`));
    // Package contents are compressed: unpack every .stone (builders' artefacts and vessel's pool) and look inside.
    const unpacked = mkdtempSync(join(tmpdir(), 'summit-sec-unpacked-'));
    try {
      for (const [i, stone] of files.filter((f) => f.endsWith('.stone')).entries()) {
        await withStoneFile(stone, (reader) => extractPackage(reader, join(unpacked, String(i))));
      }
      const leaks = [...files, ...filesBelow(unpacked)]
        .filter((f) => lstatSync(f).size < 256 * 1024 * 1024)
        .filter((f) => {
          const content = readFileSync(f);
          return content.includes(adminToken) || content.includes(PRIVATE_MARKER);
        });
      expect(leaks).toEqual([]);
    } finally {
      rmSync(unpacked, { recursive: true, force: true });
    }
    for (const source of Object.keys(HOSTILE)) {
      const id = encodeURIComponent(taskId(source));
      const detail = await api(`/api/tasks/${id}`);
      const log = await api(`/api/tasks/${id}/log`);
      expect(log.status).toBe(200);
      for (const text of [detail.text, log.text]) {
        expect(text).not.toContain(adminToken);
        expect(text).not.toContain(PRIVATE_MARKER);
      }
    }
  });
});
