import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { signArtefactToken, type SignedToken, type TokenScope } from '../../core/build/tokens';
import { secretPath } from '../../activities/avalanche/paths';

/**
 * The builder's artefact-token secret: 32 random bytes in `<data dir>/avalanche/artefact-secret`, mode 0600,
 * created on first start and kept, so tokens stay valid across restarts. Never configured, never defaulted.
 */
export async function loadOrCreateSecret(dataDir: string): Promise<Buffer> {
  const path = secretPath(dataDir);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  try {
    await writeFile(path, randomBytes(32).toString('hex') + '\n', { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const info = await stat(path);
  // A secret others can read is no secret: tighten it rather than serve with it.
  if ((info.mode & 0o077) !== 0) await chmod(path, 0o600);
  const secret = Buffer.from((await readFile(path, 'utf8')).trim(), 'hex');
  if (secret.length < 32) throw new Error(`${path} does not hold a 32-byte hex secret; delete it to have a new one made`);
  return secret;
}

/** Signs tokens (read by default, core/build/tokens.ts) valid for `ttlSeconds` from the moment of signing. */
export function artefactTokenSigner(secret: Uint8Array, ttlSeconds: number): { sign(buildId: string, scope?: TokenScope): SignedToken } {
  return { sign: (buildId, scope = 'read') => signArtefactToken(secret, buildId, Math.floor(Date.now() / 1000) + ttlSeconds, scope) };
}
