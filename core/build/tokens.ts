import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Artefact tokens: a builder hands them out with each build result, and its artefact server lets the holder
 * act on that build, and only that build, until the token expires. Two scopes, never interchangeable:
 * - `read`: fetch the build's files and follow its log. Summit gets it at pickup and keeps it (to follow logs),
 *   vessel uses it to fetch.
 * - `release`: delete the build's artefacts and scratch space (`DELETE /builds/<id>`), once vessel has them.
 *   Only in the build result for vessel; summit never stores it, so whoever reads summit's database can follow a
 *   build but cannot destroy what it produced before it is imported.
 *
 * Form: `<version>.<base64url build id>.<expiry, unix seconds>.<base64url HMAC-SHA256>`, the MAC taken with the
 * builder's secret over `<context> NUL buildId NUL expiry`; the version and the context name the scope (`v1`,
 * `summit-artefact-token/v1` for reading, as before scopes; `r1`, `summit-artefact-release/v1` for releasing).
 * The build id travels in the token so that a valid token presented for another build, or for the other scope,
 * is told apart (403) from a forged or damaged one (401). Stateless: nothing to store, and a builder restart keeps
 * tokens valid as long as the secret file stays.
 */
export type TokenScope = 'read' | 'release';

const FORMS: Readonly<Record<TokenScope, { version: string; context: string; action: string }>> = {
  read: { version: 'v1', context: 'summit-artefact-token/v1', action: 'reading' },
  release: { version: 'r1', context: 'summit-artefact-release/v1', action: 'releasing' },
};
const SCOPE_OF_VERSION: ReadonlyMap<string, TokenScope> = new Map(Object.entries(FORMS).map(([scope, f]) => [f.version, scope as TokenScope]));

export interface SignedToken {
  token: string;
  /** Unix seconds. */
  expiresAt: number;
}

export type TokenCheck =
  | { ok: true; expiresAt: number }
  /** 401: no token, a malformed or forged one, or an expired one (the holder should get a fresh token). */
  | { ok: false; status: 401; reason: string }
  /** 403: a genuine token, for another build or for the other scope. */
  | { ok: false; status: 403; reason: string };

function mac(secret: Uint8Array, scope: TokenScope, buildId: string, expiresAt: number): Buffer {
  return createHmac('sha256', secret).update(`${FORMS[scope].context}\0${buildId}\0${expiresAt}`).digest();
}

export function signArtefactToken(secret: Uint8Array, buildId: string, expiresAt: number, scope: TokenScope = 'read'): SignedToken {
  if (secret.byteLength < 32) throw new Error('artefact token secret must be at least 32 bytes');
  if (!Number.isSafeInteger(expiresAt) || expiresAt <= 0) throw new Error(`invalid token expiry ${expiresAt}`);
  const id = Buffer.from(buildId, 'utf8').toString('base64url');
  return { token: `${FORMS[scope].version}.${id}.${expiresAt}.${mac(secret, scope, buildId, expiresAt).toString('base64url')}`, expiresAt };
}

/**
 * Check a token for `buildId` and the action's `scope` at time `now` (unix seconds). Compares MACs in constant
 * time; the scope and the build are compared only once the MAC verified, so a forgery learns nothing from them.
 */
export function verifyArtefactToken(secret: Uint8Array, token: string, buildId: string, now: number, scope: TokenScope = 'read'): TokenCheck {
  const parts = token.split('.');
  const tokenScope = SCOPE_OF_VERSION.get(parts[0]);
  if (parts.length !== 4 || !tokenScope || !/^\d{1,15}$/.test(parts[2])) {
    return { ok: false, status: 401, reason: 'malformed token' };
  }
  const tokenBuild = Buffer.from(parts[1], 'base64url').toString('utf8');
  const expiresAt = Number(parts[2]);
  const given = Buffer.from(parts[3], 'base64url');
  const want = mac(secret, tokenScope, tokenBuild, expiresAt);
  if (given.length !== want.length || !timingSafeEqual(given, want)) return { ok: false, status: 401, reason: 'token signature does not verify' };
  if (expiresAt <= now) return { ok: false, status: 401, reason: `token expired at ${new Date(expiresAt * 1000).toISOString()}` };
  if (tokenBuild !== buildId) return { ok: false, status: 403, reason: 'token was issued for another build' };
  if (tokenScope !== scope) return { ok: false, status: 403, reason: `token is for ${FORMS[tokenScope].action} the build, not for ${FORMS[scope].action} it` };
  return { ok: true, expiresAt };
}

/** The token of an `Authorization: Bearer <token>` header value, if that is its form. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}
