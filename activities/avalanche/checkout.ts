import type { BuildLog } from './build-log';
import { runHostCommand } from './host-command';

/**
 * The recipe repository at exactly the build's commit. A full clone, then a detached checkout: summit's mirror
 * may hold the commit on any branch (or none yet named), and a local clone of a path hard-links the objects,
 * so it costs little.
 *
 * @returns the commit's time (unix seconds), the build's SOURCE_DATE_EPOCH.
 */
export async function checkoutCommit(repoUrl: string, commit: string, dir: string, log: BuildLog, signal?: AbortSignal): Promise<number> {
  await runHostCommand('git', ['clone', '--quiet', '--no-checkout', repoUrl, dir], { log, signal });
  const git = (...args: string[]) => runHostCommand('git', ['-C', dir, '-c', 'advice.detachedHead=false', ...args], { log, signal, quietStdout: true });
  try {
    await git('cat-file', '-e', `${commit}^{commit}`);
  } catch {
    // Not reachable from the mirror's refs: ask for the commit itself (works where the server allows it).
    await git('fetch', '--quiet', 'origin', commit);
  }
  await git('checkout', '--quiet', '--detach', commit);
  return Number((await git('show', '-s', '--format=%ct', commit)).trim());
}
