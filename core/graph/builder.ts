/**
 * Size classes of the Rust hub (AerynOS/infra `config::Size`): an admin lists large and medium source names in
 * the hub's config, everything else is small; a builder declares the largest class it takes.
 */
export type SizeClass = 'small' | 'medium' | 'large';
export const SIZE_RANK: Readonly<Record<SizeClass, number>> = { small: 0, medium: 1, large: 2 };

/** A build host as the scheduler sees it. */
export interface BuilderSpec {
  id: string;
  /** Variants (architectures, ISA levels) this host can build: a v3x-capable host lists both. */
  serves: readonly string[];
  /** Concurrent builds it runs; default 1. */
  slots?: number;
  /** Largest size class it takes (used by the `aeryn` policy); default large. */
  size?: SizeClass;
}

export function slotsOf(builder: BuilderSpec): number {
  return builder.slots ?? 1;
}

export function sizeOf(builder: BuilderSpec): SizeClass {
  return builder.size ?? 'large';
}

/** `n` identical single-slot builders `builder-1 … builder-n` serving the given variants. */
export function uniformFarm(n: number, serves: readonly string[], slots = 1): BuilderSpec[] {
  const width = String(n).length;
  return Array.from({ length: n }, (_, i) => ({ id: `builder-${String(i + 1).padStart(width, '0')}`, serves, slots }));
}
