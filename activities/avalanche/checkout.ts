import { ApplicationFailure } from '@temporalio/common';
import { gitAllowProtocol, parseSourceUrl, redactUrl, REPOSITORY_ROOTS_SETTING, SourceUrlError } from '../../core/security/source-url';
import { realPathInside } from '../../host/source-paths';
import type { BuildLog } from './build-log';
import { runHostCommand } from './host-command';

/** The failure type of a repository URL this builder refuses to clone (core/security/source-url.ts). */
export const REPOSITORY_URL_REFUSED = 'RepositoryUrlRefused';

/**
 * The recipe repository at exactly the build's commit. A full clone, then a detached checkout: summit's mirror
 * may hold the commit on any branch (or none yet named), and a local clone of a path hard-links the objects,
 * so it costs little.
 *
 * The URL is checked by the same rule as at registration (a network URL, or a path inside this builder's
 * SUMMIT_REPOSITORY_ROOTS): summit may hold rows registered before the rule, or a builder's roots may differ.
 * A refusal is non-retryable (another attempt gets the same URL) but not BUILD_FAILED: not the recipe's fault.
 *
 * @returns the commit's time (unix seconds), the build's SOURCE_DATE_EPOCH.
 */
export async function checkoutCommit(
  repoUrl: string, commit: string, dir: string, log: BuildLog, signal: AbortSignal | undefined, repositoryRoots: readonly string[],
): Promise<number> {
  const url = await allowedRepositoryUrl(repoUrl, repositoryRoots);
  const env = { GIT_ALLOW_PROTOCOL: gitAllowProtocol(url.local) };
  await runHostCommand('git', ['clone', '--quiet', '--no-checkout', '--', url.url, dir], { log, signal, env });
  const git = (...args: string[]) => runHostCommand('git', ['-C', dir, '-c', 'advice.detachedHead=false', ...args], { log, signal, quietStdout: true, env });
  try {
    await git('cat-file', '-e', `${commit}^{commit}`);
  } catch {
    // Not reachable from the mirror's refs: ask for the commit itself (works where the server allows it).
    await git('fetch', '--quiet', 'origin', commit);
  }
  await git('checkout', '--quiet', '--detach', commit);
  return Number((await git('show', '-s', '--format=%ct', commit)).trim());
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
