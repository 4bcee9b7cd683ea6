import { ApplicationFailure } from '@temporalio/common';
import { gitAllowProtocol, parseSourceUrl, redactUrl, REPOSITORY_ROOTS_SETTING, SourceUrlError } from '../../core/security/source-url';
import { realPathInside } from '../../host/source-paths';
import type { BuildLog } from './build-log';
import type { KeptClones } from './kept-clones';

/** The failure type of a repository URL this builder refuses to clone (core/security/source-url.ts). */
export const REPOSITORY_URL_REFUSED = 'RepositoryUrlRefused';

/**
 * The recipe's folder of the recipe repository at exactly the build's commit, taken out of this builder's kept
 * clone of the repository (kept-clones.ts): only the commit is fetched, and only when the clone lacks it; only
 * the folder is written. summit's mirror may hold the commit on any branch (or none yet named), so it is asked
 * for by its id.
 *
 * The URL is checked by the same rule as at registration (a network URL, or a path inside this builder's
 * SUMMIT_REPOSITORY_ROOTS): summit may hold rows registered before the rule, or a builder's roots may differ.
 * A refusal is non-retryable (another attempt gets the same URL) but not BUILD_FAILED: not the recipe's fault.
 *
 * @returns the commit's time (unix seconds), the build's SOURCE_DATE_EPOCH.
 */
export async function checkoutCommit(
  clones: KeptClones, req: { repoUrl: string; commit: string; recipePath: string }, dir: string, log: BuildLog,
  signal: AbortSignal | undefined, repositoryRoots: readonly string[],
): Promise<number> {
  const url = await allowedRepositoryUrl(req.repoUrl, repositoryRoots);
  return clones.materialise({ url: url.url, allowProtocol: gitAllowProtocol(url.local), commit: req.commit, path: req.recipePath, dest: dir, log, signal });
}

async function allowedRepositoryUrl(repoUrl: string, roots: readonly string[]): Promise<{ url: string; local: boolean }> {
  const what = `repository URL ${redactUrl(repoUrl)}`;
  try {
    const location = parseSourceUrl(repoUrl, 'git', what);
    if (location.kind === 'network') return { url: repoUrl, local: false };
    return { url: await realPathInside(location.path, { roots, setting: REPOSITORY_ROOTS_SETTING }, what), local: true };
  } catch (err) {
    if (err instanceof SourceUrlError) throw ApplicationFailure.nonRetryable(err.message, REPOSITORY_URL_REFUSED);
    throw err;
  }
}
