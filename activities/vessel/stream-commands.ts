import type { RepositoryHistory } from '../../core/contracts/vessel';
import { serializeRootIndex, type RootIndex } from '../../core/formats/root-index';
import { pointStream, promote as promoteStream, tagHistory as tagRoot } from '../../core/repo/streams';
import type { IndexLocks } from './lock';
import type { Repository } from './repository';

/**
 * The admin commands on a repository's streams and tags, with their I/O: under the index's lock, read the root
 * index, apply the pure rule from core/repo/streams, write the result atomically (JSON, then its zstd copy). They
 * throw StreamCommandError (from core/repo/streams) when the command cannot apply; the activity layer turns that
 * into a non-retryable failure. A command that changes nothing (a tag that already names that history) writes
 * nothing.
 */

async function apply(repo: Repository, locks: IndexLocks, change: (root: RootIndex) => RootIndex): Promise<RepositoryHistory> {
  await locks.withLock(repo.index, async () => {
    const root = await repo.readRootIndex();
    const next = change(root);
    if (serializeRootIndex(next) !== serializeRootIndex(root)) await repo.writeRootIndex(next);
  });
  return repo.history();
}

/** Point `stream` (volatile or unstable) at an existing history version. */
export function rollbackStream(repo: Repository, locks: IndexLocks, stream: string, historyId: string): Promise<RepositoryHistory> {
  return apply(repo, locks, (root) => pointStream(root, stream, historyId));
}

export function tagHistory(repo: Repository, locks: IndexLocks, tag: string, historyId: string, replace = false): Promise<RepositoryHistory> {
  return apply(repo, locks, (root) => tagRoot(root, tag, historyId, { replace }));
}

/** `to` (unstable) takes the history `from` (volatile) names now. */
export function promote(repo: Repository, locks: IndexLocks, to?: string, from?: string): Promise<RepositoryHistory> {
  return apply(repo, locks, (root) => promoteStream(root, to, from));
}

export function listHistory(repo: Repository): Promise<RepositoryHistory> {
  return repo.history();
}
