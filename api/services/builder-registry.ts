import type { TrustLevel } from '../../core/contracts/trust';
import { publicKeyProblem } from '../../core/trust/build-signature';
import type { BuilderStanding } from '../../core/trust/standing';
import { builderRegistryOf, EnrolmentRefusedError, type RegisteredBuilder } from '../../db/builder-registry-store';
import type { Store } from '../../db/store';
import { UnauthorizedError, ValidationError } from '../errors';
import { replan, type AdminDeps } from './admin';

/**
 * The builder registry's operations (issue 10): enrolment tokens, enrolment, trust changes, revocation, and the
 * standing builders and vessel read. A change that affects what may be dispatched asks the hub to plan now; the
 * builders learn it at their next heartbeat (GET /api/builders/:id/standing), vessel at its next import.
 */

const DEFAULT_ENROLMENT_TTL_MS = 24 * 3_600_000;

export async function issueEnrolment(store: Store, trust: TrustLevel, expiresInMs: number | undefined, by: string) {
  const expiresAt = new Date(Date.now() + (expiresInMs ?? DEFAULT_ENROLMENT_TTL_MS));
  return builderRegistryOf(store).issue(trust, expiresAt, by);
}

/** A builder spends its enrolment token: 401 for a token unknown, spent or expired; 422 for a key that is not Ed25519. */
export async function enrolBuilder(deps: AdminDeps, token: string, builderId: string, publicKey: string): Promise<RegisteredBuilder> {
  const problem = publicKeyProblem(publicKey);
  if (problem) throw new ValidationError([{ path: 'body.publicKey', message: problem }]);
  try {
    const builder = await builderRegistryOf(deps.store).enrol(token, builderId, publicKey);
    await replan(deps, `enrolled builder ${builderId}`);
    return builder;
  } catch (err) {
    if (err instanceof EnrolmentRefusedError) throw new UnauthorizedError(err.message);
    throw err;
  }
}

export async function setBuilderTrust(deps: AdminDeps, id: string, trust: TrustLevel, by: string, reason: string | null) {
  const result = await builderRegistryOf(deps.store).setTrust(id, trust, by, reason);
  if (result.changed) await replan(deps, `builder ${id} is ${trust}`);
  return result;
}

export async function revokeBuilder(deps: AdminDeps, id: string, by: string, reason: string | null) {
  const result = await builderRegistryOf(deps.store).revoke(id, by, reason);
  if (result.changed) await replan(deps, `builder ${id} revoked`);
  return result;
}

export function builderStanding(store: Store, id: string): Promise<BuilderStanding> {
  return builderRegistryOf(store).standing(id);
}

/** What GET /api/builders adds to each builder: its trust level, state and enrolment (nulls for one never enrolled). */
export async function builderRegistryFields(store: Store): Promise<(id: string) => { trust: TrustLevel | null; state: string; enrolledAt: Date | null }> {
  const all = new Map((await builderRegistryOf(store).list()).map((b) => [b.id, b]));
  return (id) => {
    const b = all.get(id);
    return { trust: b?.trust ?? null, state: b?.state ?? 'unenrolled', enrolledAt: b?.enrolledAt ?? null };
  };
}
