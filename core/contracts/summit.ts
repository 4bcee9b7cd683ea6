import type { BuildId } from './ids';
import type { BuilderStatus } from './hub';
import type { IsaLevel } from './queues';
import type { BuildPurpose } from './trust';

/**
 * What summit's own activities take and return: intake's result, the plan, and the dispatch payload the hub
 * hands to each build workflow. Small facts only (ids, paths, URLs, hashes), as every Temporal payload.
 */

/** How far intake is, for the activity's heartbeats. */
export interface IntakeProgress {
  stage: 'fetching' | 'reading' | 'tasks';
  read: number;
  total: number;
}

export interface InvalidRecipe {
  path: string;
  errors: string[];
}

export interface IntakeResult {
  repository: string;
  commit: string;
  recipes: number;
  /** Task (build) ids created, superseded and updated to the newer commit. */
  created: string[];
  superseded: string[];
  updated: string[];
  /** The invalid recipes (the first hundred; all of them are in the database). */
  invalid: InvalidRecipe[];
  invalidTotal: number;
  /** The wave the created tasks and removals belong to (absent: nothing to build or remove). */
  wave?: string;
  /** Older builds still in flight that a newer release superseded: the hub stops their build workflows. */
  cancelled?: string[];
}

/** A published package a build needs in its build root: fetched from `url`, checked against `sha256`. */
export interface DependencyPackage {
  name: string;
  url: string;
  sha256: string;
}

/** Everything a build workflow needs to run one task: the hub starts one build workflow per dispatch. */
export interface Dispatch {
  /**
   * The task's id, which is its build id (see ids.ts) and the build workflow's id. Named `taskId` in this payload
   * because running and recorded workflows carry it under that name.
   */
  taskId: BuildId;
  isa: IsaLevel;
  /**
   * The level's architecture in the farm's profile (core/profile.ts): what the packages are stamped with and what
   * vessel imports and indexes them under. Absent in dispatches recorded before profiles: x86_64.
   */
  architecture?: string;
  index: string;
  source: string;
  commit: string;
  repoUrl: string;
  recipePath: string;
  version: string;
  release: number;
  buildRelease: number;
  dependencies: DependencyPackage[];
  criticalPath: number;
  /**
   * The repository's `networking` policy at planning time, passed on as BuildRequest.networkAllowed. Optional:
   * dispatches recorded before it existed carry none, which means no.
   */
  networkAllowed?: boolean;
  /**
   * The wave that publishes this build (core/contracts/wave.ts). Absent in dispatches from before waves: such a
   * build publishes on its own, as it did then.
   */
  wave?: string;
  /**
   * Why it is built, which decides who may build it (core/contracts/trust.ts). Absent in dispatches recorded before
   * it existed: `official`.
   */
  purpose?: BuildPurpose;
  /**
   * The task queue planning chose for a build that is not official (a try build goes to the shared queue where a
   * community builder serves its level, else to the official one). Absent: buildQueue(isa, purpose).
   */
  queue?: string;
  /**
   * The build workflow's way of running this build, chosen by the planner that made the dispatch (BUILD_FLOW).
   * Absent in dispatches made before it existed: the workflow then asks its patches, as those recorded runs did.
   * The workflow reads it instead of calling `patched()` for the changes it covers, so a new build records no
   * patch markers and no TemporalChangeVersion search-attribute updates (six history events per build).
   */
  flow?: number;
}

/**
 * The current build flow (Dispatch.flow): 1 = records as local activities (patch `local-records`), signals beside
 * activities (`signals-beside-activities`) and signals sent by the records (`notify-from-records`).
 */
export const BUILD_FLOW = 1;

/** What the hub passes to planning: the builders alive now and how far ahead of free slots it may queue. */
export interface PlanInput {
  builders: BuilderStatus[];
  /**
   * Builds each builder may have queued beyond its free slots (0: a slot's next build is chosen when it frees,
   * so priority holds exactly; more hides the hub's round trip at the cost of that exactness).
   */
  prefetch?: number;
  /** Tasks whose build workflow recently failed to start: not dispatched this round (they keep their place). */
  holdBack?: string[];
  /** Tasks whose builder has said it is done: their slot is free though the read model may still say building. */
  freed?: string[];
}

export interface PlanResult {
  dispatch: Dispatch[];
  blocked: string[];
  unblocked: string[];
  waiting: number;
  queued: number;
  unservable: Array<{ taskId: string; reason: string }>;
  /** What admins hold back (farm or repositories paused, builders drained, tasks held), for the hub's details; absent when nothing. */
  admin?: string;
}

/** A failure as the read model records it. */
export interface RecordedFailure {
  reason: string;
  logTail?: string;
  logPath?: string;
  builder?: string;
}
