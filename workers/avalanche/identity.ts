/**
 * The builder's identity (issue 10): an Ed25519 key pair it makes itself at enrolment, the private half kept in
 * `<data>/avalanche/identity.key` (mode 0600, never sent anywhere), the public half registered with the API by
 * spending a one-time enrolment token (SUMMIT_ENROL_TOKEN). Later starts find the saved credential and need no
 * token. A builder with neither refuses to start polling: it is not enrolled.
 */
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { avalancheRoot } from '../../activities/avalanche/paths';
import type { TrustLevel } from '../../core/contracts/trust';
import { publicKeyText, signBuildFacts, type SignedBuildFacts } from '../../core/trust/build-signature';
import type { BuilderStanding } from '../../core/trust/standing';

/** A builder that may not start polling: not enrolled, its enrolment refused, or revoked. */
export class NotEnrolledError extends Error {
  override readonly name = 'NotEnrolledError';
}

export interface BuilderIdentity {
  builderId: string;
  /** Trust at enrolment; the standing (workers/avalanche/standing.ts) says what it is now. */
  trust: TrustLevel;
  /** The API it enrolled with and reads its standing from. */
  apiUrl: string;
  sign(facts: SignedBuildFacts): string;
}

interface SavedIdentity {
  builderId: string;
  trust: TrustLevel;
  apiUrl: string;
  enrolledAt: string;
}

export function identityPaths(dataDir: string): { key: string; record: string } {
  const root = avalancheRoot(dataDir);
  return { key: join(root, 'identity.key'), record: join(root, 'identity.json') };
}

function identityOf(saved: SavedIdentity, privateKeyPem: string): BuilderIdentity {
  // Parsed once, not at every build's signature.
  const key = createPrivateKey(privateKeyPem);
  return { builderId: saved.builderId, trust: saved.trust, apiUrl: saved.apiUrl, sign: (facts) => signBuildFacts(key, facts) };
}

/**
 * The saved credential, else an enrolment with `token`: a new key pair, its public half registered as `builderId`.
 * Refused (NotEnrolledError, naming what to do) without either, for a saved credential of another builder id, and
 * when the API refuses the token.
 */
export async function loadOrEnrol(opts: { dataDir: string; builderId: string; apiUrl: string; token?: string }): Promise<BuilderIdentity> {
  const paths = identityPaths(opts.dataDir);
  const saved = await readFile(paths.record, 'utf8').then((t) => JSON.parse(t) as SavedIdentity, () => undefined);
  if (saved) {
    if (saved.builderId !== opts.builderId) {
      throw new NotEnrolledError(`this data folder holds the credential of builder ${saved.builderId}, not ${opts.builderId}: set SUMMIT_BUILDER_ID=${saved.builderId} or use another data folder`);
    }
    const info = await stat(paths.key);
    if ((info.mode & 0o077) !== 0) await chmod(paths.key, 0o600);
    return identityOf({ ...saved, apiUrl: opts.apiUrl }, await readFile(paths.key, 'utf8'));
  }
  if (!opts.token) {
    throw new NotEnrolledError(`builder ${opts.builderId} is not enrolled: start it once with SUMMIT_ENROL_TOKEN set to a token from \`summit builders enrol-token --trust community|trusted\` (POST /api/builders/enrolments); it polls for no build until then`);
  }
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const publicText = publicKeyText(publicKey);
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const response = await fetch(`${opts.apiUrl}/api/builders/enrol`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: opts.token, builderId: opts.builderId, publicKey: publicText }),
    signal: AbortSignal.timeout(30_000),
  }).catch((err: Error) => {
    throw new Error(`cannot reach the API at ${opts.apiUrl} to enrol builder ${opts.builderId} (${err.message})`);
  });
  const body = (await response.json().catch(() => ({}))) as { trust?: TrustLevel; enrolledAt?: string; error?: { message?: string } };
  if (response.status !== 201 || !body.trust) {
    throw new NotEnrolledError(`the API at ${opts.apiUrl} refused to enrol builder ${opts.builderId} (${response.status}: ${body.error?.message ?? 'no reason given'})`);
  }
  const record: SavedIdentity = { builderId: opts.builderId, trust: body.trust, apiUrl: opts.apiUrl, enrolledAt: body.enrolledAt ?? new Date().toISOString() };
  await mkdir(avalancheRoot(opts.dataDir), { recursive: true, mode: 0o700 });
  // The key first, then the record that says it is there: a crash between leaves no record, and the next start
  // needs a new token rather than finding a record without its key.
  await writeFile(`${paths.key}.tmp`, privatePem, { mode: 0o600 });
  await rename(`${paths.key}.tmp`, paths.key);
  await writeFile(`${paths.record}.tmp`, JSON.stringify(record, null, 2) + '\n', { mode: 0o600 });
  await rename(`${paths.record}.tmp`, paths.record);
  return identityOf(record, privatePem);
}

/** The builder's standing as the API tells it now (GET /api/builders/:id/standing). */
export async function fetchStanding(apiUrl: string, builderId: string, timeoutMs = 10_000): Promise<BuilderStanding> {
  const response = await fetch(`${apiUrl}/api/builders/${encodeURIComponent(builderId)}/standing`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`the API at ${apiUrl} answered ${response.status} for the standing of builder ${builderId}`);
  return (await response.json()) as BuilderStanding;
}
