import { join } from 'node:path';
import { MAX_SEGMENT_LENGTH, safeNameProblem } from '../../core/contracts/names';
import { tryNameOf, tryNameProblem } from '../../core/contracts/try';

/**
 * Vessel's folders under the data directory (`<SUMMIT_DATA_DIR>/vessel`):
 *
 *   repos/<index>/              one published repository per index (profile), e.g. `main`, `main-v3x`: exactly
 *                               what a mirror or moss sees — pool/, history/, moss-root-index.json(.zst). Summit's
 *                               default SUMMIT_PACKAGES_URL is file://<data>/vessel/repos (workers/summit.ts).
 *   staging/<build>/            artefacts being fetched and verified, on the same file system as repos/ so that
 *                               publishing is a rename, never a copy
 *   locks/<index>.lock          the cross-process writer lock of each index (kept out of repos/ so it is never
 *                               served)
 */
export interface VesselLayout {
  root: string;
  reposDir: string;
  stagingDir: string;
  locksDir: string;
}

export function vesselLayout(vesselDir: string): VesselLayout {
  return { root: vesselDir, reposDir: join(vesselDir, 'repos'), stagingDir: join(vesselDir, 'staging'), locksDir: join(vesselDir, 'locks') };
}

/**
 * Index names become folder names and URL segments: one safe name, or `try/<name>` for a try-build's throw-away
 * index (core/contracts/try.ts), whose folder is `repos/try/<name>`.
 */
export function indexNameProblem(index: string): string | undefined {
  const tryName = tryNameOf(index);
  if (tryName !== undefined) return tryNameProblem(tryName);
  return safeNameProblem('index', index, MAX_SEGMENT_LENGTH);
}

/** The folder of the repositories an index's folder lies in (`repos/`, whether the index is `main` or `try/x`). */
export function reposDirOf(indexDir: string, index: string): string {
  return join(indexDir, ...index.split('/').map(() => '..'));
}

export function repositoryDir(layout: VesselLayout, index: string): string {
  const problem = indexNameProblem(index);
  if (problem) throw new Error(problem);
  return join(layout.reposDir, index);
}
