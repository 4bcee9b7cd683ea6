import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { isTryIndex, tryIndexOf, type TryRemoval, type VesselTryActivities } from '../../core/contracts/try';
import { STREAM_COMMAND_REFUSED } from '../../core/contracts/vessel';
import { indexNameProblem, repositoryDir, type VesselLayout } from './layout';
import type { IndexLocks } from './lock';

/** Files and bytes below `dir` (0 when it does not exist). */
async function measure(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isFile()) continue;
    files++;
    bytes += await stat(join(e.parentPath, e.name)).then((s) => s.size, () => 0);
  }
  return { files, bytes };
}

/**
 * A try index's removal (issue 9, item 7): a try index is a folder of its own (`repos/try/<name>`), with its own
 * pool, so every pool file it holds is one only it refers to; removing the folder (under the index's lock, so no
 * publish of it is half-written) removes the index and those files. Only `try/` indexes: the main line is pruned
 * by the prune command, never removed.
 */
export function tryIndexActivities(deps: { layout: VesselLayout; locks: IndexLocks }): VesselTryActivities {
  return {
    async removeTryIndex(index, dryRun) {
      const problem = indexNameProblem(index) ?? (isTryIndex(index) ? undefined : `"${index}" is not a try index (try/<name>)`);
      if (problem) throw ApplicationFailure.nonRetryable(problem, STREAM_COMMAND_REFUSED);
      const dir = repositoryDir(deps.layout, index);
      const count = async (): Promise<TryRemoval> => {
        const existed = await stat(dir).then(() => true, () => false);
        const histories = await readdir(join(dir, 'history')).then((h) => h.length, () => 0);
        const pool = await measure(join(dir, 'pool'));
        return { index, existed, histories, poolFiles: pool.files, bytes: (await measure(dir)).bytes };
      };
      if (dryRun) return count();
      return deps.locks.withLock(index, async () => {
        const removal = await count();
        await rm(dir, { recursive: true, force: true });
        return removal;
      });
    },
    async listTryIndexes() {
      const names = await readdir(join(deps.layout.reposDir, 'try')).catch(() => [] as string[]);
      return names.filter((n) => !indexNameProblem(tryIndexOf(n))).sort().map(tryIndexOf);
    },
  };
}
