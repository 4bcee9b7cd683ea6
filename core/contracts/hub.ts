import type { BuilderHealth } from '../builder/health';
import type { IsaLevel } from './queues';

/**
 * The hub workflow: one per farm, long-running, the single owner of which task runs where. Everything that
 * changes build state arrives as one of these signals or updates (the API, the git hook, the poll Schedule and
 * the builders' heartbeats all go through them).
 */
export const HUB_WORKFLOW_ID = 'summit-hub';

export const SIGNAL_REFRESH = 'refresh';
export const SIGNAL_BUILDER_HEARTBEAT = 'builderHeartbeat';
/**
 * Plan again now: an admin paused, resumed, drained or reprioritised something. What changed is in the read model
 * (planning reads it every round); the signal only says "now" rather than at the next timed round.
 */
export const SIGNAL_REPLAN = 'replan';
export const UPDATE_RETRY_TASK = 'retryTask';
export const UPDATE_CANCEL_TASK = 'cancelTask';
export const QUERY_HUB_STATE = 'hubState';

export interface RefreshRequest {
  repository: string;
  /** The pushed commit; absent means "whatever the watched ref points at now". */
  commit?: string;
  /** Who asked: shown in task events. */
  origin: 'hook' | 'poll' | 'api' | 'start';
}

export interface BuilderStatus {
  id: string;
  host: string;
  isaLevels: IsaLevel[];
  slots: number;
  busy: number;
  /** Bytes free in the builder's data folder. */
  diskFree: number;
  /**
   * Load, memory and disk as the builder measured them, and why it takes no new build now (`pressure`, empty
   * when it takes them; core/builder/health.ts). Absent from builders older than the admission rule.
   */
  health?: BuilderHealth;
}

export interface TaskCommand {
  taskId: string;
  /** Who asked (admin name or token id), kept in the task's events. */
  by: string;
}

export interface TaskCommandResult {
  taskId: string;
  status: string;
}

/** What the hub holds in memory (task state lives in the read model; running builds are their own workflows). */
export interface HubState {
  builders: Array<BuilderStatus & { lastSeen: string }>;
  pendingRefreshes: number;
  /** Repositories whose intake is running now. */
  runningRefreshes?: string[];
  /** Planning rounds since the hub first started (carried across continue-as-new). */
  rounds?: number;
  /** Tasks held back because their build workflow did not start. */
  held?: string[];
}

/**
 * Failure type of an intake whose git fetch cannot succeed by retrying (unknown URL, refused credentials, a
 * commit the repository does not have): non-retryable, so one bad repository does not hold the others up.
 */
export const INTAKE_GIT_REFUSED = 'IntakeGitRefused';
