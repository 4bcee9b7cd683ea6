/**
 * What the builder learns of its host at start-up: whether builds can run here at all, which ISA levels the CPU
 * serves, the build cgroups and the leftovers of killed builds; then, at every heartbeat, its load, memory and
 * disk (workers/avalanche/admission.ts).
 */
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { prepareCgroupHost, type CgroupHost } from '../../activities/avalanche/cgroup';
import type { BuilderStatus } from '../../core/contracts/hub';
import type { BuilderId } from '../../core/contracts/ids';
import type { IsaLevel } from '../../core/contracts/queues';
import { detectIsaLevels, machineArchitecture } from '../../core/isa';
import { DEFAULT_PROFILE, type FarmProfile } from '../../core/profile';
import type { Admission } from './admission';
import type { BuildSlots } from './build-slots';
import type { AvalancheWorkerConfig } from './config';
import { cleanKeptCaches, cleanLeftovers } from './leftovers';
import { applyBuilderShare, type BuilderShare } from './share';

/** Refuse to start where builds cannot run, rather than fail every build later. */
export function checkBuildHost(): void {
  if (process.getuid?.() !== 0) throw new Error('avalanche runs builds in systemd-nspawn, which needs root');
  for (const [tool, args] of [['systemd-nspawn', ['--version']], ['setpriv', ['--version']], ['git', ['--version']], ['tar', ['--version']]] as const) {
    const probe = spawnSync(tool, args, { stdio: 'ignore' });
    if (probe.error || probe.status !== 0) throw new Error(`avalanche needs ${tool} on PATH (systemd-container, util-linux, git, tar)`);
  }
}

/**
 * The architecture this builder builds for and the ISA levels it serves: those asked for (SUMMIT_BUILDER_ISA), else
 * every level of the profile for that architecture the CPU builds. The architecture is the machine's (`uname -m`)
 * unless SUMMIT_BUILDER_ARCH says otherwise. Asking for a level the CPU cannot build is refused, naming the flags it
 * lacks; a level of another architecture, or none of the profile, too.
 */
export async function servedIsaLevels(
  requested?: readonly IsaLevel[],
  opts: { profile?: FarmProfile; architecture?: string } = {},
): Promise<{ architecture: string; levels: IsaLevel[]; missingForV3x: string[]; missing: Record<string, string[]> }> {
  const profile = opts.profile ?? DEFAULT_PROFILE;
  const architecture = opts.architecture ?? machineArchitecture(os.machine());
  const own = profile.levelsOf(architecture);
  if (own.length === 0) throw new Error(`this builder builds for ${architecture}, which the profile does not list (${profile.architectures.join(', ')}); set SUMMIT_PROFILE or SUMMIT_BUILDER_ARCH`);
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const detected = detectIsaLevels(cpuinfo, own);
  const { missingForV3x, missing } = detected;
  const foreign = (requested ?? []).filter((l) => !own.includes(l));
  if (foreign.length > 0) throw new Error(`SUMMIT_BUILDER_ISA asks for ${foreign.join(', ')}, which is not a level of ${architecture} in the profile (${own.join(', ')})`);
  const unsupported = (requested ?? []).filter((l) => Object.hasOwn(missing, l));
  if (unsupported.length > 0) {
    throw new Error(`SUMMIT_BUILDER_ISA asks for ${unsupported.join(', ')}, which this CPU cannot build (missing flags: ${[...new Set(unsupported.flatMap((l) => missing[l]))].join(' ')})`);
  }
  return { architecture, levels: requested ? [...requested] : detected.levels, missingForV3x, missing };
}

/** Before any build: the limits need their cgroups, and what killed builds left must not meet new ones. */
export async function prepareBuildHost(dataDir: string, builder: BuilderId, share: BuilderShare = {}): Promise<CgroupHost> {
  const cgroups = await applyBuilderShare(await prepareCgroupHost(), builder, share);
  const left = { ...(await cleanLeftovers({ dataDir, builderId: builder, cgroups })), ...(await cleanKeptCaches(dataDir)) };
  if (left.work.length + left.propagate.length + left.cgroups.length + left.clones.length + left.partialPackages.length > 0) {
    console.log(`avalanche: removed leftovers of killed builds: ${left.work.length} work folder(s), ${left.propagate.length} nspawn folder(s), ${left.cgroups.length} cgroup(s), ${left.clones.length} half-made or unused repository clone(s), ${left.partialPackages.length} partial package download(s)`);
  }
  return cgroups;
}

/** What a builder can do, read once at start. */
export interface AvalancheRuntime {
  config: AvalancheWorkerConfig;
  isaLevels: IsaLevel[];
  slots: BuildSlots;
  admission: Admission;
}

/** This builder as summit sees it (the hub's builder heartbeat carries it). */
export async function builderStatus(runtime: AvalancheRuntime): Promise<BuilderStatus> {
  const health = await runtime.admission.check();
  return {
    id: runtime.config.builderId,
    host: os.hostname(),
    isaLevels: runtime.isaLevels,
    slots: runtime.slots.capacity,
    busy: runtime.slots.busy,
    diskFree: health.diskFree,
    health,
  };
}
