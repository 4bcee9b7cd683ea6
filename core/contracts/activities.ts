import type { BuildPickup, BuildRequest, BuildResult, ImportRequest, ImportResult } from './build';
import type { BuilderStatus, RefreshRequest, TaskCommand, TaskCommandResult } from './hub';
import type { BuildId } from './ids';
import type { IntakeResult, PlanInput, PlanResult, RecordedFailure } from './summit';
import type { PublishFinishedPlan, PublishStagedRequest, PublishStagedResult, WaveCommand, WaveProgress, WavePublishPlan, WaveStatus } from './wave';
import type { ClosureReport } from './vessel';

/**
 * The activities each role registers, by name. Workflows call them through proxyActivities with these types
 * only; the implementations live in activities/summit, activities/avalanche and activities/vessel.
 */
export interface AvalancheActivities {
  /** Runs on the ISA queue: checkout, nspawn build, packing. Non-retryable BUILD_FAILED when the recipe fails. */
  buildRecipe(req: BuildRequest): Promise<BuildResult>;
  /** Runs on the queue of the builder that holds the artefacts. Idempotent. */
  cleanupBuild(buildId: string): Promise<void>;
}

export interface VesselActivities {
  /** Fetch, verify, import into the pool, publish a new index history. Non-retryable IMPORT_REFUSED on refusal. */
  importArtefacts(req: ImportRequest): Promise<ImportResult>;
  /**
   * Fetch, verify and stage a build of a wave: its files go into the pool (so that builds depending on it can
   * fetch them) but no history names them yet. Non-retryable IMPORT_REFUSED on refusal. The result's historyId is
   * empty.
   */
  stageArtefacts(req: ImportRequest): Promise<ImportResult>;
  /**
   * Publish staged builds of a wave in one write of the index (one new history), removals included.
   * Non-retryable CLOSURE_UNRESOLVED (details: a ClosureReport) when a run-time dependency resolves nowhere.
   */
  publishStaged(req: PublishStagedRequest): Promise<PublishStagedResult>;
}

/**
 * The activities of summit's own worker (queue `summit`): intake, planning, and the records the workflows make
 * in the read model. Every record is idempotent, so Temporal may retry any of them.
 */
export interface SummitActivities {
  /** Mirror, read every recipe at the commit, create/update/supersede tasks. Non-retryable INTAKE_GIT_REFUSED. */
  refreshRepository(req: RefreshRequest): Promise<IntakeResult>;
  /** Decide what to start now, move blocked/unblocked tasks, queue the dispatched ones, build each dispatch's payload. */
  planBuilds(input: PlanInput): Promise<PlanResult>;
  listRepositoryIds(): Promise<string[]>;
  /** queued → new: the build workflow could not be started; the hub tries again later. */
  returnToReady(taskId: BuildId, reason: string): Promise<void>;
  /** queued → building on the builder that picked it up (a later attempt records its new builder). */
  recordStarted(taskId: BuildId, pickup: BuildPickup): Promise<void>;
  /** The result's artefact server and token (when given) also let summit collect the sealed log. */
  recordBuilt(taskId: BuildId, result: Pick<BuildResult, 'builderId' | 'logPath'> & Partial<Pick<BuildResult, 'buildId' | 'artefactBaseUrl' | 'artefactToken'>>): Promise<void>;
  recordPublished(taskId: BuildId, imported: ImportResult): Promise<void>;
  /** An admin's cancel wins: a cancelled task stays cancelled. */
  recordFailure(taskId: BuildId, failure: RecordedFailure): Promise<void>;
  /** Admin retry: a failed or cancelled task becomes new again. */
  retryTask(cmd: TaskCommand): Promise<TaskCommandResult>;
  /** Admin cancel; returns the status it had, so the hub knows whether a build workflow must be stopped. */
  cancelTask(cmd: TaskCommand): Promise<TaskCommandResult & { previous: string }>;
  /** Builders' heartbeats as the hub received them (`lastSeen`: when), one record per builder. */
  recordBuilders(beats: Array<{ status: BuilderStatus; lastSeen: string }>): Promise<void>;

  // Waves (core/contracts/wave.ts)
  /** A build of a wave is built and staged (publishing → completed; its wave publishes it). */
  recordStaged(taskId: BuildId, staged: ImportResult): Promise<void>;
  /** Waves recorded whose workflow the hub has not started yet, but those of repositories still `filling` them. */
  newWaves(filling?: readonly string[]): Promise<string[]>;
  /** The wave's counts and estimate; moves it to `status` when given (an ended wave stays ended). */
  waveProgress(waveId: string, status?: WaveStatus): Promise<WaveProgress>;
  /** What the wave's publish writes: its staged builds not yet published, per index, and its removals. */
  wavePublishPlan(waveId: string, index?: string): Promise<WavePublishPlan>;
  /** The finished part of a running wave, if it is closed under run-time dependencies; else what is missing. */
  wavePublishFinishedPlan(waveId: string): Promise<PublishFinishedPlan>;
  /** Record a write of the wave (histories, the builds it published, those left out); `final` ends the wave. */
  recordWavePublished(waveId: string, written: PublishStagedResult[], plan: WavePublishPlan, final: boolean): Promise<void>;
  /** The wave waits for closure (reports) or no longer does (null). */
  recordWaveClosure(waveId: string, reports: ClosureReport[] | null): Promise<void>;
  /** Cancel every task of the wave not yet ended and end the wave; returns the tasks whose build workflow runs. */
  cancelWave(cmd: WaveCommand): Promise<{ inFlight: string[] }>;
}

/**
 * Whom a record tells after its write (activities/summit/notify.ts): the hub's `buildFinished` signal with
 * `status` when `hub`, the wave's `waveBuildEnded` when `wave` names it. Best effort, like the workflow's own signals.
 */
export interface BuildNotice {
  status: string;
  hub: boolean;
  wave?: string;
}

/**
 * Records that send the build's signals themselves once written (summit worker, as local activities of the build
 * workflow: patch `notify-from-records`), so the build workflow sends none on its success path.
 */
export interface RecordAndTellActivities {
  recordBuiltAndTell(taskId: BuildId, result: Parameters<SummitActivities['recordBuilt']>[1], notice: BuildNotice): Promise<void>;
  recordStagedAndTell(taskId: BuildId, staged: ImportResult, notice: BuildNotice): Promise<void>;
  recordPublishedAndTell(taskId: BuildId, imported: ImportResult, notice: BuildNotice): Promise<void>;
}
