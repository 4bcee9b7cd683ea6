import type { RootIndex } from '../formats/root-index';
import { historyIds } from './history';

/**
 * Pruning a repository (issue 9, removals and pruning), pure: which history versions stay and which go.
 *
 * Kept: the newest `keep` histories, every history a stream names (volatile, unstable) and every history a tag
 * names — what a moss client can reach through the root index is never removed. Everything else goes, and with it
 * every pool file that no kept history lists (the caller reads the kept histories' indexes for that).
 *
 * The order of the removal (activities/vessel/prune.ts) keeps what moss reads valid at every moment: the root
 * index stops naming the pruned histories first (one atomic rename), and only then are their folders and the
 * unreferenced pool files deleted; no kept history lists a deleted file.
 */

export interface PrunePlan {
  /** Oldest first. */
  kept: string[];
  /** Oldest first. */
  removed: string[];
  /** Why each kept history stays: `newest`, `stream:<name>`, `tag:<name>`. */
  reasons: Record<string, string[]>;
}

export class PruneRefusedError extends Error {
  override readonly name = 'PruneRefusedError';
}

/** Most histories an operator can ask to keep: far above any retention worth having, a guard against typos. */
export const MAX_KEEP = 100_000;

export function planPrune(root: RootIndex, keep: number): PrunePlan {
  if (!Number.isInteger(keep) || keep < 1 || keep > MAX_KEEP) throw new PruneRefusedError(`keep must be an integer from 1 to ${MAX_KEEP}, got ${keep}`);
  const ids = historyIds(root);
  const reasons: Record<string, string[]> = {};
  const why = (id: string, reason: string) => (reasons[id] ??= []).push(reason);
  for (const id of ids.slice(-keep)) why(id, 'newest');
  for (const [name, p] of Object.entries(root.streams)) why(p.history, `stream:${name}`);
  for (const [name, p] of Object.entries(root.tags)) why(p.history, `tag:${name}`);
  return { kept: ids.filter((id) => reasons[id]), removed: ids.filter((id) => !reasons[id]), reasons };
}

/** The root index without the removed histories (streams and tags untouched: they only name kept ones). */
export function prunedRoot(root: RootIndex, removed: readonly string[]): RootIndex {
  const gone = new Set(removed);
  for (const [kind, pointers] of [['stream', root.streams], ['tag', root.tags]] as const) {
    for (const [name, p] of Object.entries(pointers)) {
      if (gone.has(p.history)) throw new PruneRefusedError(`${kind} ${name} names history ${p.history}, which the plan removes`);
    }
  }
  return { ...root, history: Object.fromEntries(Object.entries(root.history).filter(([id]) => !gone.has(id))) };
}

/**
 * Pool files to delete: those under `pool/` on disk that no kept history lists (`referenced`, repository-relative
 * paths). Files in temporary names (a dot first) are an import's work in progress and are left alone.
 */
export function unreferencedPoolFiles(onDisk: readonly string[], referenced: ReadonlySet<string>): string[] {
  return onDisk.filter((p) => !referenced.has(p) && !p.split('/').some((s) => s.startsWith('.'))).sort();
}
