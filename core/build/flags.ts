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

const ARCH: Record<IsaLevel, { c: string; rust: string }> = {
  x86_64: { c: '-march=x86-64-v2 -mtune=ivybridge', rust: '-C target-cpu=x86-64-v2' },
  'x86_64-v3x': {
    c: '-march=x86-64-v3 -mtune=znver1 -maes -mfsgsbase -mpclmul -mrdrnd -mxsaveopt',
    rust: '-C target-cpu=x86-64-v3 -C target-features=+aes,+fsgsbase,+pclmulqdq,+xsaveopt',
  },
};

// boulder's `base` and `optimize-generic` groups; -fPIC everywhere because boulder builds that way too.
const BASE_C = '-pipe -O2 -fPIC -Wformat -Wformat-security -Wno-error';
const BASE_LD = '-Wl,-O2,--gc-sections -Wl,--as-needed';

export function compilerFlags(isa: IsaLevel): CompilerFlags {
  const arch = ARCH[isa];
  return {
    arch: arch.c,
    cflags: `${arch.c} ${BASE_C}`,
    cxxflags: `${arch.c} ${BASE_C}`,
    ldflags: BASE_LD,
    rustflags: `${arch.rust} -C opt-level=3`,
  };
}
