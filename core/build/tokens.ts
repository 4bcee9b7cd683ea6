import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Artefact tokens: a builder hands one out with each build result, and its artefact server lets the holder
 * fetch that build's files, and only those, until the token expires.
 *
 * Form: `v1.<base64url build id>.<expiry, unix seconds>.<base64url HMAC-SHA256>`, the MAC taken with the
 * builder's secret over `summit-artefact-token/v1 NUL buildId NUL expiry`. The build id travels in the token
 * so that a valid token presented for another build is told apart (403) from a forged or damaged one (401).
 * Stateless: nothing to store, and a builder restart keeps tokens valid as long as the secret file stays.
 */
const VERSION = 'v1';
const CONTEXT = 'summit-artefact-token/v1';

export interface SignedToken {
  token: string;
  /** Unix seconds. */
  expiresAt: number;
}

export type TokenCheck =
  | { ok: true; expiresAt: number }
  /** 401: no token, a malformed or forged one, or an expired one (the holder should get a fresh token). */
  | { ok: false; status: 401; reason: string }
  /** 403: a genuine token, for another build. */
  | { ok: false; status: 403; reason: string };

function mac(secret: Uint8Array, buildId: string, expiresAt: number): Buffer {
  return createHmac('sha256', secret).update(`${CONTEXT}\0${buildId}\0${expiresAt}`).digest();
}

export function signArtefactToken(secret: Uint8Array, buildId: string, expiresAt: number): SignedToken {
  if (secret.byteLength < 32) throw new Error('artefact token secret must be at least 32 bytes');
  if (!Number.isSafeInteger(expiresAt) || expiresAt <= 0) throw new Error(`invalid token expiry ${expiresAt}`);
  const id = Buffer.from(buildId, 'utf8').toString('base64url');
  return { token: `${VERSION}.${id}.${expiresAt}.${mac(secret, buildId, expiresAt).toString('base64url')}`, expiresAt };
}

/** Check a token for `buildId` at time `now` (unix seconds). Compares MACs in constant time. */
export function verifyArtefactToken(secret: Uint8Array, token: string, buildId: string, now: number): TokenCheck {
  const parts = token.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION || !/^\d{1,15}$/.test(parts[2])) {
    return { ok: false, status: 401, reason: 'malformed token' };
  }
  const tokenBuild = Buffer.from(parts[1], 'base64url').toString('utf8');
  const expiresAt = Number(parts[2]);
  const given = Buffer.from(parts[3], 'base64url');
  const want = mac(secret, tokenBuild, expiresAt);
  if (given.length !== want.length || !timingSafeEqual(given, want)) return { ok: false, status: 401, reason: 'token signature does not verify' };
  if (expiresAt <= now) return { ok: false, status: 401, reason: `token expired at ${new Date(expiresAt * 1000).toISOString()}` };
  if (tokenBuild !== buildId) return { ok: false, status: 403, reason: 'token was issued for another build' };
  return { ok: true, expiresAt };
}

/** The token of an `Authorization: Bearer <token>` header value, if that is its form. */
export function bearerToken(header: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m?.[1];
}
