import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildLimits, LimitKind } from '../../core/build/limits';
import type { BuildCgroup } from './cgroup';

/**
 * Watches a running step from the host and stops it at a limit the kernel does not enforce by itself, or
 * enforces without stopping the build: the wall-clock deadline (a timer), an OOM kill (the kernel killed one
 * process; the build would go on with a hole in it), a fork refused at the tasks limit (a fork bomb would spin
 * there until the deadline), the log size and the disk the container wrote. Disk and log are polled, so a build
 * may overshoot them by what it writes in one interval; the cap bounds the damage, it is not a quota.
 */
export interface WatchInput {
  limits: BuildLimits;
  /** Epoch ms at which the build's time is up. */
  deadline: number;
  cgroup?: BuildCgroup;
  /** Current size of the build log. */
  logBytes: () => Promise<number>;
  /** Host folders the container writes (summed, in allocated blocks, links not followed). */
  diskDirs: readonly string[];
  pollMs?: number;
}

export function watchBuild(input: WatchInput, stopFor: (limit: LimitKind) => void): () => void {
  let ended = false;
  const timer = setTimeout(() => stopFor('time'), Math.max(0, input.deadline - Date.now()));
  const check = async (): Promise<LimitKind | undefined> => {
    if (input.cgroup) {
      if ((await input.cgroup.oomKills()) > 0) return 'memory';
      if ((await input.cgroup.taskLimitHits()) > 0) return 'tasks';
    }
    if ((await input.logBytes()) > input.limits.logBytes) return 'log';
    if ((await diskUsage(input.diskDirs)) > input.limits.diskBytes) return 'disk';
    return undefined;
  };
  const loop = async () => {
    while (!ended) {
      const hit = await check().catch(() => undefined);
      if (hit && !ended) {
        stopFor(hit);
        return;
      }
      await new Promise((r) => setTimeout(r, input.pollMs ?? 1000));
    }
  };
  void loop();
  return () => {
    ended = true;
    clearTimeout(timer);
  };
}

/**
 * Bytes allocated below `dirs`: lstat only (a link is counted as itself, never followed), each inode once, blocks
 * rather than lengths (a sparse file costs what it really uses).
 */
export async function diskUsage(dirs: readonly string[]): Promise<number> {
  const seen = new Set<string>();
  let total = 0;
  const walk = async (path: string): Promise<void> => {
    const st = await lstat(path).catch(() => undefined);
    if (!st) return;
    const key = `${st.dev}:${st.ino}`;
    if (seen.has(key)) return;
    seen.add(key);
    total += st.blocks * 512;
    if (!st.isDirectory()) return;
    for (const name of await readdir(path).catch(() => [] as string[])) await walk(join(path, name));
  };
  for (const dir of dirs) await walk(dir);
  return total;
}
