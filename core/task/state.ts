/**
 * The build task state machine, as data. A task is one build id (project / repository / source-version-release /
 * ISA level). Every status and every legal move is written out here. Every change goes through `transition()` in
 * Store.setStatus, which writes only if the task still has the status it was read with (compare-and-set).
 */
export const TASK_STATUSES = ['new', 'blocked', 'queued', 'building', 'publishing', 'completed', 'failed', 'cancelled', 'superseded'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** What each status means. */
export const STATUS_MEANING: Record<TaskStatus, string> = {
  new: 'waiting to be built: its open dependencies (if any) are still building, or no builder slot is free',
  blocked: 'a task it depends on failed or was cancelled; it waits for a later success of that source',
  queued: 'handed to Temporal: its build workflow waits for a builder of its ISA level to pick it up (no builder yet)',
  building: 'a builder picked it up and is building it (the task names the builder)',
  publishing: 'built; vessel is fetching, verifying and importing its artefacts',
  completed: 'built and its packages staged in its index; published with its wave (terminal, but for a cascade rebuild)',
  failed: 'the recipe did not build, or vessel refused its artefacts; an admin may retry it',
  cancelled: 'stopped by an admin; an admin may retry it',
  superseded: 'a newer commit or release of the same recipe replaced it before it ran (terminal)',
};

/** Legal moves: for each target status, the statuses a task may come from, and why the move exists. */
export const TRANSITIONS: Record<TaskStatus, { from: readonly TaskStatus[]; why: string }> = {
  new: {
    from: ['blocked', 'failed', 'cancelled', 'queued', 'completed'],
    why: 'a blocking dependency succeeded, an admin retried it, its build workflow could not be started, or (from completed) a cascade rebuilds it with the next build release because a dependency changed',
  },
  blocked: { from: ['new'], why: 'a dependency failed or was cancelled' },
  queued: { from: ['new'], why: 'the hub handed it to a build workflow for a free slot of its ISA level' },
  building: { from: ['queued'], why: 'a builder picked the build up' },
  publishing: { from: ['building'], why: 'the build succeeded and its artefacts wait for vessel' },
  completed: { from: ['publishing'], why: 'vessel published it' },
  failed: { from: ['queued', 'building', 'publishing'], why: 'the build failed, or vessel refused the artefacts' },
  cancelled: { from: ['new', 'blocked', 'queued', 'building', 'publishing'], why: 'an admin cancelled it' },
  superseded: { from: ['new', 'blocked', 'failed', 'cancelled'], why: 'a newer commit or release of the recipe arrived before it ran' },
};

/** Statuses in which a task still counts for ordering: it will (or may yet) produce what it provides. */
export const OPEN_STATUSES: readonly TaskStatus[] = ['new', 'blocked', 'queued', 'building', 'publishing'];
export const TERMINAL_STATUSES: readonly TaskStatus[] = ['completed', 'superseded'];

export class IllegalTransitionError extends Error {
  override readonly name = 'IllegalTransitionError';
  constructor(
    readonly taskId: string,
    readonly from: TaskStatus,
    readonly to: TaskStatus,
  ) {
    super(`task ${taskId}: cannot go from ${from} to ${to} (${to} is reached only from ${TRANSITIONS[to].from.join(', ') || 'nowhere'})`);
  }
}

export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  return TRANSITIONS[to].from.includes(from);
}

/** The one way to change a status: returns the new status or throws IllegalTransitionError. */
export function transition(taskId: string, from: TaskStatus, to: TaskStatus): TaskStatus {
  if (!canTransition(from, to)) throw new IllegalTransitionError(taskId, from, to);
  return to;
}

export function isOpen(status: TaskStatus): boolean {
  return OPEN_STATUSES.includes(status);
}

export function isTaskStatus(value: string): value is TaskStatus {
  return (TASK_STATUSES as readonly string[]).includes(value);
}
