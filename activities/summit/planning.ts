import type { BuilderStatus } from '../../core/contracts/hub';
import type { BuildId } from '../../core/contracts/ids';
import type { IsaLevel } from '../../core/contracts/queues';
import type { PlanResult } from '../../core/contracts/summit';
import { OpenTask, OpenTaskStatus, planDispatch } from '../../core/graph/dispatch';
import type { RecipePackage } from '../../core/graph/recipe';
import { buildRootPackages } from '../../core/planning/build-dependencies';
import type { RecipeRow, SchedulingTaskRow, Store } from '../../db/store';
import { profileOf, Variant } from '../../core/variants';
import { mirrorPath } from './intake';
import { planningInputsFor, type PlanningInputsCache } from './planning-inputs';

export interface PlanningDeps {
  store: Store;
  mirrorsDir: string;
  variants: readonly Variant[];
  /** Where builders fetch published packages from: `<base>/<index>/<uri>` (a file:// or http:// base). */
  packagesBaseUrl: string;
  /** Recipes, durations and published packages kept between rounds; default: the one kept for `store`. */
  inputs?: PlanningInputsCache;
}

const SCHEDULING_STATUS: Record<string, OpenTaskStatus | undefined> = {
  new: 'queued', blocked: 'queued', building: 'running', publishing: 'running', failed: 'failed', cancelled: 'cancelled',
};

function packagesOf(recipes: ReadonlyMap<string, RecipeRow>, task: SchedulingTaskRow): RecipePackage[] {
  return recipes.get(`${task.repository}/${task.source}`)?.packages ?? [];
}

/**
 * Decide what to start now (the hub workflow calls this whenever something changed). Open tasks plus the
 * current failed/cancelled ones (they block their dependents) go through the pure scheduler in core/graph;
 * blocked/unblocked tasks are moved in the read model here, and every dispatch carries what the build needs:
 * the exact commit, and the published packages its dependencies resolve to.
 */
export async function planBuilds(deps: PlanningDeps, input: { builders: BuilderStatus[] }): Promise<PlanResult> {
  const { store } = deps;
  const { recipes, history, published } = await (deps.inputs ?? planningInputsFor(store)).load();
  const { open, stopped } = await store.schedulingTasks();
  const tasks = [...open, ...stopped];
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const running = new Map<string, number>();
  for (const t of open) if ((t.status === 'building' || t.status === 'publishing') && t.builder) running.set(t.builder, (running.get(t.builder) ?? 0) + 1);

  const plan = planDispatch({
    tasks: tasks.map<OpenTask>((t) => ({ id: t.id, source: t.source, variant: t.isa, status: SCHEDULING_STATUS[t.status]!, packages: packagesOf(recipes, t) })),
    builders: input.builders.map((b) => ({ id: b.id, serves: b.isaLevels, slots: b.slots, running: running.get(b.id) ?? 0 })),
    history,
    profile: profileOf(deps.variants),
  });

  const result: PlanResult = { dispatch: [], blocked: [], unblocked: [], waiting: plan.waiting.length, queued: plan.queued.length, unservable: plan.unservable };
  const blockedNow = new Set(plan.blocked.map((b) => b.taskId));
  for (const b of plan.blocked) {
    if (byId.get(b.taskId)?.status === 'new') {
      await store.setStatus(b.taskId, 'blocked', `blocked by ${b.by.join(', ')}`);
      result.blocked.push(b.taskId);
    }
  }
  for (const t of open) {
    if (t.status === 'blocked' && !blockedNow.has(t.id)) {
      await store.setStatus(t.id, 'new', 'no failed dependency blocks it any more');
      result.unblocked.push(t.id);
    }
  }
  for (const u of plan.unservable) await store.updateTask(u.taskId, { reason: u.reason });

  // Builders clone from the repository's own URL: summit's mirror is on summit's disk, not theirs.
  const repositories = new Map((await store.listRepositories()).map((r) => [r.id, r]));
  for (const a of plan.assignments) {
    const t = byId.get(a.taskId)!;
    if (t.status !== 'new') continue;
    result.dispatch.push({
      taskId: t.id as BuildId, isa: t.isa as IsaLevel, index: t.index, source: t.source, commit: t.commit,
      repoUrl: repositories.get(t.repository)?.url ?? mirrorPath(deps.mirrorsDir, t.repository), recipePath: t.recipePath, version: t.version, release: t.release,
      buildRelease: 1 + t.attempts, dependencies: buildRootPackages({
        source: t.source, index: t.index, baselineIndex: deps.variants[0].index, buildDepends: packagesOf(recipes, t).flatMap((p) => p.buildDepends), packagesBaseUrl: deps.packagesBaseUrl,
      }, published),
      criticalPath: a.criticalPath, networkAllowed: repositories.get(t.repository)?.networking ?? false,
    });
  }
  return result;
}
