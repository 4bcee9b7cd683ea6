import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/core';
import { startApi, type RunningApi } from '../api/main';
import type { Logger } from '../api/logger';
import { loadOrCreateTokens } from '../api/tokens';
import { parseConfig } from '../core/config';
import { openDatabase } from '../db/orm';
import { Store } from '../db/store';
import { createTestDatabase, type TestDatabase } from './support/postgres';
import { freePort } from './support/temporal';

/**
 * Registering and removing repositories through the real API (startApi: configuration, tokens, PostgreSQL),
 * with SUMMIT_REPOSITORY_ROOTS set: the URL rule of core/security/source-url.ts at the edge, credentials never
 * stored, shown or logged, and DELETE with its refusal while tasks are open. Temporal is not needed here: the
 * API's client is lazy and these routes do not signal the hub.
 */
const SECRET = 'ghp_s3cretT0kenThatMustNeverShow';

let dir: string;
let roots: string;
let pg: TestDatabase;
let api: RunningApi;
let orm: MikroORM;
let store: Store;
let admin: string;
let hook: string;
const logged: string[] = [];

const capture = (level: string) => (message: string, fields?: Record<string, unknown>) => logged.push(JSON.stringify({ level, message, ...fields }));
const logger: Logger = { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') };

async function call(method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<{ status: number; text: string; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${api.url}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  return { status: res.status, text, json: text ? JSON.parse(text) : undefined };
}

const register = (id: string, url: string) => call('POST', '/api/repositories', { token: admin, body: { id, project: 'serpent', url } });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'summit-api-repos-'));
  roots = join(dir, 'git');
  mkdirSync(join(roots, 'recipes.git'), { recursive: true });
  mkdirSync(join(dir, 'private.git'), { recursive: true });
  // A link inside the allowed folder that leads out of it: the real path decides.
  symlinkSync(join(dir, 'private.git'), join(roots, 'escape.git'));
  pg = await createTestDatabase('api_repositories');
  const config = parseConfig({
    SUMMIT_DATA_DIR: join(dir, 'data'), SUMMIT_API_PORT: '0', SUMMIT_DATABASE_URL: pg.url,
    SUMMIT_TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`, SUMMIT_REPOSITORY_ROOTS: roots, SUMMIT_LOG_LEVEL: 'debug',
  });
  mkdirSync(config.SUMMIT_DATA_DIR, { recursive: true });
  const { tokens } = await loadOrCreateTokens(config.SUMMIT_DATA_DIR);
  admin = tokens.find((t) => t.role === 'admin')!.token;
  hook = tokens.find((t) => t.role === 'hook')!.token;
  api = await startApi(config, logger);
  orm = await openDatabase({ url: pg.url, dataDir: dir });
  store = new Store(orm);
});

afterAll(async () => {
  await api?.close();
  await orm?.close(true);
  await pg?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('POST /api/repositories checks the URL', () => {
  it.each([
    ['an option for git', '--upload-pack=touch /tmp/pwned', /starts with "-", which git and other tools would read as an option/],
    ['a git remote helper', 'ext::sh -c touch% /tmp/pwned', /git remote helpers \("ext::"\) are not allowed/],
    ['a file:// URL outside the roots', 'file:///etc', /\/etc is outside the folders configured in SUMMIT_REPOSITORY_ROOTS/],
    ['a local path outside the roots', '/var/lib/private.git', /outside the folders configured in SUMMIT_REPOSITORY_ROOTS/],
    ['a link inside the roots that leads out', '/ESCAPE', /leads to .*private\.git, outside the folders configured in SUMMIT_REPOSITORY_ROOTS/],
    ['a relative path', 'git/recipes.git', /not an absolute URL or path/],
    ['a scheme git does not need', 'ftp://example.org/r.git', /the scheme "ftp:" is not allowed/],
    ['a password in the URL', `https://bot:${SECRET}@example.org/r.git`, /credentials in the URL are not allowed .*SSH key or a git credential helper/],
    ['a token as the user name', `https://${SECRET}@example.org/r.git`, /credentials in the URL are not allowed/],
  ])('refuses %s with a 422 naming body.url', async (_what, url, message) => {
    const reply = await register('refused', url === '/ESCAPE' ? join(roots, 'escape.git') : url);
    expect(reply.status).toBe(422);
    expect(reply.json.error.code).toBe('validation_failed');
    expect(reply.json.error.issues).toEqual([{ path: 'body.url', message: expect.stringMatching(message) }]);
    expect(reply.text).not.toContain(SECRET);
    expect((await call('GET', '/api/repositories')).json.items.map((r: { id: string }) => r.id)).not.toContain('refused');
  });

  it.each([
    ['an https URL', 'web', 'https://example.org/serpent/recipes.git', 'https://example.org/serpent/recipes.git'],
    ['an ssh URL with a user and no password', 'ssh', 'ssh://git@example.org/recipes.git', 'ssh://git@example.org/recipes.git'],
    ['an scp-like address', 'scp', 'git@example.org:serpent/recipes.git', 'git@example.org:serpent/recipes.git'],
  ])('registers %s as given', async (_what, id, url, stored) => {
    const reply = await register(id, url);
    expect(reply.status).toBe(201);
    expect(reply.json).toMatchObject({ id, url: stored });
  });

  it('registers a local path inside the roots by its real path', async () => {
    const reply = await register('local', `${roots}/./recipes.git`);
    expect(reply.status).toBe(201);
    expect(reply.json.url).toBe(realpathSync(join(roots, 'recipes.git')));
    expect((await store.getRepository('local')).url).toBe(realpathSync(join(roots, 'recipes.git')));
  });

  it('never shows a credential, even one stored before the rule', async () => {
    await store.addRepository({ id: 'legacy', project: 'serpent', url: `https://bot:${SECRET}@example.org/legacy.git` });
    const list = await call('GET', '/api/repositories');
    expect(list.status).toBe(200);
    expect(list.json.items).toContainEqual(expect.objectContaining({ id: 'legacy', url: 'https://***@example.org/legacy.git' }));
    expect(list.text).not.toContain(SECRET);
  });

  it('never logs a credential', () => {
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.join('\n')).not.toContain(SECRET);
  });
});

describe('DELETE /api/repositories/:id', () => {
  const task = (repository: string, source: string) => ({
    id: `build/serpent/${repository}/${source}-1.0-1/x86_64`, project: 'serpent', repository, source, version: '1.0', release: 1,
    isa: 'x86_64', index: 'main', commit: 'c0ffee', recipePath: source,
  });

  it('removes a repository and its recipes, keeps its finished tasks, and answers 204', async () => {
    expect((await register('gone', 'https://example.org/gone.git')).status).toBe(201);
    await store.replaceRecipes('gone', [{ source: 'a', version: '1.0', release: 1, commit: 'c0ffee', path: 'a', packages: [], derived: true, architectures: [] }]);
    const done = await store.createTask(task('gone', 'a'), 'test');
    await store.setStatus(done.id, 'cancelled', 'test');

    const reply = await call('DELETE', '/api/repositories/gone', { token: admin });
    expect(reply.status).toBe(204);
    expect(reply.text).toBe('');
    expect((await call('GET', '/api/repositories')).json.items.map((r: { id: string }) => r.id)).not.toContain('gone');
    expect(await store.listRecipes('gone')).toEqual([]);
    expect((await store.getTask(done.id)).status).toBe('cancelled');
    expect((await call('DELETE', '/api/repositories/gone', { token: admin })).status).toBe(404);
  });

  it('refuses with a 409 naming the open tasks while the repository has any, and works once they are cancelled', async () => {
    expect((await register('busy', 'https://example.org/busy.git')).status).toBe(201);
    const open = await store.createTask(task('busy', 'b'), 'test');
    await store.setStatus(open.id, 'queued', 'test');
    await store.setStatus(open.id, 'building', 'test');

    const refused = await call('DELETE', '/api/repositories/busy', { token: admin });
    expect(refused.status).toBe(409);
    expect(refused.json.error).toMatchObject({ code: 'conflict', message: expect.stringMatching(/has open tasks \(1 building\); cancel them first/) });
    expect((await store.getRepository('busy')).id).toBe('busy');

    await store.setStatus(open.id, 'cancelled', 'test');
    expect((await call('DELETE', '/api/repositories/busy', { token: admin })).status).toBe(204);
  });

  it.each([
    ['an unknown repository', 'nope', () => admin, 404, 'not_found'],
    ['the hook token', 'web', () => hook, 403, 'forbidden'],
    ['no token', 'web', () => undefined, 401, 'unauthorized'],
  ])('answers %s with the documented error', async (_what, id, token, status, code) => {
    const reply = await call('DELETE', `/api/repositories/${id}`, { token: token() });
    expect(reply.status).toBe(status);
    expect(reply.json.error.code).toBe(code);
  });

  it('left the repository the refused requests named', async () => {
    expect((await store.getRepository('web')).id).toBe('web');
  });
});

describe("the repository's network policy", () => {
  it('is off unless given, stored and shown when given, by the list and by the record', async () => {
    const off = await register('quiet', 'https://example.org/quiet.git');
    expect(off.status).toBe(201);
    expect(off.json.networking).toBe(false);

    const on = await call('POST', '/api/repositories', { token: admin, body: { id: 'online', project: 'serpent', url: 'https://example.org/online.git', networking: true } });
    expect(on.status).toBe(201);
    expect(on.json).toMatchObject({ id: 'online', networking: true });
    expect((await store.getRepository('online')).networking).toBe(true);
    expect((await call('GET', '/api/repositories/online')).json).toMatchObject({ id: 'online', networking: true });
    const items = (await call('GET', '/api/repositories')).json.items as Array<{ id: string; networking: boolean }>;
    expect(items.filter((r) => ['quiet', 'online'].includes(r.id)).map((r) => [r.id, r.networking]).sort()).toEqual([['online', true], ['quiet', false]]);
  });

  it.each([
    ['a string', 'yes'], ['a number', 1], ['null', null],
  ])('refuses %s with a 422 naming body.networking', async (_what, networking) => {
    const reply = await call('POST', '/api/repositories', { token: admin, body: { id: 'typo', project: 'serpent', url: 'https://example.org/typo.git', networking } });
    expect(reply.status).toBe(422);
    expect(reply.json.error.code).toBe('validation_failed');
    expect(reply.json.error.issues).toEqual([expect.objectContaining({ path: 'body.networking' })]);
    expect((await call('GET', '/api/repositories')).json.items.map((r: { id: string }) => r.id)).not.toContain('typo');
  });

  it('is added, off, to a database made before it existed when the database is opened', async () => {
    await orm.em.getConnection().execute('alter table repositories drop column networking');
    const reopened = await openDatabase({ url: pg.url, dataDir: dir });
    try {
      expect((await new Store(reopened).getRepository('online')).networking).toBe(false);
    } finally {
      await reopened.close(true);
    }
  });
});
