import { request as httpRequest, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/core';
import { createApp } from '../api/app';
import { Auth } from '../api/auth';
import { silentLogger, type Logger } from '../api/logger';
import { listen } from '../api/server';
import { responseIssues, serveApp } from './helpers/api-server';
import { CommandRefusedError, HubUnavailableError, type HubStatus, type PipelineControl } from '../api/pipeline';
import type { RefreshRequest, TaskCommand, TaskCommandResult } from '../core/contracts/hub';
import { openDatabase } from '../db/orm';
import { Store } from '../db/store';
import { createTestDatabase, type TestDatabase } from './support/postgres';

/**
 * The API's HTTP behaviour over a real store on PostgreSQL. The pipeline is a fake that records what it was
 * asked and can play "hub down" or "hub refuses": the Temporal side is tested in api-pipeline-temporal.test.ts
 * and end to end.
 */
type Mode = 'ok' | 'down' | 'refuse' | 'broken';

class FakePipeline implements PipelineControl {
  mode: Mode = 'ok';
  readonly calls: Array<{ op: string; arg: RefreshRequest | TaskCommand }> = [];

  private act<T>(op: string, arg: RefreshRequest | TaskCommand, result: T): Promise<T> {
    this.calls.push({ op, arg });
    if (this.mode === 'down') return Promise.reject(new HubUnavailableError('the hub is not running (test)'));
    if (this.mode === 'refuse') return Promise.reject(new CommandRefusedError('task is completed; only failed or cancelled tasks can be retried'));
    if (this.mode === 'broken') return Promise.reject(new Error('secret internals at 10.0.0.7'));
    return Promise.resolve(result);
  }
  refresh(req: RefreshRequest): Promise<void> {
    return this.act('refresh', req, undefined);
  }
  retry(cmd: TaskCommand): Promise<TaskCommandResult> {
    return this.act('retry', cmd, { taskId: cmd.taskId, status: 'new' });
  }
  cancel(cmd: TaskCommand): Promise<TaskCommandResult> {
    return this.act('cancel', cmd, { taskId: cmd.taskId, status: 'cancelled' });
  }
  async hubStatus(): Promise<HubStatus> {
    return this.mode === 'down' ? { ok: false, state: 'not running', detail: 'test' } : { ok: true, state: 'running' };
  }
}

const ADMIN = `summit_admin_${'a'.repeat(43)}`;
const HOOK = `summit_hook_${'h'.repeat(43)}`;
const BASE = { project: 'serpent', repository: 'recipes', version: '1.0', release: 1, isa: 'x86_64', index: 'main', commit: 'c0ffee', recipePath: 'x' };
const id = (source: string) => `build/serpent/recipes/${source}-1.0-1/x86_64`;
const at = (taskId: string, suffix = '') => `/api/tasks/${encodeURIComponent(taskId)}${suffix}`;
const COMMIT = '0123456789abcdef0123456789abcdef01234567';

let orm: MikroORM;
let pg: TestDatabase;
let dir: string;
let server: Server;
let base: string;
const pipeline = new FakePipeline();

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked field by field
  json: any;
}

async function call(method: string, path: string, opts: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.raw !== undefined || opts.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = opts.raw ?? JSON.stringify(opts.body);
  }
  const res = await fetch(`${base}${path}`, { method, headers, body });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  // Every success answer fits the schema its route documents in /api/openapi.json.
  expect(responseIssues(method, path, res.status, res.headers.get('content-type'), json)).toEqual([]);
  return { status: res.status, headers: res.headers, text, json };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'summit-api-'));
  pg = await createTestDatabase('api_routes');
  orm = await openDatabase({ url: pg.url, dataDir: dir });
  const store = new Store(orm);
  await store.addRepository({ id: 'recipes', project: 'serpent', url: '/srv/recipes.git', ref: 'main' });
  // Seven tasks: done, failed (with a log here), building (log on another host), and four new ones.
  const sources = ['liba', 'broken', 'tool', 'n1', 'n2', 'n3', 'n4'];
  for (const source of sources) await store.createTask({ ...BASE, id: id(source), source }, `recipe ${source}`);
  for (const to of ['queued', 'building', 'publishing', 'completed'] as const) await store.setStatus(id('liba'), to, to);
  await store.setStatus(id('broken'), 'queued', 'dispatched');
  await store.setStatus(id('broken'), 'building', 'picked up', { builder: 'b1' });
  await store.setStatus(id('broken'), 'failed', 'did not compile');
  await store.setStatus(id('tool'), 'queued', 'dispatched');
  await store.setStatus(id('tool'), 'building', 'picked up', { builder: 'far-away' });
  const log = join(dir, 'broken.log');
  writeFileSync(log, Array.from({ length: 10 }, (_, i) => `line ${i + 1}`).join('\n') + '\n');
  await store.updateTask(id('broken'), { logPath: log });
  await store.updateTask(id('tool'), { logPath: '/nonexistent/builder/tool.log' });
  await store.upsertBuilder({ id: 'b1', host: 'h1', isaLevels: ['x86_64'], slots: 2, busy: 1, diskFree: 1e10 });

  const auth = new Auth([{ name: 'admin', role: 'admin', token: ADMIN }, { name: 'hook', role: 'hook', token: HOOK }]);
  // Local repository paths are allowed under /srv here (SUMMIT_REPOSITORY_ROOTS; api-repositories.test.ts tests the rule).
  const app = createApp({ store, pipeline, auth, repositoryRoots: ['/srv'] });
  ({ server, url: base } = await serveApp(app));
});

afterAll(async () => {
  // server?.close(resolve) would never resolve when beforeAll failed before listening.
  if (server) await new Promise((resolve) => server.close(resolve));
  await orm?.close(true);
  await pg?.drop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  pipeline.mode = 'ok';
  pipeline.calls.length = 0;
});

describe('status codes', () => {
  // Each row: the request and the status it gets; `code` is the error body's code for error statuses.
  const row = (what: string, method: string, path: string, opts: Parameters<typeof call>[2], status: number, code: string | null = null) =>
    ({ what, method, path, opts, status, code });
  const cases = [
    row('health answers', 'GET', '/health', {}, 200),
    row('an admin registers a repository', 'POST', '/api/repositories', { token: ADMIN, body: { id: 'extra', project: 'serpent', url: '/srv/extra.git' } }, 201),
    row('a taken repository id conflicts', 'POST', '/api/repositories', { token: ADMIN, body: { id: 'recipes', project: 'serpent', url: '/srv/x.git' } }, 409, 'conflict'),
    row('malformed JSON is a 400', 'POST', '/api/repositories', { token: ADMIN, raw: '{"id": "x",' }, 400, 'malformed_json'),
    row('a POST without a token is a 401', 'POST', '/api/repositories', { body: { id: 'x', project: 'p', url: 'u' } }, 401, 'unauthorized'),
    row('an unknown token is a 401', 'POST', '/api/hooks/git', { token: 'summit_hook_wrong', body: { repository: 'recipes' } }, 401, 'unauthorized'),
    row('a non-bearer Authorization is a 401', 'POST', '/api/hooks/git', { headers: { authorization: `Basic ${HOOK}` }, body: { repository: 'recipes' } }, 401, 'unauthorized'),
    row('the hook token on an admin route is a 403', 'POST', '/api/repositories', { token: HOOK, body: { id: 'x', project: 'p', url: 'u' } }, 403, 'forbidden'),
    row('the hook token cannot retry', 'POST', at(id('broken'), '/retry'), { token: HOOK }, 403, 'forbidden'),
    row('the hook token can refresh', 'POST', '/api/repositories/recipes/refresh', { token: HOOK }, 202),
    row('refreshing an unknown repository is a 404', 'POST', '/api/repositories/nope/refresh', { token: ADMIN }, 404, 'not_found'),
    row('a push is accepted', 'POST', '/api/hooks/git', { token: HOOK, body: { repository: 'recipes', commit: COMMIT, ref: 'refs/heads/main' } }, 202),
    row('a push to a branch not watched is acknowledged', 'POST', '/api/hooks/git', { token: HOOK, body: { repository: 'recipes', commit: COMMIT, ref: 'refs/heads/wip' } }, 200),
    row('a push for an unknown repository is a 404', 'POST', '/api/hooks/git', { token: HOOK, body: { repository: 'nope' } }, 404, 'not_found'),
    row('an unknown task is a 404', 'GET', at(id('nothing')), {}, 404, 'not_found'),
    row('retrying an unknown task is a 404', 'POST', at(id('nothing'), '/retry'), { token: ADMIN }, 404, 'not_found'),
    row('an unknown route is a 404', 'GET', '/api/nothing', {}, 404, 'not_found'),
    row('an admin retries a failed task', 'POST', at(id('broken'), '/retry'), { token: ADMIN }, 200),
    row('an admin cancels a task', 'POST', at(id('n1'), '/cancel'), { token: ADMIN }, 200),
  ];
  it.each(cases)('$what: $method $path → $status', async ({ method, path, opts, status, code }) => {
    const reply = await call(method, path, opts);
    expect(reply.status).toBe(status);
    expect(reply.headers.get('x-request-id')).toBeTruthy();
    if (code) expect(reply.json.error).toMatchObject({ code, message: expect.any(String), requestId: reply.headers.get('x-request-id') });
    if (status === 401) expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it.each([
    ['a missing field', { id: 'x', project: 'serpent' }, 'body.url'],
    ['an id a build id cannot hold', { id: 'a/b', project: 'serpent', url: 'u' }, 'body.id'],
    ['a wrongly typed field', { id: 'x', project: 'serpent', url: 'u', cascade: 'yes' }, 'body.cascade'],
    ['an unknown field', { id: 'x', project: 'serpent', url: 'u', branch: 'main' }, 'body'],
  ])('an invalid body (%s) is a 422 whose issues name the field', async (_what, body, path) => {
    const reply = await call('POST', '/api/repositories', { token: ADMIN, body });
    expect(reply.status).toBe(422);
    expect(reply.json.error.code).toBe('validation_failed');
    expect(reply.json.error.issues).toContainEqual({ path, message: expect.any(String) });
  });

  it.each([
    ['/api/tasks?status=done', 'query.status.0'],
    ['/api/tasks?limit=500', 'query.limit'],
    ['/api/tasks?offset=-1', 'query.offset'],
    ['/api/tasks?cursor=nope!', 'query.cursor'],
    [`/api/tasks?cursor=${Buffer.from('{"a":1}').toString('base64url')}`, 'query.cursor'],
    [`/api/tasks?cursor=${Buffer.from('[1e300,"x"]').toString('base64url')}`, 'query.cursor'],
    ['/api/tasks?cursor=a&cursor=b', 'query.cursor'],
    [at(id('broken'), '/log?tail=0'), 'query.tail'],
  ])('an invalid query %s is a 422 naming %s', async (path, field) => {
    const reply = await call('GET', path);
    expect(reply.status).toBe(422);
    expect(reply.json.error.issues.map((i: { path: string }) => i.path)).toContain(field);
  });

  it('answers 503 with Retry-After when the hub is not running, for pushes and commands alike', async () => {
    pipeline.mode = 'down';
    for (const [path, token, body] of [['/api/hooks/git', HOOK, { repository: 'recipes' }], [at(id('broken'), '/retry'), ADMIN, undefined]] as const) {
      const reply = await call('POST', path, { token, body });
      expect(reply.status).toBe(503);
      expect(reply.json.error).toMatchObject({ code: 'hub_unavailable', message: expect.stringContaining('not running') });
      expect(reply.headers.get('retry-after')).toBe('30');
    }
  });

  it('reports a down hub in /health without failing it', async () => {
    pipeline.mode = 'down';
    const reply = await call('GET', '/health');
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ status: 'degraded', database: { ok: true }, hub: { ok: false, state: 'not running' } });
  });

  it('answers 503 from /health when the database does not answer', async () => {
    const closed = await openDatabase({ url: pg.url, dataDir: dir });
    await closed.close(true);
    const app = createApp({ store: new Store(closed), pipeline, auth: new Auth([]) });
    const other = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    try {
      const reply = await fetch(`http://127.0.0.1:${(other.address() as AddressInfo).port}/health`);
      expect(reply.status).toBe(503);
      expect(await reply.json()).toMatchObject({ status: 'down', database: { ok: false, detail: expect.any(String) }, hub: { ok: true } });
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('answers 409 with the hub\'s reason when it refuses a command', async () => {
    pipeline.mode = 'refuse';
    const reply = await call('POST', at(id('liba'), '/retry'), { token: ADMIN });
    expect(reply.status).toBe(409);
    expect(reply.json.error.message).toMatch(/only failed or cancelled/);
  });

  it('answers 500 without internals for anything unexpected', async () => {
    pipeline.mode = 'broken';
    const reply = await call('POST', '/api/repositories/recipes/refresh', { token: ADMIN });
    expect(reply.status).toBe(500);
    expect(reply.json.error.code).toBe('internal');
    expect(reply.text).not.toMatch(/10\.0\.0\.7|secret|at /);
  });
});

describe('request ids', () => {
  it('echoes a well-formed x-request-id in the header and the error body', async () => {
    const reply = await call('GET', at(id('nothing')), { headers: { 'x-request-id': 'hook-42.abc' } });
    expect(reply.headers.get('x-request-id')).toBe('hook-42.abc');
    expect(reply.json.error.requestId).toBe('hook-42.abc');
  });

  it('replaces a missing or unsafe one with a fresh UUID', async () => {
    for (const headers of [{}, { 'x-request-id': 'evil value\twith tab' }] as Array<Record<string, string>>) {
      const reply = await call('GET', '/api/projects', { headers });
      expect(reply.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe('what the pipeline is asked', () => {
  it('a push becomes one hook refresh with its commit; a refresh by id one api refresh', async () => {
    await call('POST', '/api/hooks/git', { token: HOOK, body: { repository: 'recipes', commit: COMMIT, ref: 'main' } });
    await call('POST', '/api/hooks/git', { token: HOOK, body: { repository: 'recipes', commit: COMMIT, ref: 'refs/heads/wip' } });
    await call('POST', '/api/repositories/recipes/refresh', { token: ADMIN });
    expect(pipeline.calls).toEqual([
      { op: 'refresh', arg: { repository: 'recipes', commit: COMMIT, origin: 'hook' } },
      { op: 'refresh', arg: { repository: 'recipes', origin: 'api' } },
    ]);
  });

  it('a retry carries the task id (decoded from the URL) and who asked', async () => {
    const reply = await call('POST', at(id('broken'), '/retry'), { token: ADMIN });
    expect(reply.json).toEqual({ taskId: id('broken'), status: 'new' });
    expect(pipeline.calls).toEqual([{ op: 'retry', arg: { taskId: id('broken'), by: 'admin' } }]);
  });

  it('nothing is asked when authentication or validation fails', async () => {
    await call('POST', at(id('broken'), '/retry'));
    await call('POST', '/api/hooks/git', { token: HOOK, body: { repository: 'recipes', commit: 'not-hex' } });
    expect(pipeline.calls).toEqual([]);
  });
});

describe('reads', () => {
  it('lists projects, repositories and builders', async () => {
    expect((await call('GET', '/api/projects')).json.items).toContainEqual({ id: 'serpent', repositories: expect.any(Number) });
    expect((await call('GET', '/api/repositories')).json.items.map((r: { id: string }) => r.id)).toContain('recipes');
    expect((await call('GET', '/api/builders')).json.items).toMatchObject([{ id: 'b1', isaLevels: ['x86_64'], slots: 2 }]);
  });

  it('pages tasks with a total, and filters by status, repository and source', async () => {
    const all = await call('GET', '/api/tasks?total=exact');
    expect(all.json).toMatchObject({ total: 7, totalExact: true, totalAt: expect.any(String), limit: 50, offset: 0 });
    expect(Date.parse(all.json.totalAt)).not.toBeNaN();
    expect((await call('GET', '/api/tasks?total=sometimes')).json.error.issues).toEqual([expect.objectContaining({ path: 'query.total' })]);
    const first = await call('GET', '/api/tasks?status=new&limit=3');
    const rest = await call('GET', '/api/tasks?status=new&limit=3&offset=3');
    expect(first.json.total).toBe(4);
    expect([...first.json.items, ...rest.json.items].map((t: { source: string }) => t.source).sort()).toEqual(['n1', 'n2', 'n3', 'n4']);
    const two = await call('GET', '/api/tasks?status=failed,completed');
    expect(two.json.items.map((t: { source: string }) => t.source).sort()).toEqual(['broken', 'liba']);
    const repeated = await call('GET', '/api/tasks?status=failed&status=building&repository=recipes');
    expect(repeated.json.total).toBe(2);
    expect((await call('GET', '/api/tasks?source=liba')).json.items).toMatchObject([{ id: id('liba'), status: 'completed' }]);
  });

  it('pages tasks by keyset: nextCursor walks every task once, newest first, filtered or not', async () => {
    const expected: Record<string, number> = { '': 7, '&status=new': 4, '&repository=recipes': 7, '&status=new,failed': 5 };
    for (const filter of Object.keys(expected)) {
      const seen: Array<{ id: string; createdAt: string }> = [];
      let reply = await call('GET', `/api/tasks?limit=2${filter}`);
      for (;;) {
        expect(reply.status).toBe(200);
        expect(reply.json.total).toBe(expected[filter]);
        seen.push(...reply.json.items);
        if (!reply.json.nextCursor) break;
        reply = await call('GET', `/api/tasks?limit=2${filter}&cursor=${reply.json.nextCursor}`);
      }
      const all = (await call('GET', `/api/tasks?limit=200${filter}`)).json;
      expect(all.nextCursor).toBeNull();
      expect(seen.map((t) => t.id)).toEqual(all.items.map((t: { id: string }) => t.id));
      expect(new Set(seen.map((t) => t.id)).size).toBe(expected[filter]);
      const times = seen.map((t) => Date.parse(t.createdAt));
      expect(times).toEqual([...times].sort((a, b) => b - a));
    }
  });

  it('shows one task by its URL-encoded build id, with its events in order', async () => {
    const reply = await call('GET', at(id('liba')));
    expect(reply.status).toBe(200);
    expect(reply.json.task).toMatchObject({ id: id('liba'), status: 'completed', attempts: 1 });
    expect(reply.json.events.map((e: { to: string }) => e.to)).toEqual(['new', 'queued', 'building', 'publishing', 'completed']);
  });

  it('streams a log whole, or its last lines with ?tail', async () => {
    const whole = await call('GET', at(id('broken'), '/log'));
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(whole.text.split('\n')).toHaveLength(11);
    expect((await call('GET', at(id('broken'), '/log?tail=3'))).text).toBe('line 8\nline 9\nline 10\n');
    expect((await call('GET', at(id('broken'), '/log?tail=100'))).text).toBe(whole.text);
  });

  it('says why a log cannot be served: none yet, or on a host this API cannot read', async () => {
    const none = await call('GET', at(id('n2'), '/log'));
    expect(none.status).toBe(404);
    expect(none.json.error).toMatchObject({ code: 'log_unavailable', message: expect.stringMatching(/no log yet/) });
    const far = await call('GET', at(id('tool'), '/log'));
    expect(far.status).toBe(404);
    expect(far.json.error.message).toMatch(/\/nonexistent\/builder\/tool\.log on builder far-away/);
  });
});

/** Sends bytes as they are (fetch would re-encode them) and reads the one response. */
function rawExchange(bytes: string): Promise<string> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('malformed requests get a 4xx in the error shape', () => {
  const nested = (depth: number) => `{"repository":${'['.repeat(depth)}${']'.repeat(depth)}}`;
  const row = (what: string, method: string, path: string, opts: Parameters<typeof call>[2], status: number, code: string, field?: string) =>
    ({ what, method, path, opts, status, code, field });
  const cases = [
    row('undecodable percent-encoding in an id', 'GET', '/api/tasks/%E0%A4%A', {}, 400, 'bad_request', 'path'),
    row('a lone % in an id of a command', 'POST', '/api/tasks/%/retry', { token: ADMIN }, 400, 'bad_request', 'path'),
    row('a NUL in an id', 'GET', '/api/tasks/build%00x', {}, 400, 'bad_request', 'path'),
    row('a NUL in a repository id', 'POST', '/api/repositories/rec%00ipes/refresh', { token: HOOK }, 400, 'bad_request', 'path'),
    row('a NUL in a query value', 'GET', '/api/tasks?repository=%00', {}, 400, 'bad_request', 'query.repository'),
    row('a control character in a query name', 'GET', '/api/tasks?a%01=1', {}, 400, 'bad_request', 'query'),
    row('undecodable percent-encoding in a query value', 'GET', '/api/tasks?source=%ZZ', {}, 400, 'bad_request', 'query.source'),
    row('a repeated query parameter', 'GET', '/api/tasks?limit=1&limit=2', {}, 422, 'validation_failed', 'query.limit'),
    row('an unknown query parameter', 'GET', '/api/tasks?state=failed', {}, 422, 'validation_failed', 'query'),
    row('a query on a route that takes none', 'GET', '/api/projects?limit=5', {}, 422, 'validation_failed', 'query'),
    row('a fractional limit', 'GET', '/api/tasks?limit=1.5', {}, 422, 'validation_failed', 'query.limit'),
    row('a limit that is not a number', 'GET', '/api/tasks?limit=NaN', {}, 422, 'validation_failed', 'query.limit'),
    row('an offset beyond safe integers', 'GET', '/api/tasks?offset=1e300', {}, 422, 'validation_failed', 'query.offset'),
    row('an unknown query parameter on a log', 'GET', at(id('broken'), '/log?tail=1&x=1'), {}, 422, 'validation_failed', 'query'),
    row('a NUL in a body string', 'POST', '/api/hooks/git', { token: HOOK, body: { repository: 'rec\u0000ipes' } }, 400, 'bad_request', 'body.repository'),
    row('a NUL in a repository URL', 'POST', '/api/repositories', { token: ADMIN, body: { id: 'nul', project: 'serpent', url: '/srv/\u0000' } }, 400, 'bad_request', 'body.url'),
    row('a __proto__ key', 'POST', '/api/hooks/git', { token: HOOK, raw: '{"__proto__":{"admin":true},"repository":"recipes"}' }, 400, 'bad_request', 'body'),
    row('a constructor key', 'POST', '/api/hooks/git', { token: HOOK, raw: '{"constructor":{"prototype":1},"repository":"recipes"}' }, 400, 'bad_request', 'body'),
    row('deeply nested JSON', 'POST', '/api/hooks/git', { token: HOOK, raw: nested(5_000) }, 400, 'bad_request'),
    row('an array body', 'POST', '/api/hooks/git', { token: HOOK, body: ['recipes'] }, 422, 'validation_failed', 'body'),
    row('a JSON null body', 'POST', '/api/hooks/git', { token: HOOK, raw: 'null' }, 400, 'malformed_json'),
    row('a body larger than 64 KiB', 'POST', '/api/hooks/git', { token: HOOK, body: { repository: 'x'.repeat(70_000) } }, 413, 'payload_too_large'),
    row('a text body', 'POST', '/api/hooks/git', { token: HOOK, raw: 'repository=recipes', headers: { 'content-type': 'text/plain' } }, 415, 'unsupported_media_type'),
    row('a form body', 'POST', '/api/repositories', { token: ADMIN, raw: 'id=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'unsupported_media_type'),
    row('a JSON body in Latin-1', 'POST', '/api/hooks/git', { token: HOOK, raw: '{}', headers: { 'content-type': 'application/json; charset=iso-8859-1' } }, 415, 'unsupported_media_type'),
    row('a body on a command that takes none', 'POST', at(id('broken'), '/retry'), { token: ADMIN, body: { force: true } }, 422, 'validation_failed', 'body'),
    row('an id longer than any build id', 'GET', `/api/tasks/${'x'.repeat(2_000)}`, {}, 422, 'validation_failed', 'params.id'),
    row('a URL longer than 8 KiB', 'GET', `/api/tasks?source=${'x'.repeat(9_000)}`, {}, 414, 'uri_too_long'),
    row('PUT on a path that only reads', 'PUT', '/api/tasks', {}, 405, 'method_not_allowed'),
    row('DELETE on a task', 'DELETE', at(id('liba')), {}, 405, 'method_not_allowed'),
    row('GET on a command', 'GET', at(id('liba'), '/retry'), {}, 405, 'method_not_allowed'),
  ];
  it.each(cases)('$what: $method → $status $code', async ({ method, path, opts, status, code, field }) => {
    const reply = await call(method, path, opts);
    expect(reply.status).toBe(status);
    expect(reply.json.error).toMatchObject({ code, message: expect.any(String), requestId: reply.headers.get('x-request-id') });
    if (field) expect(reply.json.error.issues.map((i: { path: string }) => i.path)).toContain(field);
    expect(pipeline.calls).toEqual([]);
  });

  it('answers 405 with the methods the path takes in Allow, and OPTIONS with 204 and the same list', async () => {
    const put = await call('PUT', '/api/tasks');
    expect(put.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    const options = await call('OPTIONS', at(id('liba'), '/cancel'));
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('POST, OPTIONS');
    expect((await call('OPTIONS', '/api/nothing')).status).toBe(404);
  });

  it('answers HEAD like GET without a body', async () => {
    const head = await call('HEAD', '/api/projects');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect((await call('HEAD', at(id('nothing')))).status).toBe(404);
  });

  it('answers headers beyond 16 KiB with 431 in the error shape', async () => {
    const { port } = server.address() as AddressInfo;
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/api/projects', headers: { 'x-padding': 'p'.repeat(20_000) } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(reply.status).toBe(431);
    expect(JSON.parse(reply.body).error).toMatchObject({ code: 'headers_too_large', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  });

  it('answers a request line that is not HTTP with 400 in the error shape', async () => {
    const text = await rawExchange('GET /api/projects\u0000 HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).error).toMatchObject({ code: 'bad_request', requestId: expect.any(String) });
  });

  it('keeps a database outage a logged 500 without internals, not a 4xx', async () => {
    const closed = await openDatabase({ url: pg.url, dataDir: dir });
    await closed.close(true);
    const logged: string[] = [];
    const logger: Logger = { ...silentLogger, error: (msg: string) => void logged.push(msg) };
    const other = await listen(createApp({ store: new Store(closed), pipeline, auth: new Auth([]), logger }), 0, '127.0.0.1');
    try {
      const reply = await fetch(`http://127.0.0.1:${(other.address() as AddressInfo).port}/api/tasks?limit=1`);
      expect(reply.status).toBe(500);
      const body = (await reply.json()) as { error: Record<string, unknown> };
      expect(body.error).toMatchObject({ code: 'internal', requestId: reply.headers.get('x-request-id') });
      expect(logged).toEqual(['unhandled error']);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });
});
