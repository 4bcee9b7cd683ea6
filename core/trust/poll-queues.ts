import { isaQueue, sharedQueue, type IsaLevel } from '../contracts/queues';
import type { TrustLevel } from '../contracts/trust';

/**
 * The queues a builder polls for builds (issue 10): a community builder the shared (try and verification) queues of
 * its ISA levels; a trusted one their official queues, and the shared ones too when told (SUMMIT_BUILDER_SHARED_QUEUES
 * `always`, or `auto`: when it has more slots than levels). Every queue polled holds one of the builder's slots while
 * it waits (build-slots.ts): an idle shared poll would cost a trusted builder an official build at a time.
 */
export function pollQueues(levels: readonly IsaLevel[], trust: TrustLevel, slots: number, shared: 'auto' | 'always' | 'never' = 'never'): string[] {
  if (trust !== 'trusted') return levels.map(sharedQueue);
  const alsoShared = shared === 'always' || (shared === 'auto' && slots > levels.length);
  return [...levels.map(isaQueue), ...(alsoShared ? levels.map(sharedQueue) : [])];
}
