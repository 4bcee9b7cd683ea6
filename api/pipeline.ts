import type { RefreshRequest, TaskCommand, TaskCommandResult } from '../core/contracts/hub';
import type { WaveCommand, WaveCommandResult } from '../core/contracts/wave';

/**
 * What the API may ask of the pipeline. Everything that changes build state goes through the hub workflow
 * (Temporal stays the single owner of it); the API only reads the store and sends these requests. The Temporal
 * implementation is in pipeline-temporal.ts; tests pass a fake that records calls.
 */
export interface PipelineControl {
  /** Ask the hub to read a repository again (optionally at a pushed commit). Fire-and-forget: a signal. */
  refresh(req: RefreshRequest): Promise<void>;
  /**
   * Ask the hub to plan now (an admin paused, resumed, drained or reprioritised something; the read model has
   * it). Fire-and-forget: a signal. Absent in fakes: the hub's timed round picks the change up.
   */
  replan?(reason: string): Promise<void>;
  /** Turn a failed or cancelled task into a new attempt; answers once the hub has decided. */
  retry(cmd: TaskCommand): Promise<TaskCommandResult>;
  cancel(cmd: TaskCommand): Promise<TaskCommandResult>;
  /** For /health: whether the hub workflow runs, never throwing for a down Temporal. */
  hubStatus(): Promise<HubStatus>;
  /**
   * A command to a wave's workflow (core/contracts/wave.ts): cancel, publish its finished part, try its publish
   * again (closure). Optional so that fakes of older tests need not have it; the API answers 503 without it.
   */
  wave?(kind: WaveCommandKind, cmd: WaveCommand): Promise<WaveCommandResult>;
}

export type WaveCommandKind = 'cancel' | 'publish-finished' | 'retry-closure';

/** A wave refused to publish its finished part early: what it still needs (409 with `missing`). */
export class WaveNotClosedError extends Error {
  override readonly name = 'WaveNotClosedError';
  constructor(message: string, readonly missing: Array<{ dependency: string; neededBy: string[] }>) {
    super(message);
  }
}

export interface HubStatus {
  ok: boolean;
  /** running | not running | unreachable | the workflow's status name when it is not running */
  state: string;
  detail?: string;
}

/**
 * The hub cannot take requests: its workflow is not running, or Temporal does not answer. Answered with 503 so
 * that callers (the git hook) know to rely on the poll Schedule and retry later.
 */
export class HubUnavailableError extends Error {
  override readonly name = 'HubUnavailableError';
}

/**
 * The hub refused a command (retrying a task that has not failed, cancelling a finished one): 409 with the
 * hub's reason.
 */
export class CommandRefusedError extends Error {
  override readonly name = 'CommandRefusedError';
}
