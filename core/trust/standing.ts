/**
 * A builder's standing (issue 10): whether it may take builds now, and which. Pure: the registry's record and the
 * admin holds in, the decision out. The builder asks for it at every heartbeat (GET /api/builders/:id/standing)
 * and closes its slot gate while it may not build; planning and vessel decide from the same record.
 */
import { trustFor, type BuildPurpose, type TrustLevel } from '../contracts/trust';

/** enrolled: may build; revoked: never again (it must be enrolled anew with a new token). */
export const BUILDER_STATES = ['enrolled', 'revoked'] as const;
export type BuilderState = (typeof BUILDER_STATES)[number];

/** A drain hold as the builder is told it: admin drains, and automatic suspensions (`by: 'verification'`). */
export interface StandingHold {
  by: string;
  reason: string | null;
  at: string;
}

/** What GET /api/builders/:id/standing answers. */
export interface BuilderStanding {
  builderId: string;
  /** false: the registry has no such builder (never enrolled): it may take nothing. */
  enrolled: boolean;
  trust: TrustLevel | null;
  state: BuilderState | null;
  /** The builder's Ed25519 public key (base64 DER SPKI); vessel verifies build results with it. */
  publicKey: string | null;
  enrolledAt: string | null;
  revoked: { by: string; reason: string | null; at: string } | null;
  /** An admin drain or an automatic suspension: take no new builds while it holds. */
  drained: StandingHold | null;
}

/** Why a builder may take no new build now; empty when it may. */
export function standingClosures(s: BuilderStanding): string[] {
  if (!s.enrolled) return [`builder ${s.builderId} is not enrolled`];
  const out: string[] = [];
  if (s.state === 'revoked') out.push(`builder ${s.builderId} is revoked${s.revoked ? ` by ${s.revoked.by}${s.revoked.reason ? `: ${s.revoked.reason}` : ''}` : ''}`);
  if (s.drained) out.push(`builder ${s.builderId} is ${s.drained.by === 'verification' ? 'suspended' : 'drained'} by ${s.drained.by}${s.drained.reason ? `: ${s.drained.reason}` : ''}`);
  return out;
}

/**
 * Whether a builder's result may be imported for a build of `purpose`, decided on vessel's side from the registry
 * (never from the builder's word): undefined when it may, else the refusal's reason naming the builder and its level.
 */
export function importRefusal(s: BuilderStanding, purpose: BuildPurpose): string | undefined {
  if (!s.enrolled) return `builder ${s.builderId} is not enrolled in the registry`;
  if (s.state === 'revoked') return `builder ${s.builderId} (${s.trust}) is revoked${s.revoked?.reason ? `: ${s.revoked.reason}` : ''}`;
  if (!s.trust || !trustFor(purpose).includes(s.trust)) {
    return `builder ${s.builderId} is ${s.trust ?? 'of no trust level'}; ${purpose} builds are imported only from ${trustFor(purpose).join(' or ')} builders`;
  }
  return undefined;
}

/** Builders that may take builds of `purpose`: enrolled, not revoked, of a trust level the purpose allows. */
export function buildersFor<B extends { id: string }>(live: readonly B[], registry: ReadonlyMap<string, { trust: TrustLevel; state: BuilderState }>, purpose: BuildPurpose): B[] {
  return live.filter((b) => {
    const r = registry.get(b.id);
    return r !== undefined && r.state === 'enrolled' && trustFor(purpose).includes(r.trust);
  });
}
