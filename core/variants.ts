import type { IsaLevel } from './contracts/queues';
import type { Profile } from './graph/variants';
import { DEFAULT_PROFILE, type FarmProfile, type Variant } from './profile';

export type { Variant } from './profile';

/**
 * The variants a farm builds: every architecture's baseline of the profile (`x86_64` → `main`) plus the extra
 * levels asked for (`x86_64-v3x` → `main-v3x`); see FarmProfile.variants.
 */
export function variantsFor(extra: readonly IsaLevel[], profile: FarmProfile = DEFAULT_PROFILE): Variant[] {
  return profile.variants(extra);
}

/** The scheduler's view: every extra level layers on its architecture's baseline (its build root sees baseline packages). */
export function profileOf(variants: readonly Variant[]): Profile {
  return {
    variants: variants.map((v) => (v.isa === v.architecture ? { id: v.isa, index: v.index } : { id: v.isa, index: v.index, layersOn: v.architecture })),
  };
}
