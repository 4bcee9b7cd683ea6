import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UpstreamError, type UpstreamPlan } from '../../core/build/upstreams';
import { gitAllowProtocol, LOCAL_SOURCES_SETTING, redactUrl, SourceUrlError, type SourcePolicy } from '../../core/security/source-url';
import { realPathInside } from '../../host/source-paths';
import type { BuildLog } from './build-log';
import { FetchRefusedError, fetchVerified } from './fetch';
import { runHostCommand } from './host-command';

/**
 * Puts a recipe's upstreams in place on the host before the container starts (core/build/upstreams.ts says
 * where each goes and which locations are allowed). `mason` is the host folder bound at /mason. A local path
 * is read by its real path, checked again here (symlinks resolved) against SUMMIT_LOCAL_SOURCES; a refused
 * location, redirect or oversized download is the recipe's fault (UpstreamError), not retried.
 */
export async function prepareSources(
  plans: readonly UpstreamPlan[], mason: string, log: BuildLog, signal: AbortSignal | undefined, policy: SourcePolicy,
): Promise<void> {
  const sourcedir = join(mason, 'sourcedir');
  const workdir = join(mason, 'build');
  const local = { roots: policy.localSources, setting: LOCAL_SOURCES_SETTING };
  for (const plan of plans) {
    if (plan.kind === 'archive') {
      const file = join(sourcedir, plan.fileName);
      const where = plan.source.type === 'http' ? redactUrl(plan.source.url) : plan.source.path;
      await log.marker(`upstream ${where} → %(sourcedir)/${plan.fileName}`);
      const source = plan.source.type === 'file'
        ? { type: 'file' as const, path: await asUpstreamError(realPathInside(plan.source.path, local, `upstream ${where}`)) }
        : plan.source;
      await asUpstreamError(fetchVerified(source, file, plan.sha256, `upstream ${where}`, signal, {
        maxBytes: policy.maxUpstreamBytes, timeoutMs: policy.upstreamTimeoutMs,
      }));
      if (plan.unpackInto !== undefined) {
        const into = join(workdir, plan.unpackInto);
        await mkdir(into, { recursive: true });
        await runHostCommand('tar', ['-xf', file, '-C', into, `--strip-components=${plan.stripDirs}`, '--no-same-owner'], { log, signal });
      }
    } else {
      const what = `git upstream ${redactUrl(plan.url)}`;
      const into = join(workdir, plan.cloneInto);
      await log.marker(`${what} at ${plan.ref} → %(workdir)/${plan.cloneInto}`);
      await mkdir(into, { recursive: true });
      if ((await readdir(into)).length > 0) {
        throw new UpstreamError(`${what}: %(workdir)/${plan.cloneInto} is not empty; give the upstream a clonedir`);
      }
      const url = plan.localPath === undefined ? plan.url : await asUpstreamError(realPathInside(plan.localPath, local, what));
      // `--` ends the options: nothing in the URL can be read as one. `file` only for a checked local path.
      await runHostCommand('git', ['clone', '--quiet', '--no-checkout', '--', url, into], {
        log, signal, env: { GIT_ALLOW_PROTOCOL: gitAllowProtocol(plan.localPath !== undefined) },
      });
      await runHostCommand('git', ['-C', into, '-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', plan.ref], { log, signal });
    }
  }
}

/** The location rule's refusals, on the disk or over the network, are the recipe's fault. */
async function asUpstreamError<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof SourceUrlError || err instanceof FetchRefusedError) throw new UpstreamError(err.message);
    throw err;
  }
}
