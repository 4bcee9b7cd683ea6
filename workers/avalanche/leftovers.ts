import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { machinePid } from '../../core/build/machine-name';
import { removeStaleCgroups, type CgroupHost } from '../../activities/avalanche/cgroup';
import { clonesRoot, removeStaleClones } from '../../activities/avalanche/kept-clones';
import { avalancheRoot, packageCacheRoot } from '../../activities/avalanche/paths';

/**
 * What builds killed with their builder (SIGKILL, power loss) leave behind, removed when the builder starts
 * again, before it takes any build: their work folders (every one: a starting builder runs no build), nspawn's
 * per-machine propagation folders and the build cgroups of this builder's earlier processes. Only names of this
 * builder (core/build/machine-name.ts) made by a process that is gone are touched: other builders of the host
 * keep theirs. Logs and artefacts stay (a failure can still be read; vessel may still fetch). Kept recipe clones
 * (activities/avalanche/kept-clones.ts) stay too, except half-made ones (a builder killed while making one) and
 * those unused for UNUSED_CLONE_DAYS; so do cached dependency packages, except half-downloaded ones.
 */
export const NSPAWN_PROPAGATE = '/run/systemd/nspawn/propagate';

export interface Leftovers {
  work: string[];
  propagate: string[];
  cgroups: string[];
}

export async function cleanLeftovers(opts: { dataDir: string; builderId: string; cgroups?: CgroupHost; propagateDir?: string }): Promise<Leftovers> {
  const stale = (name: string) => {
    const pid = machinePid(opts.builderId, name);
    return pid !== undefined && !alive(pid);
  };
  const workRoot = join(avalancheRoot(opts.dataDir), 'work');
  const work = await readdir(workRoot).catch(() => [] as string[]);
  for (const name of work) await rm(join(workRoot, name), { recursive: true, force: true });
  const propagateDir = opts.propagateDir ?? NSPAWN_PROPAGATE;
  const propagate = (await readdir(propagateDir).catch(() => [] as string[])).filter(stale);
  for (const name of propagate) await rm(join(propagateDir, name), { recursive: true, force: true });
  const cgroups = opts.cgroups ? await removeStaleCgroups(opts.cgroups, stale) : [];
  return { work, propagate, cgroups };
}

/**
 * What the builder keeps between builds and a killed builder may have left half-made: kept recipe clones without
 * their ready marker (or unused for UNUSED_CLONE_DAYS), dependency packages whose download never finished.
 */
export async function cleanKeptCaches(dataDir: string): Promise<{ clones: string[]; partialPackages: string[] }> {
  const clones = await removeStaleClones(clonesRoot(avalancheRoot(dataDir)));
  const packages = packageCacheRoot(dataDir);
  const partialPackages = (await readdir(packages).catch(() => [] as string[])).filter((n) => n.includes('.part-'));
  for (const name of partialPackages) await rm(join(packages, name), { force: true });
  return { clones, partialPackages };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
