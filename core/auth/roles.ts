/**
 * Who may do what on the API, as data: the roles, what each includes, the access each route declares, and the one
 * decision over them. Pure (no HTTP, no database): api/auth.ts applies it to requests, the route×role test reads
 * the same table.
 *
 * Roles are not one ladder: a contributor and a builder can each read, neither can do what the other does, and
 * the admin can do everything.
 *
 *   viewer       reads what is not public (SUMMIT_API_PUBLIC_READS decides what is)
 *   contributor  reports pushes and asks for refreshes, for the repositories its token names (or all of them)
 *   builder      a builder's own credentials: what a build host reports to the API (issue 12 part 1, the live log,
 *                is the first such route); never a push, a command or a token. Builders take their work from
 *                Temporal, which does not see API tokens: restricting them there is Temporal's mTLS (issue 10)
 *   admin        everything: tokens, repositories, task commands, the codec endpoint
 */
export const ROLES = ['viewer', 'contributor', 'builder', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/**
 * The role of tokens.json's second generated token and of routes written before roles: `hook` is a contributor
 * for every repository.
 */
export type LegacyRole = 'hook';
export type RoleName = Role | LegacyRole;

export function roleOf(name: RoleName): Role {
  return name === 'hook' ? 'contributor' : name;
}

/** Each role with the roles it includes (itself too). */
const INCLUDES: Record<Role, readonly Role[]> = {
  viewer: ['viewer'],
  contributor: ['contributor', 'viewer'],
  builder: ['builder', 'viewer'],
  admin: ['admin', 'contributor', 'builder', 'viewer'],
};

export function includes(held: Role, wanted: Role): boolean {
  return INCLUDES[held].includes(wanted);
}

/**
 * What the API shows without a token (SUMMIT_API_PUBLIC_READS):
 *   all      every read (the default: dashboards and `curl` work as before roles existed)
 *   summary  lists and states (tasks, repositories, builders, projects, metrics); a task's log needs a viewer
 *   none     nothing but /health (probes): every other read needs a viewer token
 */
export const PUBLIC_READS = ['all', 'summary', 'none'] as const;
export type PublicReads = (typeof PUBLIC_READS)[number];

/**
 * What a route declares it needs.
 *   public   anybody, always (/health; signed webhooks, whose handler checks the signature instead)
 *   read     a read: public when SUMMIT_API_PUBLIC_READS allows its `level`, otherwise a viewer's
 *   role     a token whose role includes `role`; `repository` says where the request names the repository a
 *            contributor's token must cover
 */
export type Access =
  | { kind: 'public'; why: string }
  | { kind: 'read'; level: 'summary' | 'detail' }
  | { kind: 'role'; role: Role; repository?: RepositoryFrom };

/** Where a repository-scoped route carries the repository id. */
export type RepositoryFrom = 'params.id' | 'body.repository';

/** Who presented a token. `repositories: null` is every repository. */
export interface Identity {
  /** The token's id in the database (absent for tokens given in memory). */
  id?: string;
  /** Shown in task events as who asked (TaskCommand.by). */
  name: string;
  role: Role;
  repositories: readonly string[] | null;
}

/** Whether a read at `level` needs no token under `publicReads`. */
export function readIsPublic(level: 'summary' | 'detail', publicReads: PublicReads): boolean {
  return publicReads === 'all' || (publicReads === 'summary' && level === 'summary');
}

export type Decision =
  | { ok: true }
  | { ok: false; status: 401 | 403; message: string };

/**
 * The one decision: may `identity` (undefined: no token) make a request to a route declaring `access`, naming
 * `repository` (when the route is repository-scoped and the request names one)?
 */
export function decide(access: Access, identity: Identity | undefined, publicReads: PublicReads, repository?: string): Decision {
  if (access.kind === 'public') return { ok: true };
  const wanted: Role = access.kind === 'read' ? 'viewer' : access.role;
  if (access.kind === 'read' && readIsPublic(access.level, publicReads)) return { ok: true };
  if (!identity) return { ok: false, status: 401, message: 'a bearer token is required' };
  if (!includes(identity.role, wanted)) {
    return { ok: false, status: 403, message: `this needs the ${wanted} role; the token "${identity.name}" has ${identity.role}` };
  }
  if (access.kind === 'role' && access.repository && repository !== undefined && !covers(identity, repository)) {
    return { ok: false, status: 403, message: `the token "${identity.name}" has no rights on repository "${repository}" (it names ${identity.repositories?.join(', ') ?? 'none'})` };
  }
  return { ok: true };
}

/** Whether the identity's rights extend to `repository`. Admins' tokens cover every repository. */
export function covers(identity: Identity, repository: string): boolean {
  return identity.role === 'admin' || identity.repositories === null || identity.repositories.includes(repository);
}
