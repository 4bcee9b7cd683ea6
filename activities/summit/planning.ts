import { underPressure } from '../../core/builder/health';
import type { BuilderStatus } from '../../core/contracts/hub';
import type { BuildId } from '../../core/contracts/ids';
import { BUILD_FLOW, type PlanInput, type PlanResult } from '../../core/contracts/summit';
import { BuilderState, OpenTask, OpenTaskStatus, pickBuilder, planDispatch } from '../../core/graph/dispatch';
import type { RecipePackage } from '../../core/graph/recipe';
import { adminSummary, dispatchableBuilders, HELD_PREFIX, heldTasks, reasonUpdates } from '../../core/planning/admin';
import { buildRootPackages } from '../../core/planning/build-dependencies';
import { adminStoreOf } from '../../db/admin-store';
import type { RecipeRow, RepositoryRow, SchedulingTaskRow, Store } from '../../db/store';
import { DEFAULT_PROFILE, type FarmProfile } from '../../core/profile';
import { buildersFor } from '../../core/trust/standing';
import { profileOf, Variant } from '../../core/variants';
import { mirrorPath } from './intake';
import { planningInputsFor, type PlanningInputs, type PlanningInputsCache } from './planning-inputs';
import { rejoinOpenWaves } from './waves';
import { isTryIndex, TRY_PURPOSE } from '../../core/contracts/try';
import { isaQueue, sharedQueue } from '../../core/contracts/queues';
import { TryStore } from '../../db/try-store';

export interface PlanningDeps {
  store: Store;
  mirrorsDir: string;
  variants: readonly Variant[];
  /** The farm's profile: the architecture of a task's level when its variant is no longer built (default: the default profile). */
  profile?: FarmProfile;
  /** Where builders fetch published packages from: `<base>/<index>/<uri>` (a file:// or http:// base). */
  packagesBaseUrl: string;
  /** Recipes, durations and published packages kept between rounds; default: the one kept for `store`. */
  inputs?: PlanningInputsCache;
}

const SCHEDULING_STATUS: Record<string, OpenTaskStatus | undefined> = {
  new: 'queued', blocked: 'queued', queued: 'running', building: 'running', publishing: 'running', failed: 'failed', cancelled: 'cancelled',
};

function packagesOf(recipes: ReadonlyMap<string, RecipeRow>, task: SchedulingTaskRow): RecipePackage[] {
  return recipes.get(`${task.repository}/${task.source}`)?.packages ?? [];
}

/**
 * Decide what to start now (the hub workflow calls this whenever something changed). Open tasks plus the
 * current failed/cancelled ones (they block their dependents) go through the pure scheduler in core/graph;
 * blocked/unblocked tasks are moved in the read model here, the tasks dispatched are moved to `queued` (the hub
 * then starts their build workflows), and every dispatch carries what the build needs: the exact commit, and the
 * published packages its dependencies resolve to.
 */
export async function planBuilds(deps: PlanningDeps, input: PlanInput, opts: { dispatchKey?: string } = {}): Promise<PlanResult> {
  const { store } = deps;
  // The open tasks first, then what planning knows of their recipes: intake writes a commit's recipes before its
  // tasks, so every task read here has its recipe in what is read next. The other way round, an intake committing
  // between the two reads gave tasks without their recipes (no dependencies: a dependent could be dispatched
  // before what it needs, and built without it).
  const read = await store.schedulingTasks();
  // This same planning run again (its workflow task failed, or its worker died after this committed: the hub never
  // got the answer and started no build workflow): what it queued is decided again, as new tasks, instead of staying
  // queued for good. They count the attempt their first queueing counted.
  const again = new Set(opts.dispatchKey ? read.open.filter((t) => t.status === 'queued' && t.dispatchKey === opts.dispatchKey).map((t) => t.id) : []);
  const open = again.size === 0 ? read.open : read.open.map((t) => (again.has(t.id) ? { ...t, status: 'new' as const, attempts: t.attempts - 1 } : t));
  const { stopped } = read;
  const inputs = await (deps.inputs ?? planningInputsFor(store)).load();
  const { recipes, history, published } = inputs;
  const tasks = [...open, ...stopped];
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const admin = await adminDecisions(store, inputs, open, input.builders);
  const builders = occupiedSlots(admin.builders, open, input.prefetch ?? 0, new Set(input.freed ?? []));
  const hold = new Set([...(input.holdBack ?? []), ...admin.held]);

  const plan = planDispatch({
    // A held-back task (its build workflow did not start a moment ago) counts as running: its dependents wait, and
    // it takes no slot from the others this round.
    tasks: tasks.map<OpenTask>((t) => ({
      id: t.id, source: t.source, variant: t.isa, status: hold.has(t.id) && t.status === 'new' ? 'running' : SCHEDULING_STATUS[t.status]!, packages: packagesOf(recipes, t),
      priority: admin.priority.get(t.id),
    })),
    builders,
    history,
    profile: profileOf(deps.variants),
  });

  const result: PlanResult = { dispatch: [], blocked: [], unblocked: [], waiting: plan.waiting.length, queued: plan.queued.length, unservable: plan.unservable, admin: admin.summary };
  const blockedNow = new Set(plan.blocked.map((b) => b.taskId));
  for (const b of plan.blocked) {
    // A task decided again (above) is still queued in the read model: it goes back to new below, and is blocked next round.
    if (byId.get(b.taskId)?.status === 'new' && !again.has(b.taskId)) {
      await store.recordMove(b.taskId, 'new', 'blocked', `blocked by ${b.by.join(', ')}`);
      result.blocked.push(b.taskId);
    }
  }
  for (const t of open) {
    if (t.status === 'blocked' && !blockedNow.has(t.id)) {
      await store.recordMove(t.id, 'blocked', 'new', 'no failed dependency blocks it any more');
      result.unblocked.push(t.id);
    }
  }
  // Written once: the round's read of the open tasks has the reason as it stands.
  for (const u of plan.unservable) if (byId.get(u.taskId)?.reason !== u.reason) await store.updateTask(u.taskId, { reason: u.reason });

  // Builders clone from the repository's own URL: summit's mirror is on summit's disk, not theirs.
  const repositories = new Map(inputs.repositories);
  // A try's tasks (core/contracts/try.ts) are kept under its key: they build from the repository of its ref.
  await withTryRepositories(store, repositories, plan.assignments.map((a) => byId.get(a.taskId)!.repository));
  // What is dispatched is queued here, in the same round (compare-and-set: a task cancelled meanwhile is skipped).
  const architectureOf = (isa: string): string | undefined => deps.variants.find((v) => v.isa === isa)?.architecture ?? (deps.profile ?? DEFAULT_PROFILE).architectureOf(isa);
  // A level's build root layers on its own architecture's baseline index.
  const baselineIndexOf = (architecture: string | undefined): string => deps.variants.find((v) => v.isa === architecture)?.index ?? deps.variants[0].index;
  const chosen = plan.assignments.filter((a) => byId.get(a.taskId)!.status === 'new');
  const priority = new Map(chosen.map((a) => [a.taskId, a.criticalPath]));
  const queued = new Set([
    ...await store.queueTasks(chosen.filter((a) => !again.has(a.taskId)).map((a) => a.taskId), (id) => `queued (critical path ${Math.round(priority.get(id) ?? 0)} s)`, opts.dispatchKey),
    ...chosen.filter((a) => again.has(a.taskId)).map((a) => a.taskId),
  ]);
  // What the first run queued and this one does not dispatch (a slot taken meanwhile) goes back to new.
  for (const id of again) {
    if (!queued.has(id)) await store.moveTask(id, 'new', 'queued by a planning run whose answer was lost; planned again', {}, { onlyFrom: ['queued'] });
  }
  for (const a of chosen) {
    if (!queued.has(a.taskId)) continue;
    const t = byId.get(a.taskId)!;
    const architecture = architectureOf(t.isa);
    result.dispatch.push({
      taskId: t.id as BuildId, isa: t.isa, ...(architecture ? { architecture } : {}), index: t.index, source: t.source, commit: t.commit,
      repoUrl: repositories.get(t.repository)?.url ?? mirrorPath(deps.mirrorsDir, t.repository), recipePath: t.recipePath, version: t.version, release: t.release,
      buildRelease: 1 + t.attempts, dependencies: buildRootPackages({
        source: t.source, index: t.index, baselineIndex: baselineIndexOf(architecture), buildDepends: packagesOf(recipes, t).flatMap((p) => p.buildDepends), packagesBaseUrl: deps.packagesBaseUrl,
      }, published),
      criticalPath: a.criticalPath,
      flow: BUILD_FLOW,
      // A try builds a ref anyone with push rights to a branch wrote: never with the network, whatever its repository allows.
      networkAllowed: !isTryIndex(t.index) && (repositories.get(t.repository)?.networking ?? false),
      ...(t.wave ? { wave: t.wave } : {}),
      ...(isTryIndex(t.index) ? { purpose: TRY_PURPOSE, queue: admin.communityLevels.has(t.isa) ? sharedQueue(t.isa) : isaQueue(t.isa) } : {}),
    });
  }
  // Waves (issue 9): a build whose wave has ended joins the commit's next wave.
  await rejoinOpenWaves(store, result.dispatch);
  return result;
}

/** Adds, under each try key among `keys`, the registered repository whose ref the try builds. */
async function withTryRepositories(store: Store, repositories: Map<string, RepositoryRow>, keys: readonly string[]): Promise<void> {
  const tries = new TryStore(store.orm);
  for (const key of new Set(keys)) {
    if (repositories.has(key)) continue;
    const row = await tries.byKey(key);
    const parent = row && repositories.get(row.repository);
    if (parent) repositories.set(key, parent);
  }
}

/**
 * What admins decided, as the round's inputs hold it (the one owner: the API writes it, moving its change marker, and
 * signals the hub to plan again) and decided by core/planning/admin.ts: drained builders take nothing new, builders the
 * registry does not hold as enrolled and trusted take no official build (core/trust/standing.ts), the new tasks of a
 * paused farm or repository and those waiting for an approval are held (they count as running, like a held-back
 * start: no slot, dependents wait) with the reason written on the task, and priorities order the ready tasks.
 */
async function adminDecisions(store: Store, inputs: PlanningInputs, open: readonly SchedulingTaskRow[], live: readonly BuilderStatus[]) {
  const { recipes, registry } = inputs;
  const adminStore = adminStoreOf(store);
  const state = await adminStore.adminState((repositories) => open.filter((t) => t.status === 'new' && repositories.has(t.repository)).map((t) => t.id), inputs);
  const held = heldTasks(open.map((t) => ({ id: t.id, repository: t.repository, source: t.source, status: t.status, packages: packagesOf(recipes, t).map((p) => p.name) })), state);
  // The reasons planning wrote and the admins' priorities, as the round's read of the open tasks found them.
  const written = new Map(open.filter((t) => t.status === 'new' && t.reason?.startsWith(HELD_PREFIX)).map((t) => [t.id, t.reason ?? null]));
  await adminStore.setReasons(reasonUpdates(held, written));
  const priority = new Map(open.filter((t) => (t.status === 'new' || t.status === 'blocked') && Number(t.priority ?? 0) !== 0).map((t) => [t.id, Number(t.priority)]));
  // Only enrolled, non-revoked builders count, and for official builds (every task planning dispatches today) only
  // trusted ones (issue 10): a community builder never polls the official queues, so its slots serve none of them.
  const dispatchable = dispatchableBuilders(live, state);
  // Levels some live community builder serves: a try build goes to the shared queue there (community builders poll
  // only it), elsewhere to the official queue, which trusted builders poll (they may build anything).
  const communityLevels = new Set(buildersFor(dispatchable, registry, 'try').filter((b) => registry.get(b.id)?.trust === 'community').flatMap((b) => b.isaLevels));
  return { builders: buildersFor(dispatchable, registry, 'official'), communityLevels, held: [...held.keys()], priority, summary: adminSummary(state, held.size) };
}

/**
 * Each live builder's slots (plus `prefetch`) and how many are taken: its `building` tasks (recorded at pickup,
 * so exact), then every `queued` task (handed to Temporal, no builder yet) takes a free slot of a builder that
 * serves its ISA level, as the dispatcher would pick it. So the hub never has more builds queued for an ISA
 * level than free slots serving it, plus the prefetch. A `publishing` task holds no slot: its builder is done; nor
 * does a `freed` one (its builder said so; the read model may not have recorded it yet). A builder under pressure
 * has no free slot.
 */
export function occupiedSlots(live: readonly BuilderStatus[], open: readonly SchedulingTaskRow[], prefetch: number, freed: ReadonlySet<string> = new Set()): BuilderState[] {
  const specs = live.map((b) => ({ id: b.id, serves: b.isaLevels, slots: b.slots + prefetch }));
  const index = new Map(specs.map((b, i) => [b.id, i]));
  // A builder under pressure (core/builder/health.ts) polls for nothing until it recovers: no slot is booked on it.
  const free = live.map((b, i) => (underPressure(b) ? 0 : specs[i].slots));
  for (const t of open) {
    const i = t.status === 'building' && t.builder && !freed.has(t.id) ? index.get(t.builder) : undefined;
    if (i !== undefined) free[i] = Math.max(0, free[i] - 1);
  }
  for (const t of open) {
    if (t.status !== 'queued') continue;
    const i = pickBuilder(specs, free, t.isa);
    if (i >= 0) free[i]--;
  }
  return specs.map((b, i) => ({ ...b, running: b.slots - free[i] }));
}
