import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

/**
 * CPU time the farm's processes spent, and the host's load, over a window of the wave. On a shared 2-core machine
 * wall-clock figures move with whatever else runs; CPU seconds per package do not, so they tell whether a change
 * made the pipeline cheaper. Linux only (/proc); elsewhere the figures are absent.
 */
export interface CpuSample {
  /** Per role: user + system seconds of the process and of its children it has waited for (nspawn, git). */
  seconds: Record<string, number>;
  load1: number;
}

/** Clock ticks per second of /proc/<pid>/stat: 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)). */
const TICKS = 100;

/** utime + stime + cutime + cstime of a process, in seconds; undefined when it cannot be read. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: the fields after it start past the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14–17 of the stat line are 11–14 here (the first two are cut).
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
    return Number.isFinite(ticks) ? ticks / TICKS : undefined;
  } catch {
    return undefined;
  }
}

/** A sample of each named process (the bench's own process by `self`). */
export function sampleCpu(pids: Readonly<Record<string, number | undefined>>): CpuSample {
  const seconds: Record<string, number> = {};
  for (const [role, pid] of Object.entries(pids)) {
    const s = pid === undefined ? undefined : processCpuSeconds(pid);
    if (s !== undefined) seconds[role] = s;
  }
  return { seconds, load1: loadavg()[0] };
}

/** CPU milliseconds per package of each role between two samples, with their total. */
export function cpuPerPackage(before: CpuSample, after: CpuSample, packages: number): Record<string, number> {
  const out: Record<string, number> = {};
  let total = 0;
  for (const [role, end] of Object.entries(after.seconds)) {
    const start = before.seconds[role];
    if (start === undefined) continue;
    out[role] = ((end - start) * 1000) / packages;
    total += out[role];
  }
  if (Object.keys(out).length > 0) out.total = total;
  return out;
}
