import { BootstrapPlan } from './bootstrap';
import { BuilderSpec, slotsOf } from './builder';
import { TaskDag, byPriority, criticalPaths, dagFromGraph, dagOrder } from './critical-path';
import { EstimateOptions, History, estimateDurations } from './durations';
import { buildGraph, type DependencyGraph } from './graph';
import { planOrder, type BuildOrder } from './order';
import { compareText } from './compare';
import { RecipePackage } from './recipe';
import { Profile, variantScopes } from './variants';

/**
 * The scheduling seam of the pipeline: a pure function the workflow calls whenever something changes (a task
 * added, a build finished, a builder came or went) to learn what to start where. It owns no state; the
 * workflow passes the open tasks and the builders as they are now.
 */

/** Statuses of an open (not yet completed) task, as far as scheduling cares. */
export type OpenTaskStatus = 'queued' | 'running' | 'failed' | 'cancelled';

export interface OpenTask {
  id: string;
  source: string;
  /** Architecture or ISA variant it builds for (`x86_64`, `x86_64-v3x`): also its provider scope. */
  variant: string;
  status: OpenTaskStatus;
  /** What the task's recipe emits and needs (from its build manifest). */
  packages: readonly RecipePackage[];
  checkDepends?: readonly string[];
  /** An admin's priority (default 0): a higher one is dispatched first, whatever the critical path says. */
  priority?: number;
}

export interface BuilderState extends BuilderSpec {
  /** Slots currently busy. */
  running: number;
}

export interface DispatchInput {
  tasks: readonly OpenTask[];
  builders: readonly BuilderState[];
  /** Past durations per source name; a variant task is estimated like its baseline (same source, same work). */
  history: History;
  /** Variant layering (a v3x task also waits for baseline tasks); default: a task sees only its own variant. */
  profile?: Profile;
  estimate?: EstimateOptions;
}

export interface Assignment {
  taskId: string;
  builderId: string;
  /** The priority it was dispatched by (seconds of remaining critical path). */
  criticalPath: number;
}

export interface DispatchPlan {
  /** What to start now, in priority order. */
  assignments: Assignment[];
  /** Ready but left queued: no free slot on a builder that serves its variant. */
  queued: string[];
  /** Not ready: open tasks providing its dependencies must finish first. */
  waiting: Array<{ taskId: string; on: string[] }>;
  /** Cannot run until these failed or cancelled tasks are retried (directly or through a dependency). */
  blocked: Array<{ taskId: string; by: string[] }>;
  /** Ready, but no builder at all serves its variant: the reason says so. */
  unservable: Array<{ taskId: string; reason: string }>;
  /** Dependency cycles among the open tasks and how they are broken. */
  cycles: BootstrapPlan[];
}

/**
 * Readiness: a task waits for every open task that provides one of its dependencies in a scope it sees (its own
 * variant, and for a layered variant the baseline too), except across edges a bootstrap plan cuts. A failed or
 * cancelled task blocks its dependents, transitively. Ready tasks are dispatched highest admin priority first,
 * then highest critical path (ties by id), each to a builder that serves its variant and has a free slot, preferring the builder serving
 * the fewest variants (keeps v3x hosts for v3x work), then the one with most free slots, then by id.
 */
export function planDispatch(input: DispatchInput): DispatchPlan {
  const byId = new Map(input.tasks.map((t) => [t.id, t]));
  const { graph, order, dag } = structureOf(input);
  const tasks = graph.nodes.map((id) => byId.get(id)!);
  const estimates = estimateDurations([...new Set(tasks.map((t) => t.source))], input.history, input.estimate);
  const cp = criticalPaths(dag, tasks.map((t) => estimates.get(t.source)!));

  const waiting: DispatchPlan['waiting'] = [];
  const blocked: DispatchPlan['blocked'] = [];
  const blockedBy = blockers(dag, tasks);
  const ready: number[] = [];
  tasks.forEach((task, v) => {
    if (task.status !== 'queued') return;
    if (blockedBy[v].size > 0) {
      blocked.push({ taskId: task.id, by: [...blockedBy[v]].sort(compareText) });
      return;
    }
    const on: string[] = [];
    for (let j = graph.inOffsets[v]; j < graph.inOffsets[v + 1]; j++) {
      const e = graph.inEdges[j];
      if (!order.isCut[e]) on.push(graph.nodes[graph.edgeFrom[e]]);
    }
    if (on.length > 0) waiting.push({ taskId: task.id, on: on.sort(compareText) });
    else ready.push(v);
  });
  const cpOrder = byPriority(graph.nodes, cp);
  ready.sort((a, b) => (tasks[b].priority ?? 0) - (tasks[a].priority ?? 0) || cpOrder(a, b));

  const free = input.builders.map((b) => Math.max(0, slotsOf(b) - b.running));
  const assignments: Assignment[] = [];
  const queued: string[] = [];
  const unservable: DispatchPlan['unservable'] = [];
  for (const v of ready) {
    const task = tasks[v];
    const b = pickBuilder(input.builders, free, task.variant);
    if (b === -2) unservable.push({ taskId: task.id, reason: `no builder serves ${task.variant}` });
    else if (b === -1) queued.push(task.id);
    else {
      free[b]--;
      assignments.push({ taskId: task.id, builderId: input.builders[b].id, criticalPath: cp[v] });
    }
  }
  return { assignments, queued, waiting, blocked, unservable, cycles: order.cycles };
}

/**
 * The critical-path policy's choice of builder for a task of `variant`: index into `builders`, -1 when every
 * builder serving the variant is full, -2 when no builder serves it at all. Shared with the simulator so it
 * measures exactly what the pipeline does.
 */
export function pickBuilder(builders: readonly BuilderSpec[], free: ArrayLike<number>, variant: string): number {
  let best = -1;
  let serves = false;
  for (let b = 0; b < builders.length; b++) {
    if (!builders[b].serves.includes(variant)) continue;
    serves = true;
    if (free[b] <= 0) continue;
    if (best === -1) {
      best = b;
      continue;
    }
    const x = builders[b];
    const y = builders[best];
    const byServes = x.serves.length - y.serves.length;
    if (byServes < 0 || (byServes === 0 && (free[b] > free[best] || (free[b] === free[best] && compareText(x.id, y.id) < 0)))) best = b;
  }
  return serves ? best : -2;
}

/** For each task, the failed or cancelled tasks upstream of it over uncut edges (not counting itself). */
function blockers(dag: TaskDag, tasks: readonly OpenTask[]): Array<Set<string>> {
  const by = Array.from({ length: tasks.length }, () => new Set<string>());
  for (const v of dagOrder(dag)) {
    const dead = tasks[v].status === 'failed' || tasks[v].status === 'cancelled';
    for (let j = dag.succOffsets[v]; j < dag.succOffsets[v + 1]; j++) {
      const w = dag.succ[j];
      if (dead) by[w].add(tasks[v].id);
      for (const root of by[v]) by[w].add(root);
    }
  }
  return by;
}

interface Structure {
  graph: DependencyGraph;
  order: BuildOrder;
  dag: TaskDag;
}

/** What the last structure was computed from: per task, its id, variant, source and the very package lists. */
interface StructureKey {
  scopes: string;
  ids: string[];
  variants: string[];
  sources: string[];
  packages: Array<readonly RecipePackage[]>;
  checks: Array<readonly string[] | undefined>;
}

/**
 * The graph, its order (cycles and their cut edges) and the DAG depend only on which tasks there are and what
 * their recipes emit and need, not on statuses, builders or history: the hub asks again and again about the same
 * tasks with the same recipes (the planner hands the same package lists while a repository's commit is
 * unchanged), so the last one is kept and reused when every task and package list is the same one. Inputs are
 * read-only (their types say so); a caller mutating a package list in place between calls would defeat this.
 */
let last: { key: StructureKey; structure: Structure } | undefined;

function sameList<T>(a: readonly T[] | undefined, b: readonly T[] | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.length === 0 && b.length === 0);
}

function structureOf(input: DispatchInput): Structure {
  const tasks = input.tasks;
  const scopes = input.profile ? JSON.stringify(input.profile) : '';
  const k = last?.key;
  if (k && k.scopes === scopes && k.ids.length === tasks.length && tasks.every((t, i) => t.id === k.ids[i] && t.variant === k.variants[i] && t.source === k.sources[i] &&
    sameList(t.packages, k.packages[i]) && sameList(t.checkDepends, k.checks[i]))) {
    return last!.structure;
  }
  const visibleScopes = input.profile ? variantScopes(input.profile) : undefined;
  const graph = buildGraph(
    tasks.map((t) => ({ id: t.id, source: t.source, scope: t.variant, packages: t.packages, checkDepends: t.checkDepends })),
    { visibleScopes },
  );
  const order = planOrder(graph);
  const structure = { graph, order, dag: dagFromGraph(graph, order.isCut) };
  last = {
    key: { scopes, ids: tasks.map((t) => t.id), variants: tasks.map((t) => t.variant), sources: tasks.map((t) => t.source), packages: tasks.map((t) => t.packages), checks: tasks.map((t) => t.checkDepends) },
    structure,
  };
  return structure;
}
