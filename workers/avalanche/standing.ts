/**
 * The builder learns its standing (issue 10) at every heartbeat: it asks the API (GET /api/builders/:id/standing)
 * whether it is revoked, drained or suspended (any admin drain hold, including the automatic suspension after
 * verification mismatches, `by: 'verification'`) and its trust level now. While it may not build, it closes its
 * slot gate as the `standing` owner (workers/avalanche/build-slots.ts): admission's closure is its own, so neither
 * reopens the other. A revocation also stops its running builds, which Temporal then retries on another builder.
 * An API it cannot reach changes nothing (the last answer holds): vessel, which reads the registry itself, refuses
 * a revoked builder's results anyway.
 */
import { standingClosures, type BuilderStanding } from '../../core/trust/standing';
import type { TrustLevel } from '../../core/contracts/trust';
import type { BuildSlots } from './build-slots';
import { fetchStanding } from './identity';

export interface StandingWatch {
  /** Ask now, apply the answer, and return it (undefined when the API did not answer). */
  check(): Promise<BuilderStanding | undefined>;
  readonly last: BuilderStanding | undefined;
  stop(): void;
}

export function startStandingWatch(opts: {
  apiUrl: string;
  builderId: string;
  slots: BuildSlots;
  everyMs: number;
  log: (message: string) => void;
  /** Called once when the builder learns it is revoked (its running builds are stopped there). */
  onRevoked: (standing: BuilderStanding) => void;
  /** Called when the trust level changes (the builder polls the official queues only while trusted). */
  onTrust: (trust: TrustLevel) => void;
}): StandingWatch {
  let last: BuilderStanding | undefined;
  let unreachable = false;
  let revokedSeen = false;
  const check = async (): Promise<BuilderStanding | undefined> => {
    let standing: BuilderStanding;
    try {
      standing = await fetchStanding(opts.apiUrl, opts.builderId);
    } catch (err) {
      if (!unreachable) opts.log(`avalanche: cannot read this builder's standing (${(err as Error).message}); keeping the last one`);
      unreachable = true;
      return undefined;
    }
    if (unreachable) opts.log('avalanche: the API answers again');
    unreachable = false;
    const closures = standingClosures(standing);
    const closed = closures.length > 0;
    if (closed !== opts.slots.closedBy('standing')) opts.log(closed ? `avalanche: taking no new build: ${closures.join('; ')}` : 'avalanche: taking builds again');
    opts.slots.setClosed('standing', closed, closures.join('; '));
    if (standing.trust && last?.trust && standing.trust !== last.trust) opts.onTrust(standing.trust);
    if (standing.state === 'revoked' && !revokedSeen) {
      revokedSeen = true;
      opts.onRevoked(standing);
    }
    last = standing;
    return standing;
  };
  const timer = setInterval(() => void check(), opts.everyMs);
  timer.unref();
  return { check, get last() { return last; }, stop: () => clearInterval(timer) };
}
