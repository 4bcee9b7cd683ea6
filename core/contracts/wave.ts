import type { ClosureReport } from './vessel';

/**
 * Waves (issue 9): a push, a cascade or an admin's rebuild becomes one wave, a durable workflow that follows its
 * builds, publishes them together in one history per index when they have all ended, and can be cancelled. The
 * hub still decides which build runs where (slots, priority); the wave owns what becomes of its builds: whether and
 * when they are published, and stopping them.
 */

/** The wave of a repository at a commit: its workflow id and its read-model key. */
export function waveIdOf(repository: string, commit: string, round?: number): string {
  return `wave-${repository}-${commit.slice(0, 12)}${round && round > 1 ? `-${round}` : ''}`;
}

/**
 * A wave's life:
 * - `new`: recorded by intake (or a retry after its wave ended), its workflow not yet started;
 * - `building`: its workflow follows its builds;
 * - `publishing`: every build has ended; vessel writes the history;
 * - `waiting-for-closure`: vessel refused the history because a runtime dependency resolves nowhere (the report
 *   says which); the wave tries again on a signal or a timer;
 * - `published` (terminal): its packages are in one new history per index (or it had nothing to publish);
 * - `cancelled` (terminal): an admin cancelled it; nothing of it was published after that.
 */
export const WAVE_STATUSES = ['new', 'building', 'publishing', 'waiting-for-closure', 'published', 'cancelled'] as const;
export type WaveStatus = (typeof WAVE_STATUSES)[number];
export const FINISHED_WAVE_STATUSES: readonly WaveStatus[] = ['published', 'cancelled'];
/** A wave's tasks still to end: the wave publishes an index once none of its tasks is in one of these. */
export const WAVE_OPEN_TASK_STATUSES: readonly string[] = ['new', 'queued', 'building', 'publishing'];
/** A wave's tasks that ended without a package: counted as dropped in its progress. */
export const WAVE_DROPPED_TASK_STATUSES: readonly string[] = ['cancelled', 'superseded', 'blocked'];

export const SIGNAL_WAVE_BUILD_ENDED = 'waveBuildEnded';
export const SIGNAL_WAVE_RETRY_CLOSURE = 'waveRetryClosure';
export const UPDATE_CANCEL_WAVE = 'cancelWave';
export const UPDATE_PUBLISH_FINISHED = 'publishFinished';
export const QUERY_WAVE_STATE = 'waveState';

/** A package a removed recipe published: the wave takes it out of its index's next history. */
export interface WaveRemoval {
  index: string;
  source: string;
  /** Package names published by the recipe. */
  packages: string[];
}

/** Build counts of a wave and the estimate of the time left (ms, from past build durations; null: unknown). */
export interface WaveProgress {
  waveId: string;
  status: WaveStatus;
  total: number;
  /** Built and staged (waiting for the wave's publish, or published with it). */
  done: number;
  failed: number;
  /** Cancelled, superseded or blocked by a failed dependency: ended without a package. */
  dropped: number;
  /** Still to build: new, queued, building, publishing. */
  open: number;
  etaMs: number | null;
  /**
   * Builds still to build per index (every index the wave has builds or removals in). An index is published as
   * soon as none of its builds is left: a variant no builder serves yet does not hold the baseline back.
   */
  openByIndex?: Record<string, number>;
}

/** One index's share of a wave's publish: the builds whose staged packages it publishes and the removals. */
export interface WaveIndexPublish {
  index: string;
  buildIds: string[];
  /** Package names taken out of the index. */
  removals: string[];
  /** Indexes the repository declared as its base (db/entities.ts Repository.base): they satisfy the closure check too. */
  bases?: string[];
}

export interface WavePublishPlan {
  indexes: WaveIndexPublish[];
  /** Builds left out, with why (a newer release of the recipe superseded them, …). */
  skipped: Array<{ taskId: string; reason: string }>;
}

/** An early publish of the finished part of a wave, refused when that part is not closed under run-time dependencies. */
export type PublishFinishedPlan = { ok: true; plan: WavePublishPlan } | { ok: false; missing: Array<{ dependency: string; neededBy: string[] }> };

export interface WaveCommand {
  waveId: string;
  /** Who asked (admin name or token id). */
  by: string;
}

export interface WaveCommandResult {
  waveId: string;
  status: WaveStatus;
  /** For publish-finished: the builds published now. */
  published?: string[];
}

/** Failure type of a publish-finished the wave refuses (details: the missing dependencies). */
export const WAVE_NOT_CLOSED = 'WaveNotClosed';
/** Failure type of a command on a wave that has ended (cancel after publish, …). */
export const WAVE_COMMAND_REFUSED = 'WaveCommandRefused';

/** What the wave workflow holds (its query; the read model has the same, recorded). */
export interface WaveState {
  progress: WaveProgress;
  closure?: ClosureReport[];
  histories: Array<{ index: string; historyId: string }>;
}

/** Vessel's one write of a wave's builds for one index (activities/vessel/import-build.ts). */
export interface PublishStagedRequest extends WaveIndexPublish {
  waveId: string;
  architecture: string;
}

export interface PublishStagedResult {
  index: string;
  /** The history written (or the one volatile names when nothing changed). */
  historyId: string;
  changed: boolean;
  /** Builds vessel refused (a release rule), with the reason; the others are published. */
  refused: Array<{ buildId: string; reason: string }>;
  removed: string[];
  /** Which declared base repository resolved which run-time dependencies of the history (absent: none was needed). */
  resolvedByBase?: Array<{ base: string; dependencies: string[] }>;
}
