import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/core';
import { createApp } from '../api/app';
import express from 'express';
import { Auth, requireRole, routeAccess } from '../api/auth';
import type { PipelineControl, HubStatus } from '../api/pipeline';
import { readIsPublic, ROLES, type Access, type PublicReads, type Role } from '../core/auth/roles';
import type { RefreshRequest, TaskCommand, TaskCommandResult } from '../core/contracts/hub';
import { generatePayloadKey, parsePayloadKeys } from '../core/payload-codec';
import { SecretBox } from '../core/security/secret-box';
import { openDatabase } from '../db/orm';
import { Store } from '../db/store';
import { TokenStore } from '../db/token-store';
import { WebhookStore } from '../db/webhook-store';
import { responseIssues, serveApp, type ServedApi } from './helpers/api-server';
import { createTestDatabase, type TestDatabase } from './support/postgres';

/**
 * Roles and tokens over the real API and a real database (PostgreSQL and the embedded libsql file): every route
 * of the app, read from its router stack, against every role, allowed or refused as the table below says (a route
 * added without a row, or without declaring its access in its router, fails here); tokens created, revoked and
 * expiring through the API take effect on the next request, also in a second API process over the same database.
 * The pipeline is a recorder (the Temporal side is tested elsewhere): a refused request must never reach it.
 */
class RecordingPipeline implements PipelineControl {
  readonly calls: string[] = [];
  refresh(req: RefreshRequest): Promise<void> {
    this.calls.push(`refresh ${req.repository}`);
    return Promise.resolve();
  }
  retry(cmd: TaskCommand): Promise<TaskCommandResult> {
    this.calls.push(`retry ${cmd.taskId}`);
    return Promise.resolve({ taskId: cmd.taskId, status: 'new' });
  }
  cancel(cmd: TaskCommand): Promise<TaskCommandResult> {
    this.calls.push(`cancel ${cmd.taskId}`);
    return Promise.resolve({ taskId: cmd.taskId, status: 'cancelled' });
  }
  hubStatus(): Promise<HubStatus> {
    return Promise.resolve({ ok: true, state: 'running' });
  }
}

/**
 * What every route needs. `read` / `read:detail`: a viewer's unless SUMMIT_API_PUBLIC_READS makes it public;
 * `<role>:repo`: that role, for the repository the request names; `signed`: no bearer token counts, the body's
 * signature does (test/api-webhooks.test.ts). A new route needs a row here AND its access declared in its router
 * (requireRole, readRoute or publicRoute from api/auth.ts).
 */
type Need = 'public' | 'signed' | 'read' | 'read:detail' | Role | `${Role}:repo`;
const NEEDS: Record<string, Need> = {
  'GET /health': 'public',
  'GET /metrics': 'read',
  'GET /api/projects': 'read',
  'GET /api/builders': 'read',
  'GET /api/repositories': 'read',
  'GET /api/repositories/:id': 'read',
  'POST /api/repositories': 'admin',
  'DELETE /api/repositories/:id': 'admin',
  'POST /api/repositories/:id/refresh': 'contributor:repo',
  'POST /api/repositories/:id/webhook': 'admin',
  'DELETE /api/repositories/:id/webhook': 'admin',
  'POST /api/hooks/git': 'contributor:repo',
  'POST /api/webhooks/github': 'signed',
  'POST /api/webhooks/forgejo': 'signed',
  'GET /api/tasks': 'read',
  'GET /api/tasks/:id': 'read',
  'GET /api/tasks/:id/log': 'read:detail',
  'POST /api/tasks/:id/retry': 'admin',
  'POST /api/tasks/:id/cancel': 'admin',
  'POST /api/tasks/:id/verify': 'admin',
  'POST /api/tokens': 'admin',
  'GET /api/tokens': 'admin',
  'GET /api/tokens/self': 'viewer',
  'POST /api/tokens/:id/revoke': 'admin',
  'POST /api/repositories/:id/pause': 'admin',
  'POST /api/repositories/:id/resume': 'admin',
  'POST /api/repositories/:id/protect': 'admin',
  'POST /api/builders/:id/drain': 'admin',
  'POST /api/builders/:id/resume': 'admin',
  'POST /api/builders/enrolments': 'admin',
  'POST /api/builders/enrol': 'public',
  'GET /api/builders/:id/standing': 'public',
  'POST /api/builders/:id/trust': 'admin',
  'POST /api/builders/:id/revoke': 'admin',
  'POST /api/tasks/:id/priority': 'admin',
  'POST /api/tasks/:id/approve': 'admin',
  'GET /api/farm': 'read',
  'POST /api/farm/pause': 'admin',
  'POST /api/farm/resume': 'admin',
  'GET /api/openapi.json': 'public',
  'GET /api/docs': 'public',
  'GET /api/docs/:asset': 'public',
  'GET /api/indexes/:index/history': 'admin',
  'GET /api/indexes/:index/events': 'read',
  'POST /api/indexes/:index/promote': 'admin',
  'POST /api/indexes/:index/tag': 'admin',
  'POST /api/indexes/:index/rollback': 'admin',
  'POST /api/indexes/:index/prune': 'admin',
  'GET /api/repositories/:id/cycles': 'read',
  'GET /': 'read',
  'GET /tasks': 'read',
  'GET /tasks/:id': 'read:detail',
  'GET /builders': 'read',
  'GET /repositories': 'read',
  'GET /repositories/:id': 'read',
  'GET /packages': 'read',
  'GET /packages/:index': 'read',
  'GET /packages/:index/:name': 'read',
  'GET /login': 'public',
  'GET /dashboard/assets/:name': 'public',
  'GET /api/waves': 'read',
  'GET /api/verifications': 'read',
  'POST /api/repositories/:id/try': 'contributor:repo',
  'GET /api/tries': 'read',
  'GET /api/tries/:name': 'read',
  'POST /api/tries/:name/expire': 'admin',
  'POST /api/tries/sweep': 'admin',
  'GET /api/waves/:id': 'read',
  'POST /api/waves/:id/cancel': 'admin',
  'POST /api/waves/:id/publish-finished': 'admin',
  'POST /api/waves/:id/retry-closure': 'admin',
  'POST /codec/encode': 'admin',
  'POST /codec/decode': 'admin',
};

/** The declared access, in the table's words (signed webhooks declare `public`: their credential is not a token). */
function needOf(access: Access): Need {
  if (access.kind === 'public') return 'public';
  if (access.kind === 'read') return access.level === 'detail' ? 'read:detail' : 'read';
  return access.repository ? `${access.role}:repo` : access.role;
}

type Caller = 'anonymous' | Role;
const CALLERS: Caller[] = ['anonymous', 'viewer', 'contributor', 'builder', 'admin'];
const INCLUDED: Record<Role, Role[]> = {
  viewer: ['viewer'], contributor: ['contributor', 'viewer'], builder: ['builder', 'viewer'], admin: ['admin', 'contributor', 'builder', 'viewer'],
};

/** The status class a caller must get: `allowed` (anything but 401/403), 401 or 403. */
function expected(need: Need, caller: Caller, publicReads: PublicReads): 'allowed' | 401 | 403 {
  if (need === 'public') return 'allowed';
  if (need === 'signed') return 401;
  const level = need === 'read' ? 'summary' : need === 'read:detail' ? 'detail' : undefined;
  if (level && readIsPublic(level, publicReads)) return 'allowed';
  const role = (level ? 'viewer' : need.replace(/:repo$/, '')) as Role;
  if (caller === 'anonymous') return 401;
  return INCLUDED[caller].includes(role) ? 'allowed' : 403;
}

interface Reply {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- error bodies are checked field by field
  json: any;
}

async function call(base: string, method: string, path: string, opts: { token?: string; body?: unknown } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  // Whatever role asked, a success answer fits the schema its route documents in /api/openapi.json.
  expect(responseIssues(method, path, res.status, res.headers.get('content-type'), json)).toEqual([]);
  return { status: res.status, json };
}

const ADMIN_FILE_TOKEN = `summit_admin_${'a'.repeat(43)}`;
const HOOK_FILE_TOKEN = `summit_hook_${'h'.repeat(43)}`;

describe.each(['postgresql', 'embedded libsql'])('roles and tokens on %s', (driver) => {
  let dir: string;
  let pg: TestDatabase | undefined;
  let orm: MikroORM;
  let second: MikroORM;
  let tokens: TokenStore;
  const servers: ServedApi[] = [];
  const pipeline = new RecordingPipeline();
  const clock = { now: new Date('2026-12-01T12:00:00Z') };
  /** One app per SUMMIT_API_PUBLIC_READS setting, all over the same database. */
  const bases = {} as Record<PublicReads, string>;
  /** Another API process's app (its own ORM and Auth) over the same database, reads `none`. */
  let otherBase: string;
  const token = {} as Record<Role | 'otherContributor', string>;
  let routes: Array<{ method: string; path: string; access?: Access }>;

  const serve = async (orm_: MikroORM, publicReads: PublicReads): Promise<{ base: string; app: ReturnType<typeof createApp> }> => {
    const box = new SecretBox(parsePayloadKeys(generatePayloadKey('t'), 'test'));
    const app = createApp({
      store: new Store(orm_), pipeline, auth: new Auth(new TokenStore(orm_), { publicReads, now: () => clock.now }),
      repositoryRoots: ['/srv'], webhooks: { webhooks: new WebhookStore(orm_), box },
    });
    const served = await serveApp(app);
    servers.push(served);
    return { base: served.url, app };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'summit-auth-'));
    if (driver === 'postgresql') pg = await createTestDatabase('auth');
    orm = await openDatabase({ url: pg?.url, dataDir: dir });
    second = await openDatabase({ url: pg?.url, dataDir: dir });
    const store = new Store(orm);
    for (const id of ['recipes', 'other']) await store.addRepository({ id, project: 'serpent', url: `https://git.example.org/serpent/${id}.git`, ref: 'main' });
    tokens = new TokenStore(orm);
    // The bootstrap file's tokens, as startApi imports them.
    expect(await tokens.importBootstrap([{ name: 'admin', role: 'admin', token: ADMIN_FILE_TOKEN }, { name: 'hook', role: 'hook', token: HOOK_FILE_TOKEN }])).toBe(2);
    token.admin = ADMIN_FILE_TOKEN;
    for (const publicReads of ['all', 'summary', 'none'] as const) {
      const { base, app } = await serve(orm, publicReads);
      bases[publicReads] = base;
      routes ??= routeAccess(app).filter((r) => r.method !== 'HEAD');
    }
    otherBase = (await serve(second, 'none')).base;
    // Tokens of every role made through the API by the bootstrap admin.
    for (const [role, extra] of [['viewer', {}], ['contributor', { repositories: ['recipes'] }], ['builder', {}]] as const) {
      const made = await call(bases.none, 'POST', '/api/tokens', { token: ADMIN_FILE_TOKEN, body: { name: `${role}-1`, role, ...extra } });
      expect(made.status).toBe(201);
      token[role] = made.json.token;
    }
    token.otherContributor = (await call(bases.none, 'POST', '/api/tokens', { token: ADMIN_FILE_TOKEN, body: { name: 'other-dev', role: 'contributor', repositories: ['other'] } })).json.token;
  });

  afterAll(async () => {
    for (const s of servers) await s.close();
    await second?.close(true);
    await orm?.close(true);
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every route declares its access and has a row in the table, and they agree', () => {
    const undeclared = routes.filter((r) => !r.access).map((r) => `${r.method} ${r.path}`);
    if (undeclared.length) {
      throw new Error(`routes that declare no access (add requireRole(deps.auth, role), readRoute(deps.auth) or publicRoute(why) from api/auth.ts to each): ${undeclared.join(', ')}`);
    }
    const unlisted = routes.filter((r) => !NEEDS[`${r.method} ${r.path}`]).map((r) => `${r.method} ${r.path}`);
    if (unlisted.length) throw new Error(`routes without a row in NEEDS of test/api-auth.test.ts (say which role each needs): ${unlisted.join(', ')}`);
    const declared = Object.fromEntries(routes.map((r) => [`${r.method} ${r.path}`, needOf(r.access!)]));
    const wanted = Object.fromEntries(Object.entries(NEEDS).filter(([k]) => k in declared).map(([k, v]) => [k, v === 'signed' ? 'public' : v]));
    expect(declared).toEqual(wanted);
    expect(Object.keys(NEEDS).filter((k) => !(k in declared))).toEqual([]);
  });

  /** The request a caller makes to a route: repository-scoped ones name the contributor's repository. */
  const requestFor = (method: string, path: string) => {
    const scoped = NEEDS[`${method} ${path}`]?.endsWith(':repo');
    const filled = path.replace(/:[A-Za-z_]+/g, scoped ? 'recipes' : 'nothing');
    const body = method === 'GET' ? undefined : path === '/api/hooks/git' ? { repository: 'recipes' } : {};
    return { path: filled, body };
  };

  it.each(['all', 'summary', 'none'] as const)('with SUMMIT_API_PUBLIC_READS=%s, every route × role is allowed or refused as the table says, and a refused request changes nothing', async (publicReads) => {
    const wrong: string[] = [];
    for (const route of routes) {
      const need = NEEDS[`${route.method} ${route.path}`];
      const { path, body } = requestFor(route.method, route.path);
      for (const caller of CALLERS) {
        const want = expected(need, caller, publicReads);
        const before = pipeline.calls.length;
        const reply = await call(bases[publicReads], route.method, path, { token: caller === 'anonymous' ? undefined : token[caller], body });
        const got = reply.status === 401 || reply.status === 403 ? reply.status : 'allowed';
        if (got !== want) wrong.push(`${caller} ${route.method} ${path}: want ${want}, got ${reply.status} ${JSON.stringify(reply.json?.error?.message ?? '')}`);
        if (got !== 'allowed' && pipeline.calls.length !== before) wrong.push(`${caller} ${route.method} ${path}: refused but the pipeline was asked`);
        if (got === 403) expect(reply.json.error.message).toMatch(/needs the \w+ role; the token "[^"]+" has \w+/);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('a contributor\'s token works on the repositories it names only: 403 naming the other repository', async () => {
    pipeline.calls.length = 0;
    expect((await call(bases.none, 'POST', '/api/hooks/git', { token: token.contributor, body: { repository: 'recipes' } })).status).toBe(202);
    expect((await call(bases.none, 'POST', '/api/repositories/recipes/refresh', { token: token.contributor })).status).toBe(202);
    for (const [path, body] of [['/api/hooks/git', { repository: 'other' }], ['/api/repositories/other/refresh', undefined]] as const) {
      const refused = await call(bases.none, 'POST', path, { token: token.contributor, body });
      expect(refused.status).toBe(403);
      expect(refused.json.error.message).toBe('the token "contributor-1" has no rights on repository "other" (it names recipes)');
    }
    expect((await call(bases.none, 'POST', '/api/hooks/git', { token: token.otherContributor, body: { repository: 'other' } })).status).toBe(202);
    // tokens.json's hook token is a contributor of every repository; an admin's covers every repository too.
    for (const t of [HOOK_FILE_TOKEN, token.admin]) expect((await call(bases.none, 'POST', '/api/repositories/other/refresh', { token: t })).status).toBe(202);
    expect(pipeline.calls).toEqual(['refresh recipes', 'refresh recipes', 'refresh other', 'refresh other', 'refresh other']);
  });

  it('creates a token whose secret is shown once and never listed; revoking it refuses it on the next request, in every API process', async () => {
    const made = await call(bases.none, 'POST', '/api/tokens', { token: token.admin, body: { name: 'ci-reader', role: 'viewer' } });
    expect(made.status).toBe(201);
    expect(made.json).toMatchObject({ id: expect.stringMatching(/^tok_[0-9a-f]{16}$/), name: 'ci-reader', role: 'viewer', repositories: null, expiresAt: null, revokedAt: null, createdBy: 'admin', origin: 'api' });
    expect(made.json.token).toMatch(/^summit_viewer_[A-Za-z0-9_-]{43}$/);
    expect(made.json.hash).toBeUndefined();
    const listed = await call(bases.none, 'GET', '/api/tokens', { token: token.admin });
    const text = JSON.stringify(listed.json);
    expect(text).not.toContain(made.json.token);
    expect(text).not.toMatch(/"hash"/);
    expect(listed.json.items.find((t: { id: string }) => t.id === made.json.id)).toMatchObject({ name: 'ci-reader', revokedAt: null });

    // Both processes take the new token at once.
    for (const base of [bases.none, otherBase]) expect((await call(base, 'GET', '/api/tasks', { token: made.json.token })).status).toBe(200);
    const revoked = await call(bases.none, 'POST', `/api/tokens/${made.json.id}/revoke`, { token: token.admin });
    expect(revoked.status).toBe(200);
    expect(revoked.json).toMatchObject({ id: made.json.id, revokedBy: 'admin', revokedAt: expect.any(String) });
    for (const base of [bases.none, otherBase]) {
      const refused = await call(base, 'GET', '/api/tasks', { token: made.json.token });
      expect(refused.status).toBe(401);
      expect(refused.json.error.message).toMatch(/^the token "ci-reader" was revoked at /);
    }
    // Revoking again answers the same record; an unknown id is a 404.
    expect((await call(bases.none, 'POST', `/api/tokens/${made.json.id}/revoke`, { token: token.admin })).json.revokedAt).toBe(revoked.json.revokedAt);
    expect((await call(bases.none, 'POST', '/api/tokens/tok_nothing/revoke', { token: token.admin })).status).toBe(404);
  });

  it('a token with an expiry works until it, and is refused from then on', async () => {
    const expiresAt = new Date(clock.now.getTime() + 3600_000).toISOString();
    const made = await call(bases.none, 'POST', '/api/tokens', { token: token.admin, body: { name: 'temp', role: 'contributor', repositories: ['recipes'], expiresAt } });
    expect(made.status).toBe(201);
    expect(made.json.expiresAt).toBe(expiresAt);
    expect((await call(bases.none, 'POST', '/api/repositories/recipes/refresh', { token: made.json.token })).status).toBe(202);
    const saved = clock.now;
    clock.now = new Date(clock.now.getTime() + 3600_000);
    try {
      const refused = await call(bases.none, 'POST', '/api/repositories/recipes/refresh', { token: made.json.token });
      expect(refused.status).toBe(401);
      expect(refused.json.error.message).toBe(`the token "temp" expired at ${expiresAt}`);
    } finally {
      clock.now = saved;
    }
    const past = await call(bases.none, 'POST', '/api/tokens', { token: token.admin, body: { name: 'late', role: 'viewer', expiresAt: new Date(clock.now.getTime() - 1000).toISOString() } });
    expect(past.status).toBe(422);
    expect(past.json.error.issues).toEqual([{ path: 'body.expiresAt', message: 'must be in the future' }]);
  });

  it.each([
    ['repositories on a role other than contributor', { name: 'x', role: 'viewer', repositories: ['recipes'] }, 'body.repositories'],
    ['an unknown role', { name: 'x', role: 'hook' }, 'body.role'],
    ['a name with a space', { name: 'a b', role: 'viewer' }, 'body.name'],
    ['an expiry without a zone', { name: 'x', role: 'viewer', expiresAt: '2030-01-01T00:00:00' }, 'body.expiresAt'],
  ])('refuses a token with %s (422 naming the field)', async (_what, body, field) => {
    const reply = await call(bases.none, 'POST', '/api/tokens', { token: token.admin, body });
    expect(reply.status).toBe(422);
    expect(reply.json.error.issues.map((i: { path: string }) => i.path)).toContain(field);
  });

  it('keeps the last working admin token (409), and a revoked bootstrap token stays revoked when the file is imported again', async () => {
    const list = async () => (await call(bases.none, 'GET', '/api/tokens', { token: token.admin })).json.items as Array<{ id: string; name: string; role: string; origin: string; revokedAt: string | null }>;
    const bootstrap = (await list()).filter((t) => t.origin === 'bootstrap');
    expect(bootstrap.map((t) => [t.name, t.role]).sort()).toEqual([['admin', 'admin'], ['hook', 'contributor']]);
    const adminId = bootstrap.find((t) => t.name === 'admin')!.id;
    const last = await call(bases.none, 'POST', `/api/tokens/${adminId}/revoke`, { token: token.admin });
    expect(last.status).toBe(409);
    expect(last.json.error.message).toMatch(/last working admin token/);

    const second = await call(bases.none, 'POST', '/api/tokens', { token: token.admin, body: { name: 'ops', role: 'admin' } });
    expect((await call(bases.none, 'POST', `/api/tokens/${adminId}/revoke`, { token: second.json.token })).status).toBe(200);
    expect((await call(bases.none, 'GET', '/api/tokens', { token: ADMIN_FILE_TOKEN })).status).toBe(401);
    // The next start imports tokens.json again: the revoked secret is known and stays revoked.
    expect(await tokens.importBootstrap([{ name: 'admin', role: 'admin', token: ADMIN_FILE_TOKEN }])).toBe(0);
    expect((await call(bases.none, 'GET', '/api/tokens', { token: ADMIN_FILE_TOKEN })).status).toBe(401);
    token.admin = second.json.token;
  });

  it('tells a token who it is (GET /api/tokens/self), whatever its role', async () => {
    const self = await call(bases.all, 'GET', '/api/tokens/self', { token: token.contributor });
    expect(self.status).toBe(200);
    expect(self.json).toEqual({ id: expect.stringMatching(/^tok_/), name: 'contributor-1', role: 'contributor', repositories: ['recipes'] });
    expect((await call(bases.all, 'GET', '/api/tokens/self', { token: HOOK_FILE_TOKEN })).json).toMatchObject({ name: 'hook', role: 'contributor', repositories: null });
  });

  it('a malformed Authorization header is a 401 saying the form, even on a read', async () => {
    const reply = await fetch(`${bases.none}/api/tasks`, { headers: { authorization: `Basic ${token.viewer}` } });
    expect(reply.status).toBe(401);
    expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(((await reply.json()) as { error: { message: string } }).error.message).toBe('the Authorization header must be "Bearer <token>"');
  });
});

describe('routeAccess', () => {
  it('reports a route that declares no access, so the table test above names it', () => {
    const app = createApp({ store: {} as Store, pipeline: new RecordingPipeline(), auth: new Auth([]) });
    const extra = express.Router();
    extra.get('/api/undeclared', (_req, res) => res.json({}));
    extra.post('/api/declared', requireRole(new Auth([]), 'builder'), (_req, res) => res.json({}));
    app.use(extra);
    const access = routeAccess(app);
    expect(access.filter((r) => r.path === '/api/undeclared')).toEqual([
      { method: 'GET', path: '/api/undeclared', access: undefined },
      { method: 'HEAD', path: '/api/undeclared', access: undefined },
    ]);
    expect(access.find((r) => r.path === '/api/declared')).toEqual({ method: 'POST', path: '/api/declared', access: { kind: 'role', role: 'builder' } });
    expect(access.find((r) => r.path === '/health')?.access).toMatchObject({ kind: 'public' });
  });
});

test("README's roles table lists exactly the roles of core/auth/roles.ts (and what no token may do)", () => {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('  | role | may |'));
  const rows = [...table.slice(0, table.indexOf('\n\n')).matchAll(/^\s*\| ([^|]+?) \|/gm)].map((m) => m[1]).filter((r) => r !== 'role' && !r.startsWith('---'));
  expect(rows).toEqual(['(no token)', ...ROLES]);
});
