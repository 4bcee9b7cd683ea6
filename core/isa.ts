import type { IsaLevel } from './contracts/queues';

/**
 * Which ISA levels a builder can serve, read off the CPU flags in /proc/cpuinfo (FORMATS.md §7).
 *
 * A builder runs the code it compiles (configure probes, test suites, PGO workloads), so it may only take builds
 * for a level its own CPU executes: the baseline `x86_64` always, `x86_64-v3x` only with every flag below.
 * The names are the kernel's spellings in the `flags` line, which differ from the compiler's in places
 * (`abm` is LZCNT, `pclmulqdq` is -mpclmul, `lahf_lm` is LAHF/SAHF in long mode).
 */

/** The x86-64-v2 level (psABI): the floor below v3. */
export const X86_64_V2_FLAGS = ['cx16', 'lahf_lm', 'popcnt', 'sse4_1', 'sse4_2', 'ssse3'] as const;

/** The x86-64-v3 level (psABI) on top of v2; `abm` is how the kernel names LZCNT. */
export const X86_64_V3_FLAGS = ['avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'abm', 'movbe', 'xsave'] as const;

/** What boulder's x86_64-v3x macros add to -march=x86-64-v3 (-maes -mfsgsbase -mpclmul -mrdrnd -mxsaveopt). */
export const X86_64_V3X_EXTRA_FLAGS = ['aes', 'fsgsbase', 'pclmulqdq', 'rdrand', 'xsaveopt'] as const;

/** Every CPU flag a builder needs to serve `x86_64-v3x`. */
export const X86_64_V3X_REQUIRED_FLAGS: readonly string[] = [...X86_64_V2_FLAGS, ...X86_64_V3_FLAGS, ...X86_64_V3X_EXTRA_FLAGS];

export interface IsaDetection {
  /** Levels served, baseline first. */
  levels: IsaLevel[];
  /** v3x flags the CPU lacks (empty when it serves v3x): says why a builder does not take v3x builds. */
  missingForV3x: string[];
}

/**
 * The CPU flags of /proc/cpuinfo text. Every processor block is read and only flags all of them share count:
 * a build may be scheduled on any core, so a flag only some cores have (heterogeneous or misreported CPUs)
 * cannot be relied on.
 */
export function cpuFlags(cpuinfo: string): Set<string> {
  let shared: Set<string> | undefined;
  for (const line of cpuinfo.split('\n')) {
    const m = /^flags\s*:(.*)$/.exec(line);
    if (!m) continue;
    const flags = new Set(m[1].trim().split(/\s+/).filter(Boolean));
    shared = shared === undefined ? flags : new Set([...shared].filter((f) => flags.has(f)));
  }
  return shared ?? new Set();
}

/** The ISA levels a CPU described by /proc/cpuinfo text serves. */
export function detectIsaLevels(cpuinfo: string): IsaDetection {
  const flags = cpuFlags(cpuinfo);
  const missingForV3x = X86_64_V3X_REQUIRED_FLAGS.filter((f) => !flags.has(f));
  const levels: IsaLevel[] = ['x86_64'];
  if (missingForV3x.length === 0) levels.push('x86_64-v3x');
  return { levels, missingForV3x };
}
