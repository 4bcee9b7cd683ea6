import type { BuildPurpose } from './trust';

/**
 * Task-queue names, defined once. Avalanche workers poll the queue of each ISA level their CPU serves plus a
 * queue of their own (Temporal's worker-specific task queue pattern): the build runs on any capable builder, the
 * clean-up of its artefacts on exactly the builder that holds them.
 */
import { isSafeName } from './names';

/**
 * An ISA level of the farm's profile (core/profile.ts), e.g. `x86_64`, `x86_64-v3x`, `aarch64`: data, not a closed
 * list. Where a level comes from outside it is checked against the profile (or, where there is none, by isIsaLevel).
 */
export type IsaLevel = string;

/** The levels of the default profile (core/profile.ts DEFAULT_PROFILE): x86_64 and x86_64-v3x. */
export const ISA_LEVELS: readonly IsaLevel[] = ['x86_64', 'x86_64-v3x'];

export const SUMMIT_QUEUE = 'summit';
export const VESSEL_QUEUE = 'vessel';

export function isaQueue(isa: IsaLevel): string {
  return `avalanche-${isa}`;
}

/**
 * The queue of try and verification builds of an ISA level (issue 10), polled by every enrolled builder serving the
 * level; official builds stay on isaQueue, which only trusted builders poll (and whose name recorded histories keep).
 */
export function sharedQueue(isa: IsaLevel): string {
  return `avalanche-shared-${isa}`;
}

/** The queue a build of `purpose` goes to: official ones only to trusted builders (core/contracts/trust.ts). */
export function buildQueue(isa: IsaLevel, purpose: BuildPurpose = 'official'): string {
  return purpose === 'official' ? isaQueue(isa) : sharedQueue(isa);
}

export function builderQueue(builderId: string): string {
  return `avalanche-builder-${builderId}`;
}

/** A level name fit for a queue name, a build id segment and a file name (the profile's levels all are). */
export function isIsaLevel(value: string): value is IsaLevel {
  return isSafeName(value, 64);
}
