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
