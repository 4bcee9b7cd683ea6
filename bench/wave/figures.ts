import type { LogStages } from './build-log-stages';
import { activityMs, betweenActivitiesMs, completedCount, type WorkflowTimings } from './history-stages';
import { heldTime, idleGaps, waitForFreedSlot, waitWithFreeSlot, type Interval } from './slot-occupancy';
import { overheadPerPackage, summarize, utilisation, type Summary } from './statistics';

/**
 * The wave's figures from what was observed of each task (pure): the read model's task events, the build log's
 * stages and the build workflow's Temporal history. Times are epoch milliseconds; durations milliseconds.
 */
export interface TaskObservation {
  id: string;
  source: string;
  status: string;
  attempts: number;
  events: Array<{ from: string | null; to: string; at: number }>;
  log?: LogStages;
  history?: WorkflowTimings;
}

export interface WaveFigures {
  packages: number;
  slots: number;
  existingTasks: number;
  outcome: Record<string, number>;
  /** push → the last task completed. */
  wallMs: number;
  packagesPerSecond: number;
  /** push → the first task recorded (intake). */
  pushToFirstTaskMs?: number;
  /** push → the first build started on the builder. */
  pushToFirstBuildMs?: number;
  /** ready (created, and every dependency it waited for published) → its build's first log marker on the builder. */
  readyToBuildStartedMs: Summary;
  /** The same wait counting only the time some slot was free (build activity start; the Temporal history). */
  readyToBuildStartedWithFreeSlotMs: Summary;
  /** ready → started counting only the last free stretch before the start (slot-occupancy.ts waitForFreedSlot): each idle slot stretch charged once, to the build that took it. */
  readyToBuildStartedOnceSlotFreeMs: Summary;
  /** ready → handed to Temporal (the task's `building` event), and from there → started on the builder. */
  readyToDispatchedMs: Summary;
  dispatchedToBuildStartedMs: Summary;
  /** Σ time inside containers (each step's `step s` → `done` markers) ÷ (wall × slots). */
  slotUtilisation: number;
  /** Idle time of a builder slot between two builds (build activity closed → the next one started, or its first log marker with a backlog). */
  slotIdleBetweenBuildsMs: Summary;
  /** Σ (dispatched → built) ÷ (wall × slots): the slots as the hub books them (above 100 % means over-booked). */
  hubBookedUtilisation: number;
  /** Σ time build activities held a slot on the builder (started → closed) ÷ (wall × slots). */
  slotHeldUtilisation: number;
  /** Σ time the steps' scripts ran (in-container clock) ÷ (wall × slots). */
  scriptUtilisation?: number;
  /** (wall × slots − Σ time inside containers) ÷ packages. */
  overheadPerPackageMs: number;
  /** p50 of each stage, milliseconds. */
  stageP50Ms: Record<string, number | undefined>;
  stages: Record<string, Summary>;
  /** Names published more or less than once in the index, and builds whose history imported ≠ 1 time. */
  publishedExactlyOnce: boolean;
  publishProblems: string[];
  retriedBuilds: number;
  /** CPU milliseconds per package of each of the farm's processes, push → published (process-cpu.ts); Linux only. */
  cpuMsPerPackage?: Record<string, number>;
  /** The host's 1-minute load average at the push and once the wave was published. */
  load?: { atPush: number; atEnd: number };
  /** With `--builder-cpus`: the CPUs the builder ran on, and those the rest of the farm ran on. */
  cpus?: { builder: number[]; farm: number[] };
}

const eventAt = (t: TaskObservation, to: string, which: 'first' | 'last' = 'last'): number | undefined => {
  const hits = t.events.filter((e) => e.to === to);
  return (which === 'first' ? hits[0] : hits[hits.length - 1])?.at;
};

/** When a task became buildable: created, and every dependency it did wait for was published. */
export function readyAt(task: TaskObservation, deps: readonly string[], completedAt: ReadonlyMap<string, number>, startedAt: number): number | undefined {
  const created = eventAt(task, 'new', 'first');
  if (created === undefined) return undefined;
  // A dependency published after the build started was not waited for (a bootstrap plan cut that edge).
  const waited = deps.map((d) => completedAt.get(d)).filter((at): at is number => at !== undefined && at <= startedAt);
  return Math.max(created, ...waited);
}

export function waveFigures(input: {
  slots: number;
  existingTasks: number;
  /** Builds the builder accepts ahead of its slots (SUMMIT_BUILDER_BACKLOG); 0 or absent: none. */
  backlog?: number;
  pushAt: number;
  tasks: readonly TaskObservation[];
  dependencies: ReadonlyMap<string, string[]>;
  /** How often each package name appears in the published index. */
  indexCounts: ReadonlyMap<string, number>;
}): WaveFigures {
  const { tasks, pushAt, slots } = input;
  const n = input.dependencies.size;
  const outcome: Record<string, number> = {};
  for (const t of tasks) outcome[t.status] = (outcome[t.status] ?? 0) + 1;
  const completedAt = new Map<string, number>();
  for (const t of tasks) {
    const at = eventAt(t, 'completed');
    if (at !== undefined) completedAt.set(t.source, at);
  }
  const ends = [...completedAt.values(), ...tasks.map((t) => eventAt(t, 'failed')).filter((v): v is number => v !== undefined)];
  const wallMs = ends.length ? Math.max(...ends) - pushAt : 0;

  const readyToStart: number[] = [];
  const readyToDispatch: number[] = [];
  const dispatchToStart: number[] = [];
  const stage = new Map<string, number[]>();
  const add = (name: string, v: number | undefined) => {
    if (v === undefined || Number.isNaN(v)) return;
    stage.set(name, [...(stage.get(name) ?? []), v]);
  };
  const buildOf = (t: TaskObservation) => t.history?.activities.filter((a) => a.type === 'buildRecipe' && a.outcome === 'completed').pop();
  const held = new Map<string, Interval>();
  for (const t of tasks) {
    const b = buildOf(t);
    // With a builder backlog an accepted build waits for its slot inside the activity: its slot is held from its
    // first log marker (written once it holds one), not from the activity's start.
    const start = input.backlog && t.log ? t.log.startedAt : b?.startedAt;
    if (start !== undefined && b?.closedAt !== undefined) held.set(t.id, { start, end: b.closedAt });
  }
  const withFreeSlot: number[] = [];
  const onceFree: number[] = [];
  let inContainer = 0;
  let inScript = 0;
  let scriptKnown = true;
  for (const t of tasks) {
    // Dispatch is the hub's hand-over to Temporal (queued); older runs recorded it as building.
    const dispatched = eventAt(t, 'queued') ?? eventAt(t, 'building');
    const started = t.log?.startedAt;
    if (started !== undefined) {
      const ready = readyAt(t, input.dependencies.get(t.source) ?? [], completedAt, started);
      if (ready !== undefined) readyToStart.push(started - ready);
      if (ready !== undefined && dispatched !== undefined) readyToDispatch.push(dispatched - ready);
      if (dispatched !== undefined) dispatchToStart.push(started - dispatched);
    }
    const slot = held.get(t.id);
    if (slot) {
      const ready = readyAt(t, input.dependencies.get(t.source) ?? [], completedAt, slot.start);
      const others = [...held].filter(([id]) => id !== t.id).map(([, i]) => i);
      if (ready !== undefined) {
        withFreeSlot.push(waitWithFreeSlot(ready, slot.start, others, slots));
        onceFree.push(waitForFreedSlot(ready, slot.start, others, slots));
      }
    }
    if (t.log) {
      inContainer += t.log.stepsMs;
      if (t.log.scriptMs === undefined) scriptKnown = false;
      else inScript += t.log.scriptMs;
      add('checkout', t.log.checkoutMs);
      add('dependency root', t.log.dependenciesMs);
      add('container start', t.log.containerStartMs);
      add('steps (script)', t.log.scriptMs);
      add('container stop', t.log.containerStopMs);
      add('steps (container wall)', t.log.stepsMs);
      add('analysis and packing', t.log.packingMs);
      add('build on builder', t.log.succeededAt - t.log.startedAt);
    }
    const h = t.history;
    if (h) {
      const build = buildOf(t);
      if (dispatched !== undefined && h.startedAt !== undefined) add('dispatched → build workflow started', h.startedAt - dispatched);
      if (build && h.startedAt !== undefined) add('workflow started → build scheduled', build.scheduledAt - h.startedAt);
      if (build?.startedAt !== undefined && t.log) add('build activity started → first log marker', t.log.startedAt - build.startedAt);
      if (build && t.log && build.closedAt !== undefined) add('after build (artefact list, work removal, report)', build.closedAt - t.log.succeededAt);
      if (build && build.startedAt !== undefined) add('build queued in Temporal', build.startedAt - build.scheduledAt);
      add('fetch + verify + import + publish', activityMs(h, 'importArtefacts'));
      // Builds of a wave stage (fetch, verify, into the pool); their wave publishes them together.
      add('fetch + verify + stage (wave)', activityMs(h, 'stageArtefacts'));
      const rb = activityMs(h, 'recordBuilt');
      const rp = activityMs(h, 'recordPublished') ?? activityMs(h, 'recordStaged');
      add('records', rb !== undefined && rp !== undefined ? rb + rp : undefined);
      add('artefact clean-up', activityMs(h, 'cleanupBuild'));
      add('workflow tasks between activities', betweenActivitiesMs(h));
      if (h.closedAt !== undefined && h.startedAt !== undefined) add('build workflow', h.closedAt - h.startedAt);
    }
    const done = eventAt(t, 'completed');
    if (done !== undefined && dispatched !== undefined) add('dispatched → completed', done - dispatched);
    // The hub books a builder slot from dispatch until the build is built (publishing holds no slot).
    const built = eventAt(t, 'publishing');
    if (built !== undefined && dispatched !== undefined) add('dispatched → built', built - dispatched);
  }

  const problems: string[] = [];
  for (const name of input.dependencies.keys()) {
    const count = input.indexCounts.get(name) ?? 0;
    if (count !== 1) problems.push(`${name} is in the published index ${count} times`);
  }
  for (const t of tasks) {
    if (!t.history) continue;
    const imports = completedCount(t.history, 'importArtefacts') + completedCount(t.history, 'stageArtefacts');
    if (t.status === 'completed' && imports !== 1) problems.push(`${t.id} imported ${imports} times`);
  }
  const stages = Object.fromEntries([...stage].map(([k, v]) => [k, summarize(v)]));
  return {
    packages: n, slots, existingTasks: input.existingTasks, outcome, wallMs,
    packagesPerSecond: wallMs > 0 ? (completedAt.size / wallMs) * 1000 : 0,
    pushToFirstTaskMs: minOf(tasks.map((t) => eventAt(t, 'new', 'first'))) - pushAt || undefined,
    pushToFirstBuildMs: minOf(tasks.map((t) => t.log?.startedAt)) - pushAt || undefined,
    readyToBuildStartedMs: summarize(readyToStart),
    readyToBuildStartedWithFreeSlotMs: summarize(withFreeSlot),
    readyToBuildStartedOnceSlotFreeMs: summarize(onceFree),
    readyToDispatchedMs: summarize(readyToDispatch),
    dispatchedToBuildStartedMs: summarize(dispatchToStart),
    slotUtilisation: utilisation(inContainer, wallMs, slots),
    slotIdleBetweenBuildsMs: summarize(idleGaps([...held.values()], slots)),
    hubBookedUtilisation: utilisation(stage.get('dispatched → built')?.reduce((a, b) => a + b, 0) ?? 0, wallMs, slots),
    slotHeldUtilisation: utilisation(heldTime([...held.values()]), wallMs, slots),
    ...(scriptKnown ? { scriptUtilisation: utilisation(inScript, wallMs, slots) } : {}),
    overheadPerPackageMs: overheadPerPackage(wallMs, slots, inContainer, n),
    stageP50Ms: Object.fromEntries(Object.entries(stages).map(([k, s]) => [k, s.p50])),
    stages,
    publishedExactlyOnce: problems.length === 0,
    publishProblems: problems,
    retriedBuilds: tasks.filter((t) => t.attempts > 1).length,
  };
}

function minOf(values: ReadonlyArray<number | undefined>): number {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length ? Math.min(...known) : NaN;
}
