import type { IsaLevel } from '../contracts/queues';

/**
 * Compiler flags per ISA level, after boulder's macro sets (`boulder/data/macros/arch/x86_64.yaml`,
 * `x86_64-v3x.yaml`, FORMATS.md §7). Only the architecture group and boulder's always-on base/optimize groups are
 * modelled; boulder's optional tuning groups (lto, harden, …) are not, so a recipe's `tuning:` is ignored.
 */
export interface CompilerFlags {
  /** -march/-mtune and friends: what makes a v3x package differ from a baseline one. */
  arch: string;
  cflags: string;
  cxxflags: string;
  ldflags: string;
  rustflags: string;
}

/**
 * Per level; a level of the profile not listed here builds with its compiler's defaults for the architecture (no
 * -march), which is always correct and never the fastest.
 */
const ARCH: Readonly<Record<string, { c: string; rust: string }>> = {
  x86_64: { c: '-march=x86-64-v2 -mtune=ivybridge', rust: '-C target-cpu=x86-64-v2' },
  'x86_64-v3x': {
    c: '-march=x86-64-v3 -mtune=znver1 -maes -mfsgsbase -mpclmul -mrdrnd -mxsaveopt',
    rust: '-C target-cpu=x86-64-v3 -C target-features=+aes,+fsgsbase,+pclmulqdq,+xsaveopt',
  },
  'x86_64-v4': { c: '-march=x86-64-v4 -mtune=znver4', rust: '-C target-cpu=x86-64-v4' },
  // boulder's aarch64 set: ARMv8-A with the SIMD, FP and crypto extensions.
  aarch64: { c: '-march=armv8-a+simd+fp+crypto -mtune=cortex-a72.cortex-a53', rust: '-C target-cpu=generic' },
};
const NO_ARCH_FLAGS = { c: '', rust: '' };

// boulder's `base` and `optimize-generic` groups; -fPIC everywhere because boulder builds that way too.
const BASE_C = '-pipe -O2 -fPIC -Wformat -Wformat-security -Wno-error';
const BASE_LD = '-Wl,-O2,--gc-sections -Wl,--as-needed';

export function compilerFlags(isa: IsaLevel): CompilerFlags {
  const arch = Object.hasOwn(ARCH, isa) ? ARCH[isa] : NO_ARCH_FLAGS;
  const prefix = arch.c ? `${arch.c} ` : '';
  return {
    arch: arch.c,
    cflags: `${prefix}${BASE_C}`,
    cxxflags: `${prefix}${BASE_C}`,
    ldflags: BASE_LD,
    rustflags: `${arch.rust ? `${arch.rust} ` : ''}-C opt-level=3`,
  };
}
