import { execFile } from 'node:child_process';
import type { BuildLimits, LimitKind } from '../../core/build/limits';
import type { BuildCgroup } from './cgroup';
import { allocatedBytes, smallTreeEntries } from './small-tree';

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
  const pollMs = input.pollMs ?? 1000;
  const rest = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const loop = async () => {
    // The first look waits one interval: at a step's start there is nothing to see yet, and a step that ends
    // sooner is looked at once anyway, after its container is gone (build.ts).
    await rest(pollMs);
    while (!ended) {
      const began = Date.now();
      const hit = await check().catch(() => undefined);
      if (hit && !ended) {
        stopFor(hit);
        return;
      }
      // A tree of 100,000 files takes a while to walk: rest four times as long as the walk took, so the watch
      // never costs the build more than a fifth of one disk's metadata reads.
      await rest(Math.max(pollMs, (Date.now() - began) * 4));
    }
  };
  void loop();
  return () => {
    ended = true;
    clearTimeout(timer);
  };
}

/**
 * Bytes allocated below `dirs`, by du: `-P` follows no link (a link is counted as itself), `-x` stays on the
 * file system, hard links count once, and blocks rather than lengths (a sparse file costs what it really uses).
 * du walks 80,000 entries several times faster than lstat() from node and keeps the walk off the event loop.
 */
export async function diskUsage(dirs: readonly string[]): Promise<number> {
  // du exits 1 when a folder is missing or vanishes mid-walk; the total of what it saw is still right.
  const stdout = await new Promise<string>((resolve) => {
    execFile('du', ['-s', '-c', '-P', '-x', '--block-size=1', '--', ...dirs], { maxBuffer: 1 << 20 }, (_err, out) => resolve(String(out ?? '')));
  });
  const total = /^(\d+)\s+total$/m.exec(stdout);
  return total ? Number(total[1]) : 0;
}

/** Trees with more entries than this are measured by du: past it, du's walk is cheaper than lstat() from node. */
export const IN_PROCESS_DISK_WALK_LIMIT = 2000;

/**
 * diskUsage for folders nothing writes any more (a step's container and its cgroup are gone): walked in-process
 * when small (small-tree.ts; no fork of the worker), by du otherwise. Counted the same way either way.
 */
export async function diskUsageAtRest(dirs: readonly string[]): Promise<number> {
  const entries = smallTreeEntries(dirs, IN_PROCESS_DISK_WALK_LIMIT, { oneFileSystem: true });
  return entries ? allocatedBytes(entries) : diskUsage(dirs);
}
