import { readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { historyIds } from '../../core/repo/history';
import { repositoryPathOfUri } from '../../core/repo/pool';
import { planPrune, prunedRoot, unreferencedPoolFiles } from '../../core/repo/prune';
import type { PruneResult } from '../../core/contracts/vessel';
import { isErrno } from './atomic-file';
import type { IndexLocks } from './lock';
import type { Repository } from './repository';

/**
 * Prune a repository under its lock (core/repo/prune.ts decides what goes). The steps, in the order that keeps
 * every state moss can observe valid:
 *   1. the root index is rewritten without the pruned histories (atomic: readers see the old one or the new one,
 *      and both name only histories whose folders and files exist);
 *   2. the pruned histories' folders are removed;
 *   3. the pool files no kept history lists are removed (then the folders left empty).
 * A crash between steps leaves folders or files nothing names, which the next prune removes. With `dryRun`,
 * nothing is written: the result lists what would go.
 */
export async function pruneRepository(repo: Repository, locks: IndexLocks, keep: number, dryRun: boolean): Promise<PruneResult> {
  return locks.withLock(repo.index, async () => {
    const started = Date.now();
    const root = await repo.readRootIndex();
    const plan = planPrune(root, keep);
    const onDisk = await repo.tidyHistoryFolder();
    const named = new Set(historyIds(root));
    // Folders a crashed publish or prune left that the root index does not name: they go too.
    const strays = onDisk.filter((id) => !named.has(id));

    const referenced = new Set<string>();
    for (const id of plan.kept) {
      for (const entries of Object.values(await repo.readHistory(id))) for (const e of entries) referenced.add(repositoryPathOfUri(e.uri));
    }
    const poolFiles = unreferencedPoolFiles(await listPool(repo.dir), referenced);

    if (!dryRun) {
      if (plan.removed.length > 0) await repo.writeRootIndex(prunedRoot(root, plan.removed));
      for (const id of [...plan.removed, ...strays]) await rm(join(repo.dir, 'history', id), { recursive: true, force: true });
      for (const file of poolFiles) await rm(join(repo.dir, file), { force: true });
      await removeEmptyFolders(join(repo.dir, 'pool'));
    }
    return {
      index: repo.index,
      dryRun,
      keep,
      kept: plan.kept,
      removedHistories: [...plan.removed, ...strays].sort((a, b) => Number(a) - Number(b)),
      removedPoolFiles: poolFiles,
      tookMs: Date.now() - started,
    };
  });
}

/** Every file below pool/, repository-relative ('pool/l/liba/liba-….stone'). */
async function listPool(repoDir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(join(repoDir, rel), { withFileTypes: true });
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return;
      throw err;
    }
    for (const e of entries) {
      const path = `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(path);
      else out.push(path);
    }
  };
  await walk('pool');
  return out;
}

async function removeEmptyFolders(dir: string): Promise<boolean> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return true;
    throw err;
  }
  let empty = true;
  for (const e of entries) {
    if (!e.isDirectory() || !(await removeEmptyFolders(join(dir, e.name)))) empty = false;
  }
  if (!empty) return false;
  await rmdir(dir).catch(() => undefined);
  return true;
}
