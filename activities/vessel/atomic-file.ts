import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A file written and flushed under a temporary name beside its target, waiting to be renamed over it. */
export interface PreparedFile {
  /** Rename it over the target: readers see the old bytes or the new ones, never a mix. */
  commit(): Promise<void>;
  /** Remove the temporary file (a write that is given up). */
  discard(): Promise<void>;
}

/**
 * The first half of an atomic replace: write a temporary file beside `path` (same folder, so the same file system)
 * and flush it to disk. Several can be prepared at once, so their flushes overlap (the file system commits them
 * together), and then committed in the order readers must see them. The temporary name starts with a dot, which
 * the repository server never serves.
 */
export async function prepareFileAtomic(path: string, bytes: Uint8Array | string): Promise<PreparedFile> {
  const temp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const discard = () => rm(temp, { force: true });
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
  } catch (err) {
    await discard();
    throw err;
  }
  return {
    discard,
    commit: async () => {
      try {
        await rename(temp, path);
      } catch (err) {
        await discard();
        throw err;
      }
    },
  };
}

/** Replace a file atomically (prepare, then commit at once). */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  await (await prepareFileAtomic(path, bytes)).commit();
}

/**
 * Wait for several preparations started together; if any fails, discard the others and throw its error, so that
 * nothing of a group is committed unless all of it could be.
 */
export async function preparedAll(preparing: ReadonlyArray<Promise<PreparedFile>>): Promise<PreparedFile[]> {
  const settled = await Promise.allSettled(preparing);
  const failed = settled.find((p) => p.status === 'rejected');
  if (failed) {
    await Promise.all(settled.flatMap((p) => (p.status === 'fulfilled' ? [p.value.discard()] : [])));
    throw failed.reason;
  }
  return settled.map((p) => (p as PromiseFulfilledResult<PreparedFile>).value);
}

/** Commit prepared files one after another, in the order readers must see them; after a failure, discard the rest. */
export async function commitInOrder(files: readonly PreparedFile[]): Promise<void> {
  for (const [i, file] of files.entries()) {
    try {
      await file.commit();
    } catch (err) {
      await Promise.all(files.slice(i + 1).map((f) => f.discard()));
      throw err;
    }
  }
}

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}
