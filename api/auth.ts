import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import { ForbiddenError, UnauthorizedError } from './errors';
import { ROLES, type Role, type TokenEntry } from './tokens';

/**
 * Who may do what: `Authorization: Bearer <token>` against the tokens of tokens.ts. GET routes are public
 * (dashboards); every POST goes through requireRole. Roles nest: admin can do whatever hook can.
 *
 * The tokens file itself (generation, 0600, reading) is in tokens.ts, apart from express, so that the CLI can
 * read the hook token without loading the web stack; loadOrCreateTokens is re-exported here by name.
 */
export { loadOrCreateTokens } from './tokens';

export interface Identity {
  name: string;
  role: Role;
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Who a bearer token belongs to. Comparison is constant-time over digests of equal length. */
export class Auth {
  private readonly entries: Array<{ digest: Buffer; identity: Identity }>;

  constructor(tokens: readonly TokenEntry[]) {
    this.entries = tokens.map((t) => ({ digest: digest(t.token), identity: { name: t.name, role: t.role } }));
  }

  identify(token: string): Identity | undefined {
    const presented = digest(token);
    let found: Identity | undefined;
    // Every entry is compared (no early exit), so the time taken does not say which entry matched.
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, presented)) found ??= entry.identity;
    }
    return found;
  }
}

export function allows(held: Role, wanted: Role): boolean {
  return ROLES.indexOf(held) >= ROLES.indexOf(wanted);
}

/**
 * The one permission check: `Authorization: Bearer <token>` whose role includes `role`, else 401 (no or unknown
 * token) or 403 (known token, lesser role). The identity is left in `res.locals.identity` for TaskCommand.by.
 */
export function requireRole(auth: Auth, role: Role): RequestHandler {
  return (req, res, next) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) {
      next(new UnauthorizedError(header ? 'the Authorization header must be "Bearer <token>"' : 'a bearer token is required'));
      return;
    }
    const identity = auth.identify(match[1]);
    if (!identity) {
      next(new UnauthorizedError('unknown token'));
      return;
    }
    if (!allows(identity.role, role)) {
      next(new ForbiddenError(`this needs the ${role} role; the token "${identity.name}" has ${identity.role}`));
      return;
    }
    res.locals.identity = identity;
    next();
  };
}

export function identityOf(locals: Record<string, unknown>): Identity {
  const identity = locals.identity as Identity | undefined;
  // requireRole always runs first on routes that read the identity; reaching here without one is a wiring bug.
  if (!identity) throw new Error('no identity: the route is missing requireRole()');
  return identity;
}
