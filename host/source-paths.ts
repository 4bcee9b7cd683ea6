import { realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { checkLocalPath, isInside, SourceUrlError, type LocalRoots } from '../core/security/source-url';

/**
 * The disk half of the local-path rule (core/security/source-url.ts): the path as written must be inside a
 * configured folder, and so must its real path, symlinks resolved, so that a link inside a mirror cannot lead
 * to a host secret. Used by builders (upstreams, checkout) and by the API (repository registration).
 *
 * @returns the real path, which callers use from then on rather than the path as written.
 */
export async function realPathInside(path: string, local: LocalRoots, what: string): Promise<string> {
  const roots = local.roots.map((r) => resolve(r));
  checkLocalPath(path, { ...local, roots }, what);
  const real = await realPathOfExisting(path);
  const realRoots = await Promise.all(roots.map(realPathOfExisting));
  if (!realRoots.some((root) => isInside(real, root))) {
    throw new SourceUrlError(`${what}: ${path} leads to ${real}, outside the folders configured in ${local.setting}`);
  }
  return real;
}

/** realpath of the longest existing prefix, the rest appended: a path not created yet still has its links resolved. */
async function realPathOfExisting(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw err;
    const parent = dirname(path);
    if (parent === path) return path;
    return join(await realPathOfExisting(parent), basename(path));
  }
}
