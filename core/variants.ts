import type { IsaLevel } from './contracts/queues';
import type { Profile } from './graph/variants';

/** A build variant of the farm's profile: its ISA level and the index it publishes to. */
export interface Variant {
  isa: IsaLevel;
  index: string;
}

/** The x86_64 baseline publishes to `main`; each extra ISA level to `main-<level suffix>` (e.g. `main-v3x`). */
export function variantsFor(extra: readonly IsaLevel[]): Variant[] {
  return [{ isa: 'x86_64', index: 'main' }, ...extra.filter((i) => i !== 'x86_64').map((isa) => ({ isa, index: `main-${isa.replace(/^x86_64-/, '')}` }))];
}

/** The scheduler's view: every extra level layers on the baseline (its build root sees baseline packages). */
export function profileOf(variants: readonly Variant[]): Profile {
  return { variants: variants.map((v) => (v.isa === 'x86_64' ? { id: v.isa, index: v.index } : { id: v.isa, index: v.index, layersOn: 'x86_64' })) };
}
