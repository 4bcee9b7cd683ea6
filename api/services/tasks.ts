import type { TaskCommandResult } from '../../core/contracts/hub';
import type { Store, TaskEventRow, TaskRow } from '../../db/store';
import type { PipelineControl } from '../pipeline';

export interface TaskDetail {
  task: TaskRow;
  events: TaskEventRow[];
}

/** One task with its history, oldest event first; NotFoundError (404) for an unknown id. */
export async function taskDetail(store: Store, id: string): Promise<TaskDetail> {
  const task = await store.getTask(id);
  return { task, events: await store.taskEvents(id) };
}

/**
 * Retry or cancel through the hub. The task is looked up first so an unknown id is a 404 even while the hub is
 * down; whether the move is legal is the hub's decision (CommandRefusedError, 409, otherwise).
 */
export async function commandTask(
  deps: { store: Store; pipeline: PipelineControl },
  command: 'retry' | 'cancel',
  taskId: string,
  by: string,
): Promise<TaskCommandResult> {
  const task = await deps.store.getTask(taskId);
  return deps.pipeline[command]({ taskId: task.id, by });
}
