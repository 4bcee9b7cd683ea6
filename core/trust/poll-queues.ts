import { isaQueue, sharedQueue, type IsaLevel } from '../contracts/queues';
import type { TrustLevel } from '../contracts/trust';

/**
 * The queues a builder polls for builds (issue 10): a trusted one its ISA levels' official queues, and the shared
 * (try and verification) queues too when it has a slot to spare for them (SUMMIT_BUILDER_SHARED_QUEUES=auto) —
 * every queue polled holds a slot while it waits (build-slots.ts), so a builder with no more slots than levels
 * keeps them for official builds unless told `always`; a community builder only the shared queues.
 */
export function pollQueues(levels: readonly IsaLevel[], trust: TrustLevel, slots: number, shared: 'auto' | 'always' | 'never' = 'auto'): string[] {
  if (trust !== 'trusted') return levels.map(sharedQueue);
  const alsoShared = shared === 'always' || (shared === 'auto' && slots > levels.length);
  return [...levels.map(isaQueue), ...(alsoShared ? levels.map(sharedQueue) : [])];
}
