/**
 * A builder's share of its host, for several builders on one machine: every build of this builder goes into one
 * cgroup of its own (`avalanche-<builder id>`, below where the build cgroups went before: activities/avalanche/
 * cgroup.ts), whose CPU weight and memory limit bound its builds together. Per-build limits (SUMMIT_BUILD_MEMORY,
 * SUMMIT_BUILD_CPU_WEIGHT) still apply inside it. Under contention two builders get CPU in the ratio of their
 * SUMMIT_BUILDER_CPU_WEIGHT, and one builder's builds together never take more than its SUMMIT_BUILDER_MEMORY.
 *
 * Done with cgroups directly rather than `systemd-nspawn --property=` or a systemd scope because the builder runs
 * nspawn with --keep-unit --register=no (there may be no systemd as PID 1: containers, CI). Where the builder does
 * run under systemd, the unit's own CPUWeight= and MemoryMax= (with Delegate=yes) bound it the same way.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CgroupHost } from '../../activities/avalanche/cgroup';

export interface BuilderShare {
  /** cgroup v2 cpu.weight scale (1–10000, 100 even); v1 cpu.shares is 1024 × weight ÷ 100. */
  cpuWeight?: number;
  /** Memory of all the builder's builds together (bytes). */
  memoryBytes?: number;
}

/** Where this builder's share cgroup goes, per hierarchy (the build cgroups are made in it). */
export function shareGroupName(builderId: string): string {
  return `avalanche-${builderId}`;
}

/** The settings of a share, per cgroup version. */
export function shareSettings(version: 1 | 2, share: BuilderShare): Array<{ controller: string; file: string; value: string }> {
  const out: Array<{ controller: string; file: string; value: string }> = [];
  if (share.cpuWeight !== undefined) {
    out.push(version === 2
      ? { controller: '', file: 'cpu.weight', value: String(share.cpuWeight) }
      : { controller: 'cpu', file: 'cpu.shares', value: String(Math.max(2, Math.round((share.cpuWeight * 1024) / 100))) });
  }
  if (share.memoryBytes !== undefined) {
    out.push(version === 2
      ? { controller: '', file: 'memory.max', value: String(share.memoryBytes) }
      : { controller: 'memory', file: 'memory.limit_in_bytes', value: String(share.memoryBytes) });
  }
  return out;
}

/**
 * Make (or reuse) the builder's share cgroup, set its weight and limit, and return the cgroup host its builds go
 * in. Without a share the host is returned as it is (builds share the builder's own cgroup, as before).
 */
export async function applyBuilderShare(host: CgroupHost, builderId: string, share: BuilderShare): Promise<CgroupHost> {
  if (share.cpuWeight === undefined && share.memoryBytes === undefined) return host;
  const parents: Record<string, string> = {};
  for (const [controller, parent] of Object.entries(host.parents)) {
    parents[controller] = join(parent, shareGroupName(builderId));
    await mkdir(parents[controller], { recursive: true });
  }
  if (host.version === 2) {
    // The share holds no process: its children (the builds) get the controllers.
    await writeFile(join(parents[''], 'cgroup.subtree_control'), '+memory +pids +cpu');
  }
  for (const s of shareSettings(host.version, share)) {
    const file = join(parents[s.controller], s.file);
    await writeFile(file, s.value).catch((err: Error) => {
      throw new Error(`cannot set the builder's share ${file} to ${s.value}: ${err.message}`);
    });
  }
  return { version: host.version, parents };
}
