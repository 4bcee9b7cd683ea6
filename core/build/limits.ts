/**
 * What one build may use on its builder, and the words a build that hits a limit fails with. Pure: the builder
 * (activities/avalanche/cgroup.ts, build-watch.ts) enforces these; a limit hit is the recipe's fault, reported as
 * a non-retryable BUILD_FAILED with the reason below, never retried as a builder fault.
 */
export interface BuildLimits {
  /** Memory of every process of the build together (RAM, tmpfs /tmp included; no swap). */
  memoryBytes: number;
  /** Processes and threads alive at once. */
  tasks: number;
  /** CPU share against the other builds of the host (cgroup v2 cpu.weight scale: 1–10000, 100 = even). */
  cpuWeight: number;
  /** Wall-clock time of all the build's steps together. */
  timeMs: number;
  /** Disk the container may write: %(workdir) and %(installroot) on the host, counted in allocated blocks. */
  diskBytes: number;
  /** Size of the build log. */
  logBytes: number;
  /**
   * The builder's policy: whether a recipe saying `networking: true` may have the network, where its repository
   * allows it too (networkDecision below); otherwise such a recipe fails.
   */
  networkAllowed: boolean;
}

/** Generous enough for real packages on one slot of a build host; operators tune them per builder. */
export const DEFAULT_LIMITS: BuildLimits = {
  memoryBytes: 8 * 2 ** 30,
  tasks: 4096,
  cpuWeight: 100,
  timeMs: 4 * 3600_000,
  diskBytes: 40 * 2 ** 30,
  logBytes: 64 * 2 ** 20,
  networkAllowed: false,
};

export type LimitKind = 'memory' | 'tasks' | 'time' | 'disk' | 'log';

/** "256 MiB", "1.5 GiB", "900 bytes". */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${n} bytes` : `${Number.isInteger(value) ? value : value.toFixed(1)} ${units[unit]}`;
}

/** "20 s", "4 h", "1 h 30 min". */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const h = Math.floor(s / 3600);
  const min = Math.floor((s % 3600) / 60);
  return [h ? `${h} h` : '', min ? `${min} min` : ''].filter(Boolean).join(' ') || `${s} s`;
}

/** The reason a build that hit `kind` fails with; it names the limit, so the recipe's author knows what to change. */
export function limitReason(kind: LimitKind, limits: BuildLimits): string {
  switch (kind) {
    case 'memory':
      return `exceeded the memory limit of ${formatBytes(limits.memoryBytes)}`;
    case 'tasks':
      return `tried to run more than ${limits.tasks} tasks (processes and threads) at once`;
    case 'time':
      return `ran past the time limit of ${formatDuration(limits.timeMs)}`;
    case 'disk':
      return `used more than ${formatBytes(limits.diskBytes)} of disk`;
    case 'log':
      return `wrote more than ${formatBytes(limits.logBytes)} of log`;
  }
}

/**
 * The control files of one build's cgroup and what goes in them, for either hierarchy. v2: one folder with every
 * controller. v1 (hybrid hosts): one folder per controller; `memsw` (RAM + swap) exists only where swap accounting
 * is on, so it is written when present. The memory limit is also the swap limit: a build that swaps is as stuck
 * as one that is killed, only slower.
 */
export function cgroupSettings(version: 1 | 2, limits: BuildLimits): Array<{ controller: string; file: string; value: string; optional?: boolean }> {
  if (version === 2) {
    return [
      { controller: '', file: 'memory.max', value: String(limits.memoryBytes) },
      { controller: '', file: 'memory.swap.max', value: '0', optional: true },
      { controller: '', file: 'pids.max', value: String(limits.tasks) },
      { controller: '', file: 'cpu.weight', value: String(limits.cpuWeight) },
    ];
  }
  return [
    { controller: 'memory', file: 'memory.limit_in_bytes', value: String(limits.memoryBytes) },
    { controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: String(limits.memoryBytes), optional: true },
    { controller: 'pids', file: 'pids.max', value: String(limits.tasks) },
    // v1 cpu.shares: 1024 is the even share, as cpu.weight 100 is in v2.
    { controller: 'cpu', file: 'cpu.shares', value: String(Math.max(2, Math.round((limits.cpuWeight * 1024) / 100))) },
  ];
}

/** A counter line of a cgroup key-value file (`oom_kill 3` in memory.events or memory.oom_control, `max 1` in pids.events). */
export function cgroupCounter(text: string, key: string): number {
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k === key) return Number(v) || 0;
  }
  return 0;
}

/**
 * Whether a build gets the network. Two policies must both allow it: the repository's (its `networking`
 * setting, carried by the build request; absent in requests recorded before it existed, which counts as "no")
 * and the builder's (SUMMIT_BUILD_NETWORK, BuildLimits.networkAllowed). A recipe that does not ask gets no
 * network whatever the policies say. A recipe that asks where a policy refuses fails as the recipe's fault, with
 * `refusal` naming the policy (or both) so its author knows whom to ask.
 */
export type NetworkDecision = { network: boolean; refusal?: undefined } | { network: false; refusal: string };

export function networkDecision(input: {
  /** The recipe says `networking: true`. */
  asks: boolean;
  repositoryAllows: boolean | undefined;
  builderAllows: boolean;
  /** For the refusal: the recipe's stone.yaml, its repository (or undefined), the builder's id. */
  recipeFile: string;
  repository: string | undefined;
  builderId: string;
}): NetworkDecision {
  if (!input.asks) return { network: false };
  const repositoryAllows = input.repositoryAllows === true;
  if (repositoryAllows && input.builderAllows) return { network: true };
  const repository = input.repository ? `repository ${input.repository}` : 'the repository';
  const refusers = [
    repositoryAllows ? '' : `the policy of ${repository} (its networking setting)`,
    input.builderAllows ? '' : `builder ${input.builderId} (SUMMIT_BUILD_NETWORK)`,
  ].filter(Boolean);
  return { network: false, refusal: `${input.recipeFile} asks for the network (networking: true), which ${refusers.length === 2 ? `neither ${refusers[0]} nor ${refusers[1]} allows` : `${refusers[0]} does not allow`}` };
}
