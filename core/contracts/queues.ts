import type { BuildPurpose } from './trust';

/**
 * Task-queue names, defined once. Avalanche workers poll the queue of each ISA level their CPU serves plus a
 * queue of their own (Temporal's worker-specific task queue pattern): the build runs on any capable builder, the
 * clean-up of its artefacts on exactly the builder that holds them.
 */
export const ISA_LEVELS = ['x86_64', 'x86_64-v3x'] as const;
export type IsaLevel = (typeof ISA_LEVELS)[number];

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

export function isIsaLevel(value: string): value is IsaLevel {
  return (ISA_LEVELS as readonly string[]).includes(value);
}
