import type { BuilderStatus } from '../../core/contracts/hub';
import type { BuildId } from '../../core/contracts/ids';
import type { DependencyPackage, PlanResult } from '../../core/contracts/summit';
import type { IsaLevel } from '../../core/contracts/queues';
import { OpenTask, OpenTaskStatus, planDispatch } from '../../core/graph/dispatch';
import { ProviderIndex, providerKey } from '../../core/graph/provider-index';
import type { RecipePackage } from '../../core/graph/recipe';
import type { RecipeRow, Store, TaskRow } from '../../db/store';
import { mirrorPath } from './intake';
import { profileOf, Variant } from './variants';

export interface PlanningDeps {
  store: Store;
  mirrorsDir: string;
  variants: readonly Variant[];
  /** Where builders fetch published packages from: `<base>/<index>/<uri>` (a file:// or http:// base). */
  packagesBaseUrl: string;
}

const SCHEDULING_STATUS: Record<string, OpenTaskStatus | undefined> = {
  new: 'queued', blocked: 'queued', building: 'running', publishing: 'running', failed: 'failed', cancelled: 'cancelled',
};

function packagesOf(recipes: Map<string, RecipeRow>, task: TaskRow): RecipePackage[] {
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
  const recipes = new Map((await store.listRecipes()).map((r) => [`${r.repository}/${r.source}`, r]));
  const open = await store.openTasks();
  const stopped = await store.currentStoppedTasks();
  const tasks = [...open, ...stopped];
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const running = new Map<string, number>();
  for (const t of open) if ((t.status === 'building' || t.status === 'publishing') && t.builder) running.set(t.builder, (running.get(t.builder) ?? 0) + 1);

  const history = await store.buildDurations();
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

  const published = await publishedProviders(store, recipes);
  // Builders clone from the repository's own URL: summit's mirror is on summit's disk, not theirs.
  const repoUrls = new Map((await store.listRepositories()).map((r) => [r.id, r.url]));
  for (const a of plan.assignments) {
    const t = byId.get(a.taskId)!;
    if (t.status !== 'new') continue;
    result.dispatch.push({
      taskId: t.id as BuildId, isa: t.isa as IsaLevel, index: t.index, source: t.source, commit: t.commit,
      repoUrl: repoUrls.get(t.repository) ?? mirrorPath(deps.mirrorsDir, t.repository), recipePath: t.recipePath, version: t.version, release: t.release,
      buildRelease: 1 + t.attempts, dependencies: dependenciesOf(t, packagesOf(recipes, t), published, deps),
      criticalPath: a.criticalPath,
    });
  }
  return result;
}

interface PublishedPackage {
  name: string;
  provides: string[];
  depends: string[];
  index: string;
  uri: string;
  sha256: string;
}

/** Every package published by a completed task, with what its recipe says it provides and depends on. */
async function publishedProviders(store: Store, recipes: Map<string, RecipeRow>): Promise<PublishedPackage[]> {
  const out: PublishedPackage[] = [];
  for (const t of await store.latestCompletedTasks()) {
    const meta = new Map((recipes.get(`${t.repository}/${t.source}`)?.packages ?? []).map((p) => [p.name, p]));
    for (const p of t.published ?? []) {
      const m = meta.get(p.name);
      out.push({ name: p.name, provides: m?.provides ?? [], depends: m?.depends ?? [], index: t.index, uri: p.uri, sha256: p.sha256 });
    }
  }
  return out;
}

/**
 * The published packages a task's build root needs: providers of its build dependencies, then their run-time
 * dependencies, transitively, from the task's own index and (for a variant) the baseline index.
 */
function dependenciesOf(task: TaskRow, packages: RecipePackage[], published: PublishedPackage[], deps: PlanningDeps): DependencyPackage[] {
  const indexes = new Set([task.index, deps.variants[0].index]);
  const candidates = published.filter((p) => indexes.has(p.index));
  const index = new ProviderIndex(candidates.map((p) => ({ source: p.name, packages: [{ name: p.name, provides: p.provides, depends: p.depends, buildDepends: [] }] })));
  // A provider published in several indexes: the task's own index wins over the baseline.
  const providerOf = (dep: string): number | undefined => {
    const hits = index.lookup('', providerKey(dep));
    return hits.find((i) => candidates[i].index === task.index) ?? hits[0];
  };
  const wanted = new Set<number>();
  const queue = packages.flatMap((p) => p.buildDepends);
  while (queue.length > 0) {
    const i = providerOf(queue.pop()!);
    if (i === undefined || wanted.has(i)) continue;
    if (candidates[i].name === task.source) continue;
    wanted.add(i);
    queue.push(...candidates[i].depends);
  }
  return [...wanted].sort((a, b) => a - b).map((i) => ({
    name: candidates[i].name,
    url: `${deps.packagesBaseUrl.replace(/\/$/, '')}/${candidates[i].index}/${candidates[i].uri}`,
    sha256: candidates[i].sha256,
  }));
}
