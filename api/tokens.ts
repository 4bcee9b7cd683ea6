import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';

import { generateToken } from '../core/auth/token-secret';

/**
 * The bootstrap tokens, kept in `<SUMMIT_DATA_DIR>/tokens.json` (mode 0600). No token has a default: the first
 * start generates an admin and a hook token and the entry point prints them once. The API imports them hashed
 * into its token table at every start (db/token-store.ts), where they can be revoked like any other; further
 * tokens are made through the API (`summit tokens create`), never written here. `hook` is a contributor for
 * every repository (core/auth/roles.ts).
 */
export const FILE_ROLES = ['hook', 'admin'] as const;
export type FileRole = (typeof FILE_ROLES)[number];

export interface TokenEntry {
  /** Shown in task events as who asked (TaskCommand.by). */
  name: string;
  role: FileRole;
  token: string;
}

export const TOKENS_FILE = 'tokens.json';

const tokensFileSchema = z.object({
  version: z.literal(1),
  tokens: z
    .array(z.object({ name: z.string().min(1), role: z.enum(FILE_ROLES), token: z.string().min(32, 'tokens are at least 32 characters') }))
    .min(1),
});

export class TokensFileError extends Error {
  override readonly name = 'TokensFileError';
}

/**
 * Reads the tokens file, or creates it with fresh admin and hook tokens. `created` tells the entry point to print
 * them, which it does exactly once: later starts read the same file.
 */
export async function loadOrCreateTokens(dataDir: string): Promise<{ tokens: TokenEntry[]; path: string; created: boolean }> {
  const dir = resolve(dataDir);
  const path = join(dir, TOKENS_FILE);
  // The folder that holds the tokens is private too (created so; an existing one is left to the operator).
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let created = false;
  if (!(await exists(path))) {
    const tokens: TokenEntry[] = [
      { name: 'admin', role: 'admin', token: generateToken('admin') },
      { name: 'hook', role: 'hook', token: generateToken('hook') },
    ];
    // Written whole to a private temporary file, then linked into place: link() fails if another process created
    // the file meanwhile, so two first starts never overwrite each other's tokens or read a half-written file.
    const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(temporary, `${JSON.stringify({ version: 1, tokens }, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    await chmod(temporary, 0o600);
    try {
      await link(temporary, path);
      created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      await rm(temporary, { force: true });
    }
  }
  return { tokens: await readTokensFile(path), path, created };
}

/** Reads and checks an existing tokens file (also used by `summit hook install` to find the hook token). */
export async function readTokensFile(path: string): Promise<TokenEntry[]> {
  const mode = (await stat(path)).mode & 0o777;
  // Like ssh with a private key: a tokens file others can read is refused rather than silently used.
  if (mode & 0o077) {
    throw new TokensFileError(`${path} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${path}`);
  }
  let parsed;
  try {
    parsed = tokensFileSchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
  } catch (err) {
    throw new TokensFileError(`${path}: not JSON (${(err as Error).message})`);
  }
  if (!parsed.success) {
    throw new TokensFileError(`${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data.tokens;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
