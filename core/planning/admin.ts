/**
 * What admins decided that planning must honour, pure: the farm or a repository paused, a builder drained,
 * packages that wait for an admin's approval, and each task's priority. Loaded from the read model every round
 * (activities/summit/planning.ts: load → decide here → apply), so the read model is the one owner and the hub
 * needs no state of its own for them.
 */

/** Who put a hold in place, when and why. */
export interface AdminHold {
  by: string;
  reason: string | null;
  at: Date;
}

export interface AdminState {
  farmPaused: AdminHold | null;
  /** Paused repositories by id. */
  pausedRepositories: ReadonlyMap<string, AdminHold>;
  /** Drained builders by id: they finish what they run and are given nothing new. */
  drainedBuilders: ReadonlyMap<string, AdminHold>;
  /** Per repository, the package names or globs (`gcc`, `llvm*`, `binutils`) whose builds need an approval. */
  protectedPackages: ReadonlyMap<string, readonly string[]>;
  /** Tasks an admin approved. */
  approved: ReadonlySet<string>;
}

export const NO_ADMIN_STATE: AdminState = {
  farmPaused: null, pausedRepositories: new Map(), drainedBuilders: new Map(), protectedPackages: new Map(), approved: new Set(),
};

/** A task as far as holds go: only `new` tasks are ever held (running ones finish, blocked ones cannot start). */
export interface HoldCandidate {
  id: string;
  repository: string;
  source: string;
  status: string;
  /** Names of the packages the task's recipe emits. */
  packages: readonly string[];
}

/** Reasons written on held tasks start with this, so planning can tell its own reasons from others. */
export const HELD_PREFIX = 'held: ';

/** A glob of package names: `*` is any run of characters, everything else literal. */
export function globMatches(pattern: string, name: string): boolean {
  if (!pattern.includes('*')) return pattern === name;
  const re = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(name);
}

/** The protected names a task touches: its source or any package it emits matching a pattern (sorted, unique). */
export function protectedNamesOf(patterns: readonly string[], task: Pick<HoldCandidate, 'source' | 'packages'>): string[] {
  const hits = new Set<string>();
  for (const name of [task.source, ...task.packages]) {
    if (patterns.some((p) => globMatches(p, name))) hits.add(name);
  }
  return [...hits].sort();
}

function by(hold: AdminHold): string {
  return `by ${hold.by}${hold.reason ? `: ${hold.reason}` : ''}`;
}

/**
 * The `new` tasks that must not be dispatched this round, with the reason shown on each. Order of precedence
 * (the first that applies is the reason given): the farm paused, the task's repository paused, an approval
 * the task is still waiting for. Other statuses are never held: a running build finishes, a blocked task waits
 * for its dependency anyway.
 */
export function heldTasks(tasks: readonly HoldCandidate[], state: AdminState): Map<string, string> {
  const held = new Map<string, string>();
  for (const t of tasks) {
    if (t.status !== 'new') continue;
    if (state.farmPaused) {
      held.set(t.id, `${HELD_PREFIX}the farm is paused ${by(state.farmPaused)}`);
      continue;
    }
    const paused = state.pausedRepositories.get(t.repository);
    if (paused) {
      held.set(t.id, `${HELD_PREFIX}repository ${t.repository} is paused ${by(paused)}`);
      continue;
    }
    const patterns = state.protectedPackages.get(t.repository);
    if (patterns && patterns.length > 0 && !state.approved.has(t.id)) {
      const names = protectedNamesOf(patterns, t);
      if (names.length > 0) held.set(t.id, `${HELD_PREFIX}awaiting an admin's approval (protected: ${names.join(', ')}); POST /api/tasks/:id/approve`);
    }
  }
  return held;
}

/** Builders that may be given work: every live one that is not drained. */
export function dispatchableBuilders<B extends { id: string }>(live: readonly B[], state: AdminState): B[] {
  return live.filter((b) => !state.drainedBuilders.has(b.id));
}

/**
 * The writes that bring held tasks' reasons up to date: set where a task is held and its reason says otherwise,
 * cleared (null) where a task is no longer held but still carries a reason planning wrote. `current` holds the
 * reasons of (at least) the `new` tasks whose reason starts with HELD_PREFIX.
 */
export function reasonUpdates(held: ReadonlyMap<string, string>, current: ReadonlyMap<string, string | null>): Array<{ id: string; reason: string | null }> {
  const out: Array<{ id: string; reason: string | null }> = [];
  for (const [id, reason] of held) if (current.get(id) !== reason) out.push({ id, reason });
  for (const [id, reason] of current) if (reason?.startsWith(HELD_PREFIX) && !held.has(id)) out.push({ id, reason: null });
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** One line for the hub's details in the Temporal UI; undefined when admins hold nothing back. */
export function adminSummary(state: AdminState, heldCount: number): string | undefined {
  const parts: string[] = [];
  if (state.farmPaused) parts.push(`farm paused ${by(state.farmPaused)}`);
  if (state.pausedRepositories.size > 0) parts.push(`paused repositories: ${[...state.pausedRepositories.keys()].sort().join(', ')}`);
  if (state.drainedBuilders.size > 0) parts.push(`drained builders: ${[...state.drainedBuilders.keys()].sort().join(', ')}`);
  if (parts.length === 0 && heldCount === 0) return undefined;
  return `${parts.join('; ')}${parts.length > 0 ? '; ' : ''}${heldCount} task(s) held`;
}
