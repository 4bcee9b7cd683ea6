import type { BuildId } from '../../core/contracts/ids';
import type { IndexEntry } from '../../core/formats/repo-index';
import { nextHistoryId, recordHistory, volatileHistory } from '../../core/repo/history';
import { planImport, summarizeRefusals, type Candidate, type Refusal } from '../../core/repo/release-rules';
import type { IndexLocks } from './lock';
import { importRefused } from './refusal';
import type { Repository } from './repository';

/** A verified package and where its file waits in the staging folder. */
export interface StagedCandidate extends Candidate {
  stagedPath: string;
}

export interface PublishOutcome {
  /** The history version that publishes the build: a new one, or (nothing changed) the one volatile names. */
  historyId: string;
  /** The build's packages as published. */
  entries: IndexEntry[];
  /** False when every package was already published with the same sha256: nothing was written. */
  changed: boolean;
}

/**
 * Publish a build's verified packages into a repository, as its only writer (the index lock is held throughout).
 *
 * Everything that can refuse is decided before anything is written, so a refused import leaves the pool, the
 * history and the root index exactly as they were. Then, in an order chosen so that a crash at any point leaves a
 * state the same import, run again, converges from:
 *   1. files move from staging into the pool (a re-run finds them there with the right hash and carries on);
 *   2. the new history version appears whole (temporary folder + rename); a crash after it leaves an unpublished
 *      folder whose id is never reused;
 *   3. the root index moves volatile onto it (temporary file + rename) — the single step that publishes.
 */
export async function publishPackages(
  buildId: BuildId,
  repo: Repository,
  locks: IndexLocks,
  candidates: readonly StagedCandidate[],
  onWait?: () => void,
): Promise<PublishOutcome> {
  return locks.withLock(
    repo.index,
    async () => {
      await repo.removeLeftovers();
      const root = await repo.readRootIndex();
      const base = volatileHistory(root);
      const plan = planImport(base ? await repo.readHistory(base) : {}, candidates);
      if (plan.kind === 'refused') throw importRefused({ buildId, ...summarizeRefusals(plan.refusals) });
      if (plan.kind === 'unchanged') {
        // A re-run after a crash between the root index and its zstd copy: finish that write.
        await repo.repairRootIndexCopy();
        return { historyId: base!, entries: plan.entries, changed: false };
      }

      // The pool path of an added package may already hold a file: the same one (an earlier attempt moved it
      // before crashing) is fine; a different one is replaced only if no published history lists it, because
      // history versions are immutable and so are the files they name.
      const conflicts: Refusal[] = [];
      const moves: Array<{ stagedPath: string; poolPath: string }> = [];
      const byFile = new Map(candidates.map((c) => [c.file, c]));
      for (const { candidate, poolPath } of plan.additions) {
        const present = await repo.poolFileHash(poolPath);
        if (present === candidate.sha256) continue;
        moves.push({ stagedPath: byFile.get(candidate.file)!.stagedPath, poolPath });
        if (present === undefined) continue;
        const users = await repo.historiesReferencing(root, poolPath);
        if (users.length > 0) {
          conflicts.push({
            file: candidate.file,
            reason: `${candidate.file}: the pool already holds a different ${poolPath} (sha256 ${present}), published in history ${users.join(', ')}; a published file is never replaced: bump the release or build release`,
          });
        }
      }
      if (conflicts.length > 0) throw importRefused({ buildId, ...summarizeRefusals(conflicts) });

      for (const { stagedPath, poolPath } of moves) await repo.placeInPool(stagedPath, poolPath);
      const historyId = nextHistoryId(root, await repo.historyIdsOnDisk());
      await repo.writeHistory(historyId, plan.published);
      await repo.writeRootIndex(recordHistory(root, historyId));
      return { historyId, entries: plan.entries, changed: true };
    },
    { onWait },
  );
}
