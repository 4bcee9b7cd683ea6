import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UpstreamError, type UpstreamPlan } from '../../core/build/upstreams';
import type { BuildLog } from './build-log';
import { fetchVerified } from './fetch';
import { runHostCommand } from './host-command';

/**
 * Puts a recipe's upstreams in place on the host before the container starts (core/build/upstreams.ts says
 * where each goes). `mason` is the host folder bound at /mason.
 */
export async function prepareSources(plans: readonly UpstreamPlan[], mason: string, log: BuildLog, signal?: AbortSignal): Promise<void> {
  const sourcedir = join(mason, 'sourcedir');
  const workdir = join(mason, 'build');
  for (const plan of plans) {
    if (plan.kind === 'archive') {
      const file = join(sourcedir, plan.fileName);
      const where = plan.source.type === 'http' ? plan.source.url : plan.source.path;
      await log.marker(`upstream ${where} → %(sourcedir)/${plan.fileName}`);
      await fetchVerified(plan.source, file, plan.sha256, `upstream ${where}`, signal);
      if (plan.unpackInto !== undefined) {
        const into = join(workdir, plan.unpackInto);
        await mkdir(into, { recursive: true });
        await runHostCommand('tar', ['-xf', file, '-C', into, `--strip-components=${plan.stripDirs}`, '--no-same-owner'], { log, signal });
      }
    } else {
      const into = join(workdir, plan.cloneInto);
      await log.marker(`git upstream ${plan.url} at ${plan.ref} → %(workdir)/${plan.cloneInto}`);
      await mkdir(into, { recursive: true });
      if ((await readdir(into)).length > 0) {
        throw new UpstreamError(`git upstream ${plan.url}: %(workdir)/${plan.cloneInto} is not empty; give the upstream a clonedir`);
      }
      await runHostCommand('git', ['clone', '--quiet', '--no-checkout', plan.url, into], { log, signal });
      await runHostCommand('git', ['-C', into, '-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--detach', plan.ref], { log, signal });
    }
  }
}
