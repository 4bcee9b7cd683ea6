import type { BuildId } from '../../core/contracts/ids';
import { verificationWorkflowId, type VerificationInput, type VerificationResult } from '../../core/contracts/verification';
import type { Store } from '../../db/store';
import { verificationStoreOf, type VerificationView } from '../../db/verification-store';
import { CommandRefusedError, HubUnavailableError } from '../pipeline';

/** Starting a verification workflow (workers/verification-starter.ts); absent in fakes: POST …/verify answers 503. */
export interface VerificationControl {
  start(input: VerificationInput): Promise<boolean>;
}

/**
 * An admin's verification of a published build: the next number of that build, started as its own workflow
 * (`verify-<build>-<n>`). 404 unknown task; 409 a task not published (nothing to compare with) or a verification of
 * that number started meanwhile; 503 without Temporal.
 */
export async function requestVerification(deps: { store: Store; verifications?: VerificationControl }, taskId: string, by: string): Promise<{ id: string; buildId: string; n: number; by: string }> {
  const task = await deps.store.getTask(taskId);
  if (task.status !== 'completed' || !task.published?.length) throw new CommandRefusedError(`task ${task.id} is ${task.status}: only a published build can be verified`);
  if (!deps.verifications) throw new HubUnavailableError('verification builds are not available: this API has no Temporal client');
  const n = await verificationStoreOf(deps.store.orm).nextNumber(task.id);
  const input: VerificationInput = { buildId: task.id as BuildId, n, by: `admin:${by}` };
  let started: boolean;
  try {
    started = await deps.verifications.start(input);
  } catch (err) {
    throw new HubUnavailableError(`Temporal did not start the verification: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!started) throw new CommandRefusedError(`verification ${n} of ${task.id} was started meanwhile; ask again`);
  return { id: verificationWorkflowId(task.id, n), buildId: task.id, n, by: input.by };
}

export async function listVerifications(store: Store, q: { result?: VerificationResult; repository?: string; builder?: string; limit: number }): Promise<{ items: VerificationView[] }> {
  return { items: await verificationStoreOf(store.orm).list(q) };
}

/** What GET /api/tasks/:id adds: the task's verifications, oldest first. */
export async function taskVerifications(store: Store, taskId: string): Promise<VerificationView[]> {
  return verificationStoreOf(store.orm).forBuild(taskId);
}
