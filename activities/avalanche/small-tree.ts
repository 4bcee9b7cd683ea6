import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';

/** One entry of a walked tree: its path and its own lstat (a link is itself, never its target). */
export interface TreeEntry {
  path: string;
  stats: Stats;
}

/**
 * Every entry of the trees at `roots`, the roots included, by lstat: no link is followed, a folder is listed
 * only after lstat said it is a folder. Synchronous and in-process: for the small trees of most builds this costs
 * far less than starting `du` or `chown -R` (a fork of the worker, ~10 ms of its CPU). Undefined as soon as the
 * walk passes `limit` entries: the caller then runs the tool built for big trees.
 *
 * Only for trees nothing else changes while they are walked (before a build's first container, or after a step's
 * container and every process of its cgroup are gone): a folder swapped for a link between its lstat and its
 * listing would be listed through the link. Missing roots, and entries that vanish, are skipped.
 *
 * `oneFileSystem`: entries on another file system than their root are left out and not entered (`du -x`).
 */
export function smallTreeEntries(roots: readonly string[], limit: number, opts: { oneFileSystem?: boolean } = {}): TreeEntry[] | undefined {
  const entries: TreeEntry[] = [];
  for (const root of roots) {
    const top = lstatOrUndefined(root);
    if (!top) continue;
    const stack: TreeEntry[] = [{ path: root, stats: top }];
    while (stack.length > 0) {
      const entry = stack.pop()!;
      if (opts.oneFileSystem && entry.stats.dev !== top.dev) continue;
      if (entries.push(entry) > limit) return undefined;
      if (!entry.stats.isDirectory()) continue;
      for (const name of readdirOrEmpty(entry.path)) {
        const path = join(entry.path, name);
        const stats = lstatOrUndefined(path);
        if (stats) stack.push({ path, stats });
      }
    }
  }
  return entries;
}

/**
 * Bytes allocated to `entries` as `du -s -c -P --block-size=1` counts them: blocks rather than lengths (a sparse
 * file costs what it really holds), a file with several hard links once.
 */
export function allocatedBytes(entries: readonly TreeEntry[]): number {
  const seen = new Set<string>();
  let bytes = 0;
  for (const { stats } of entries) {
    if (stats.nlink > 1 && !stats.isDirectory()) {
      const key = `${stats.dev}:${stats.ino}`;
      if (seen.has(key)) continue;
      seen.add(key);
    }
    bytes += stats.blocks * 512;
  }
  return bytes;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if (isGone(err)) return undefined;
    throw err;
  }
}

function readdirOrEmpty(path: string): string[] {
  try {
    return readdirSync(path);
  } catch (err) {
    if (isGone(err)) return [];
    throw err;
  }
}

function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
