import type { IsaLevel } from './contracts/queues';
import { DEFAULT_PROFILE } from './profile';

/**
 * Which ISA levels a builder can serve: the levels of the profile (core/profile.ts) for the machine's architecture,
 * read off the CPU flags in /proc/cpuinfo (FORMATS.md §7).
 *
 * A builder runs the code it compiles (configure probes, test suites, PGO workloads), so it may only take builds
 * for a level its own CPU executes: its architecture's baseline always (`x86_64`, `aarch64`), `x86_64-v3x` only
 * with every flag below, `x86_64-v4` only with v3 and AVX-512 (F, BW, CD, DQ, VL). A level whose flags are not known
 * here is never detected: a builder serves it only when SUMMIT_BUILDER_ISA names it.
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

/** The x86-64-v4 level (psABI) on top of v3: AVX-512 F, BW, CD, DQ and VL. */
export const X86_64_V4_EXTRA_FLAGS = ['avx512f', 'avx512bw', 'avx512cd', 'avx512dq', 'avx512vl'] as const;

/** Every CPU flag a builder needs to serve `x86_64-v4`. */
export const X86_64_V4_REQUIRED_FLAGS: readonly string[] = [...X86_64_V2_FLAGS, ...X86_64_V3_FLAGS, ...X86_64_V4_EXTRA_FLAGS];

/** The CPU flags each level above its architecture's baseline needs, for the levels this code knows. */
export const LEVEL_FLAGS: Readonly<Record<string, readonly string[]>> = {
  'x86_64-v3x': X86_64_V3X_REQUIRED_FLAGS,
  'x86_64-v4': X86_64_V4_REQUIRED_FLAGS,
};

export interface IsaDetection {
  /** Levels served, baseline first. */
  levels: IsaLevel[];
  /** v3x flags the CPU lacks (empty when it serves v3x, or on another architecture): says why a builder does not take v3x builds. */
  missingForV3x: string[];
  /** For each level of the architecture with known flags that is not served: the flags the CPU lacks. */
  missing: Record<string, string[]>;
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

/** Other spellings of an architecture (Debian's, Node's process.arch, BSD's) and the profile's. */
const MACHINE_SPELLINGS = new Map([['amd64', 'x86_64'], ['x64', 'x86_64'], ['arm64', 'aarch64']]);

/** The kernel's name of the machine's architecture (`uname -m`, os.machine()) in the profile's spelling. */
export function machineArchitecture(machine: string): string {
  return MACHINE_SPELLINGS.get(machine) ?? machine;
}

/**
 * The ISA levels a CPU described by /proc/cpuinfo text serves, among `levels` (an architecture's levels of the
 * profile, baseline first; default: the default profile's x86_64 levels). The baseline is always served.
 */
export function detectIsaLevels(cpuinfo: string, levels: readonly IsaLevel[] = DEFAULT_PROFILE.levelsOf('x86_64')): IsaDetection {
  const flags = cpuFlags(cpuinfo);
  const served: IsaLevel[] = [];
  const missing: Record<string, string[]> = {};
  levels.forEach((level, i) => {
    const needs = Object.hasOwn(LEVEL_FLAGS, level) ? LEVEL_FLAGS[level] : undefined;
    if (i === 0) served.push(level);
    else if (!needs) return;
    else {
      const lacks = needs.filter((f) => !flags.has(f));
      if (lacks.length === 0) served.push(level);
      else missing[level] = lacks;
    }
  });
  return { levels: served, missingForV3x: missing['x86_64-v3x'] ?? [], missing };
}
