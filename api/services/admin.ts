import { adminStoreOf, subjectKey, type HoldSubject, type HoldView } from '../../db/admin-store';
import type { Store } from '../../db/store';
import type { Logger } from '../logger';
import type { PipelineControl } from '../pipeline';

/**
 * Admins' pause, resume, drain, priority and approval: written to the read model (db/admin-store.ts, which
 * records who, when and why), then the hub is asked to plan now. Planning reads the read model every round, so a
 * hub that does not take the signal (down, or Temporal unreachable) still honours the change at its next round:
 * the signal failing is logged, not the request's failure.
 */
export interface AdminDeps {
  store: Store;
  pipeline: PipelineControl;
  logger: Logger;
}

/** Ask the hub to plan now; a hub that does not take it applies the change at its next timed round. */
export async function replan(deps: AdminDeps, reason: string): Promise<void> {
  try {
    await deps.pipeline.replan?.(reason);
  } catch (err) {
    deps.logger.warn('could not ask the hub to plan now; its next timed round applies the change', { reason, error: (err as Error).message });
  }
}

const VERBS = {
  farm: { hold: 'pause', release: 'resume' },
  repository: { hold: 'pause', release: 'resume' },
  builder: { hold: 'drain', release: 'resume' },
} as const;

/** Pause the farm or a repository, or drain a builder; idempotent (`changed: false` when it already was). */
export async function holdSubject(deps: AdminDeps, subject: HoldSubject, by: string, reason: string | null): Promise<{ changed: boolean; hold: HoldView }> {
  const result = await adminStoreOf(deps.store).hold(subject, by, reason, VERBS[subject.kind].hold);
  if (result.changed) await replan(deps, `${VERBS[subject.kind].hold} ${subjectKey(subject)}`);
  return result;
}

/** Lift the farm's or a repository's pause, or a builder's drain; idempotent. */
export async function releaseSubject(deps: AdminDeps, subject: HoldSubject, by: string, reason: string | null): Promise<{ changed: boolean }> {
  const result = await adminStoreOf(deps.store).release(subject, by, reason, VERBS[subject.kind].release);
  if (result.changed) await replan(deps, `${VERBS[subject.kind].release} ${subjectKey(subject)}`);
  return result;
}

export async function setTaskPriority(deps: AdminDeps, taskId: string, priority: number, by: string, reason: string | null) {
  const result = await adminStoreOf(deps.store).setPriority(taskId, priority, by, reason);
  await replan(deps, `priority of ${taskId}`);
  return result;
}

export async function approveTask(deps: AdminDeps, taskId: string, by: string, reason: string | null) {
  const result = await adminStoreOf(deps.store).approve(taskId, by, reason);
  if (result.changed) await replan(deps, `approved ${taskId}`);
  return result;
}

export async function protectRepository(deps: AdminDeps, repository: string, packages: readonly string[], by: string, reason: string | null) {
  await adminStoreOf(deps.store).protect(repository, packages, by, reason);
  await replan(deps, `protection of ${repository}`);
  return { repository, protectedPackages: [...packages] };
}

/** The farm's admin state: its own pause, paused repositories, drained builders and the newest admin events. */
export async function farmState(store: Store, events: number) {
  const admin = adminStoreOf(store);
  const [holds, recent] = await Promise.all([admin.holds(), admin.events(undefined, events)]);
  const of = (prefix: string) => [...holds].filter(([k]) => k.startsWith(prefix)).map(([k, h]) => ({ id: k.slice(prefix.length), ...h }));
  return { paused: holds.get('farm') ?? null, pausedRepositories: of('repository:'), drainedBuilders: of('builder:'), events: recent };
}

/** What GET /api/repositories adds to each repository: whether it is paused, and its protected packages. */
export async function repositoryAdminFields(store: Store): Promise<(id: string) => { paused: HoldView | null; protectedPackages: string[] }> {
  const admin = adminStoreOf(store);
  const [holds, protections] = await Promise.all([admin.holds(), admin.protections()]);
  return (id) => ({ paused: holds.get(`repository:${id}`) ?? null, protectedPackages: protections.get(id) ?? [] });
}

/** What GET /api/builders adds to each builder: whether it is drained. */
export async function builderAdminFields(store: Store): Promise<(id: string) => { drained: HoldView | null }> {
  const holds = await adminStoreOf(store).holds();
  return (id) => ({ drained: holds.get(`builder:${id}`) ?? null });
}

/** The newest admin events of a repository (pause, resume, protection). */
export function repositoryEvents(store: Store, id: string, limit = 50) {
  return adminStoreOf(store).events({ kind: 'repository', id }, limit);
}

export function taskApproval(store: Store, id: string) {
  return adminStoreOf(store).approval(id);
}
