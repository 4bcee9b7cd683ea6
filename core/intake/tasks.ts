import { canTransition, type TaskStatus } from '../task/state';

/**
 * What intake does with one recipe for one ISA variant, decided from the recipe's release and commit, the
 * release its index already holds, and the tasks that source already has there. Intake loads those facts,
 * asks this, and applies the answer (create, update, supersede) in the read model.
 */

/** A task of the same source and ISA variant, as intake sees it. */
export interface SiblingTask {
  id: string;
  release: number;
  commit: string;
  status: TaskStatus;
}

export interface IntakeFacts {
  /** The task (build) id this recipe's release gets for the variant. */
  taskId: string;
  release: number;
  /** The commit intake read the recipe at. */
  commit: string;
  /** The newest release of the source published in the variant's index, or 0. */
  publishedRelease: number;
  siblings: readonly SiblingTask[];
}

export type IntakeDecision =
  /** Nothing to do: the release is published already, or its task exists and is running or done. */
  | { action: 'none' }
  /** The same release at a newer commit, not yet running: the task builds the newer commit instead. */
  | { action: 'update'; taskId: string }
  /** A new release: create its task, and supersede the older releases' tasks that may still be superseded. */
  | { action: 'create'; taskId: string; supersede: string[] };

/** Only a release newer than the published one needs a task; the others need no look at the tasks at all. */
export function needsTask(release: number, publishedRelease: number): boolean {
  return release > publishedRelease;
}

export function decideIntake(facts: IntakeFacts): IntakeDecision {
  if (!needsTask(facts.release, facts.publishedRelease)) return { action: 'none' };
  const same = facts.siblings.find((t) => t.id === facts.taskId);
  if (same) {
    const notStarted = same.status === 'new' || same.status === 'blocked';
    return same.commit !== facts.commit && notStarted ? { action: 'update', taskId: same.id } : { action: 'none' };
  }
  const supersede = facts.siblings.filter((t) => t.release < facts.release && canTransition(t.status, 'superseded')).map((t) => t.id);
  return { action: 'create', taskId: facts.taskId, supersede };
}

/** One task a tree's recipe wants for one ISA variant: its id, release and folder, and what its index holds. */
export interface WantedTask {
  taskId: string;
  /** Groups the tasks of one source in one variant (e.g. `source/isa`): siblings share it. */
  key: string;
  release: number;
  recipePath: string;
  publishedRelease: number;
}

/** A task of the repository as intake loaded it: the siblings of the wanted tasks. */
export interface KnownTask extends SiblingTask {
  key: string;
  recipePath: string;
}

export interface TreeDecision {
  /** Tasks to create, in the order wanted. */
  create: string[];
  /** Older tasks a created one replaces. */
  supersede: Array<{ taskId: string; by: string }>;
  /** Tasks not yet started that build the new commit instead, their folder unchanged. */
  update: string[];
  /** The same, for tasks whose recipe also moved to another folder. */
  move: Array<{ taskId: string; recipePath: string }>;
}

/**
 * decideIntake for a whole tree at `commit`: each wanted task against the known tasks sharing its key (newest
 * release first), so that intake loads the facts in a few queries and applies the answer in bulk.
 */
export function decideTree(commit: string, wanted: readonly WantedTask[], known: readonly KnownTask[]): TreeDecision {
  const siblingsOf = new Map<string, KnownTask[]>();
  for (const t of known) siblingsOf.set(t.key, [...(siblingsOf.get(t.key) ?? []), t]);
  for (const list of siblingsOf.values()) list.sort((a, b) => b.release - a.release || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const out: TreeDecision = { create: [], supersede: [], update: [], move: [] };
  for (const w of wanted) {
    const siblings = siblingsOf.get(w.key) ?? [];
    const decision = decideIntake({ taskId: w.taskId, release: w.release, commit, publishedRelease: w.publishedRelease, siblings });
    if (decision.action === 'update') {
      if (siblings.find((t) => t.id === w.taskId)?.recipePath === w.recipePath) out.update.push(w.taskId);
      else out.move.push({ taskId: w.taskId, recipePath: w.recipePath });
    } else if (decision.action === 'create') {
      out.create.push(w.taskId);
      for (const older of decision.supersede) out.supersede.push({ taskId: older, by: w.taskId });
    }
  }
  return out;
}
