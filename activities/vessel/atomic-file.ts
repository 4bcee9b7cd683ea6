import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replace a file so that readers see either the old bytes or the new ones, never a mix: write a temporary file
 * beside it (same folder, so the same file system), flush it to disk, then rename it over the target. The
 * temporary name starts with a dot, which the repository server never serves.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const fh = await open(temp, 'wx');
    try {
      await fh.writeFile(bytes);
      // Without the flush, a power cut after the rename can leave a zero-length index that the rename promised
      // would never exist.
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}
