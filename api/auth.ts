import type { Application, Request, RequestHandler } from 'express';
import { decide, roleOf, type Access, type Identity, type PublicReads, type RepositoryFrom, type RoleName } from '../core/auth/roles';
import { hashToken } from '../core/auth/token-secret';
import type { TokenLookup, TokenStore } from '../db/token-store';
import { DatabaseUnavailableError, ForbiddenError, UnauthorizedError } from './errors';
import type { RouteEntry } from './route-table';
import type { TokenEntry } from './tokens';

/**
 * Who may do what, applied to requests: every route declares its access with one of requireRole, readRoute or
 * publicRoute (the decision itself is core/auth/roles.ts); `Authorization: Bearer <token>` is looked up by its
 * digest in the token table (db/token-store.ts) on every request that needs one, so a revocation or an expiry
 * holds from the next request in every API process. routeAccess() reads the declarations back from the app, so
 * the route×role test fails for a route that declares none.
 *
 * The tokens file (generation, 0600, reading) is in tokens.ts, apart from express, so that the CLI can read the
 * hook token without loading the web stack; loadOrCreateTokens is re-exported here by name.
 */
export { loadOrCreateTokens } from './tokens';
export type { Identity } from '../core/auth/roles';

/** Where Auth finds tokens: the database (TokenStore) or, for tests and tools, a list held in memory. */
export interface TokenSource {
  lookup(hash: string): Promise<TokenLookup>;
}

/** Tokens given in memory (tokens.json's entries); `hook` becomes a contributor for every repository. */
class MemoryTokens implements TokenSource {
  private readonly byHash: Map<string, Identity>;

  constructor(tokens: readonly TokenEntry[]) {
    this.byHash = new Map(tokens.map((t) => [hashToken(t.token), { name: t.name, role: roleOf(t.role), repositories: null }]));
  }

  lookup(hash: string): Promise<TokenLookup> {
    const identity = this.byHash.get(hash);
    return Promise.resolve(identity ? { found: true, identity, revokedAt: null, expiresAt: null } : { found: false });
  }
}

export interface AuthOptions {
  /** SUMMIT_API_PUBLIC_READS (default `all`). */
  publicReads?: PublicReads;
  /** The clock expiry is judged by (tests move it). */
  now?: () => Date;
}

export type Authentication = { ok: true; identity: Identity } | { ok: false; reason: string };

export class Auth {
  readonly publicReads: PublicReads;
  /** The clock expiry is judged by. */
  readonly now: () => Date;
  private readonly source: TokenSource;

  /** `tokens`: a TokenStore (the API), or tokens in memory (tests; an empty list refuses every token). */
  constructor(tokens: readonly TokenEntry[] | TokenSource = [], opts: AuthOptions = {}) {
    this.source = Array.isArray(tokens) ? new MemoryTokens(tokens) : (tokens as TokenSource);
    this.publicReads = opts.publicReads ?? 'all';
    this.now = opts.now ?? (() => new Date());
  }

  /** The token store behind this Auth, when tokens are kept in the database (the token routes need it). */
  get store(): TokenStore | undefined {
    const source = this.source as Partial<TokenStore>;
    return typeof source.create === 'function' ? (this.source as TokenStore) : undefined;
  }

  async authenticate(token: string): Promise<Authentication> {
    let found: TokenLookup;
    try {
      found = await this.source.lookup(hashToken(token));
    } catch (err) {
      throw new DatabaseUnavailableError(`the token could not be checked: the database did not answer (${(err as Error).message.split('\n')[0].slice(0, 200)})`);
    }
    if (!found.found) return { ok: false, reason: 'unknown token' };
    const name = found.identity.name;
    if (found.revokedAt) return { ok: false, reason: `the token "${name}" was revoked at ${found.revokedAt.toISOString()}` };
    if (found.expiresAt && found.expiresAt.getTime() <= this.now().getTime()) return { ok: false, reason: `the token "${name}" expired at ${found.expiresAt.toISOString()}` };
    return { ok: true, identity: found.identity };
  }

  /** The identity of a working token; undefined for an unknown, revoked or expired one. */
  async identify(token: string): Promise<Identity | undefined> {
    const result = await this.authenticate(token);
    return result.ok ? result.identity : undefined;
  }
}

const ACCESS = Symbol('summit.route-access');
type Tagged = RequestHandler & { [ACCESS]?: Access };

function tag(handler: RequestHandler, access: Access): RequestHandler {
  return Object.assign(handler, { [ACCESS]: access });
}

/** The bearer token of a request: undefined when there is no Authorization header; a 401 when it is malformed. */
function bearer(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw new UnauthorizedError('the Authorization header must be "Bearer <token>"');
  return match[1];
}

function repositoryOf(req: Request, from: RepositoryFrom | undefined): string | undefined {
  if (!from) return undefined;
  // A value that is not a string is left to the route's schema (422); the decision needs a name to judge.
  const value: unknown = from === 'params.id' ? req.params.id : (req.body as Record<string, unknown> | undefined)?.repository;
  return typeof value === 'string' ? value : undefined;
}

function guard(auth: Auth, access: Access): RequestHandler {
  return tag((req, res, next) => {
    void (async () => {
      if (access.kind === 'public' || (access.kind === 'read' && decide(access, undefined, auth.publicReads).ok)) return;
      const token = bearer(req);
      let identity: Identity | undefined;
      if (token !== undefined) {
        const result = await auth.authenticate(token);
        if (!result.ok) throw new UnauthorizedError(result.reason);
        identity = result.identity;
      }
      const decision = decide(access, identity, auth.publicReads, repositoryOf(req, access.kind === 'role' ? access.repository : undefined));
      if (!decision.ok) throw decision.status === 401 ? new UnauthorizedError(decision.message) : new ForbiddenError(decision.message);
      res.locals.identity = identity;
    })().then(() => next(), next);
  }, access);
}

/**
 * The permission check of a route that changes something or reads what only some may read: a token whose role
 * includes `role`, else 401 (no, unknown, revoked or expired token) or 403 (a role that does not include it, or
 * a contributor's token that does not name the repository the request names at `repository`). The identity is
 * left in `res.locals.identity` for TaskCommand.by. `hook` is accepted for `contributor` (routes written before
 * roles).
 */
export function requireRole(auth: Auth, role: RoleName, opts: { repository?: RepositoryFrom } = {}): RequestHandler {
  return guard(auth, { kind: 'role', role: roleOf(role), ...(opts.repository ? { repository: opts.repository } : {}) });
}

/**
 * A read: public when SUMMIT_API_PUBLIC_READS allows reads at `level` (`summary`: lists and states, `detail`:
 * what only a viewer should see by default in a closed farm, such as build logs), otherwise a viewer's token.
 */
export function readRoute(auth: Auth, level: 'summary' | 'detail' = 'summary'): RequestHandler {
  return guard(auth, { kind: 'read', level });
}

/** A route anybody may call whatever the settings (health probes; signed webhooks, which check a signature). */
export function publicRoute(why: string): RequestHandler {
  return tag((_req, _res, next) => next(), { kind: 'public', why });
}

export function identityOf(locals: Record<string, unknown>): Identity {
  const identity = locals.identity as Identity | undefined;
  // requireRole always runs first on routes that read the identity; reaching here without one is a wiring bug.
  if (!identity) throw new Error('no identity: the route is missing requireRole()');
  return identity;
}

interface StackLayer {
  route?: { path: unknown; methods: Record<string, boolean>; stack?: Array<{ handle?: Tagged }> };
  handle?: { stack?: StackLayer[] };
}

/**
 * Every route of the app with the access it declares (undefined: none, which the route×role test refuses). Read
 * from express's router stack the way route-table.ts reads the routes; HEAD follows GET.
 */
export function routeAccess(app: Application): Array<RouteEntry & { access?: Access }> {
  const out: Array<RouteEntry & { access?: Access }> = [];
  const walk = (stack: StackLayer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const access = layer.route.stack?.map((l) => l.handle?.[ACCESS]).find((a) => a !== undefined);
        const methods = Object.keys(layer.route.methods).map((m) => (m === '_all' ? '*' : m.toUpperCase()));
        if (methods.includes('GET') && !methods.includes('HEAD')) methods.push('HEAD');
        for (const method of methods) out.push({ method, path: String(layer.route.path), access });
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: StackLayer[] } }).router.stack);
  return out;
}

/** routeAccess as `METHOD /path` → access (HEAD and catch-alls left out): what api/openapi.ts writes security from. */
export function accessTable(app: Application): Record<string, Access | undefined> {
  const table: Record<string, Access | undefined> = {};
  for (const r of routeAccess(app)) if (r.method !== 'HEAD' && r.method !== '*') table[`${r.method} ${r.path}`] = r.access;
  return table;
}
