import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ImportRequest, ImportResult } from '../../core/contracts/build';
import type { VesselActivities } from '../../core/contracts/activities';
import { STREAM_COMMAND_REFUSED, type RepositoryHistory, type VesselAdminActivities } from '../../core/contracts/vessel';
import { StreamCommandError } from '../../core/repo/streams';
import type { BuilderRegistryReader } from './builder-check';
import { importBuild, publishStagedBuilds, stageBuild, type VesselDeps } from './import-build';
import { indexNameProblem, repositoryDir, vesselLayout } from './layout';
import { IndexLocks } from './lock';
import { Publishers, type PublisherOptions } from './publisher';
import { releaseArtefacts } from './release';
import { Repository } from './repository';
import { StagingSweeper } from './staging';
import { BaseProducer } from './base-packages';
import { registerClosureSettings, variantBases } from './closure-gate';
import { pruneRepository } from './prune';
import { PruneRefusedError } from '../../core/repo/prune';
import type { FarmProfile } from '../../core/profile';
import { listHistory, promote, rollbackStream, tagHistory } from './stream-commands';
import { tryIndexActivities } from './try-index';
import type { VesselTryActivities } from '../../core/contracts/try';
import type { VerificationVesselActivities } from '../../core/contracts/verification';
import type { ArtefactOrigins } from '../../core/security/artefact-origins';
import { compareBuildOutputs } from './verification';

export interface BaseOptions {
  /**
   * The build root whose files become the base packages (SUMMIT_BUILD_ROOT, the same rootfs the builders use);
   * default `/`, the host whose /usr the builders build on. `false`: no base packages (the repository must be closed
   * by its own packages).
   */
  buildRoot?: string | false;
  /**
   * The farm's profile (SUMMIT_PROFILE, core/profile.ts): a level's index layers on its architecture's baseline index.
   * Absent: every `main-<level>` index layers on `main` (the default profile's rule, variantBases).
   */
  profile?: FarmProfile;
}

/** What vessel checks a build result against before it fetches anything (workers/vessel.ts sets both). */
export interface BuildChecks {
  registry?: BuilderRegistryReader;
  artefactOrigins?: ArtefactOrigins;
}

/**
 * The vessel activities, bound to one vessel folder (`<data>/vessel`). The factory owns the in-process index
 * locks and the per-index publishers, so a worker creates it once and every activity it runs shares them.
 */
export function vesselDeps(vesselDir: string, lock: { timeoutMs?: number } = {}, publishing: PublisherOptions = {}, base: BaseOptions = {}, checks: BuildChecks = {}): VesselDeps {
  const layout = vesselLayout(vesselDir);
  const locks = new IndexLocks(layout.locksDir, lock);
  // Closure of every publish (closure-gate.ts): base packages from the build root unless turned off, variant
  // indexes resting on main.
  registerClosureSettings(layout.reposDir, {
    producer: base.buildRoot === false ? undefined : new BaseProducer(base.buildRoot ?? '/', layout.stagingDir),
    baseIndexes: base.profile ? (index) => base.profile!.baseIndexes(index) : variantBases,
  });
  // No window unless asked: the worker passes SUMMIT_PUBLISH_WINDOW; tests that want one say so.
  return { layout, locks, publishers: new Publishers(layout, locks, publishing), staging: new StagingSweeper(layout.stagingDir), ...checks };
}

export function createVesselActivities(deps: VesselDeps): VesselActivities & VesselAdminActivities & VesselTryActivities & VerificationVesselActivities {
  const repo = (index: string): Repository => {
    const problem = indexNameProblem(index);
    if (problem) throw ApplicationFailure.nonRetryable(problem, STREAM_COMMAND_REFUSED);
    return new Repository(index, repositoryDir(deps.layout, index));
  };

  /** A command that cannot apply (unknown history, bad tag) will not apply on a retry either. */
  const command = async (run: () => Promise<RepositoryHistory>): Promise<RepositoryHistory> => {
    try {
      return await run();
    } catch (err) {
      if (err instanceof StreamCommandError) throw ApplicationFailure.nonRetryable(err.message, STREAM_COMMAND_REFUSED);
      throw err;
    }
  };

  return {
    // Try-builds' throw-away indexes (issue 9, item 7).
    ...tryIndexActivities(deps),
    async importArtefacts(req: ImportRequest): Promise<ImportResult> {
      const ctx = Context.current();
      const stones = req.build.artefacts.filter((a) => a.kind === 'stone').length;
      // Everything thrown here is retryable except IMPORT_REFUSED (the bytes or the release are wrong) and
      // ARTEFACT_ACCESS_DENIED's retries are the workflow's choice: see activities/vessel/fetch.ts.
      ctx.log.info('import started', { buildId: req.buildId, index: req.index, builderId: req.build.builderId, stones });
      const result = await importBuild(deps, req, {
        signal: ctx.cancellationSignal,
        // Heartbeats carry progress so the Temporal UI shows how far a large fetch got, and let a stuck fetch
        // or a vanished vessel be noticed by the heartbeat timeout.
        onProgress: (progress) => ctx.heartbeat(progress),
        onWait: () => ctx.heartbeat({ waiting: `publish of index ${req.index}` }),
      });
      ctx.log.info('import published', { buildId: req.buildId, index: req.index, historyId: result.historyId, packages: result.published.length });
      // Published: the builder's copy is no longer needed (the workflow cleans up when this did not happen).
      return { ...result, released: await releaseArtefacts(req, (message, meta) => ctx.log.warn(message, meta), deps.artefactOrigins) };
    },
    async stageArtefacts(req: ImportRequest): Promise<ImportResult> {
      const ctx = Context.current();
      ctx.log.info('staging started', { buildId: req.buildId, index: req.index, builderId: req.build.builderId });
      const result = await stageBuild(deps, req, { signal: ctx.cancellationSignal, onProgress: (progress) => ctx.heartbeat(progress) });
      ctx.log.info('build staged', { buildId: req.buildId, index: req.index, packages: result.published.length });
      // Staged in the pool: the builder's copy is no longer needed (the workflow cleans up when this did not happen).
      return { ...result, released: await releaseArtefacts(req, (message, meta) => ctx.log.warn(message, meta), deps.artefactOrigins) };
    },
    async publishStaged(req) {
      const ctx = Context.current();
      const beat = setInterval(() => ctx.heartbeat({ waiting: `publish of wave ${req.waveId} to ${req.index}` }), 1000);
      try {
        const result = await publishStagedBuilds(deps, req);
        ctx.log.info('wave published', { waveId: req.waveId, index: req.index, historyId: result.historyId, builds: req.buildIds.length, removed: result.removed.length, refused: result.refused.length });
        return result;
      } finally {
        clearInterval(beat);
      }
    },
    // Verification builds (activities/vessel/verification.ts): compared, never imported.
    compareBuildOutputs: (req) => compareBuildOutputs(deps.layout, req, deps.artefactOrigins, deps.registry),
    rollbackStream: (index, stream, historyId) => command(() => rollbackStream(repo(index), deps.locks, stream, historyId)),
    tagHistory: (index, tag, historyId, replace) => command(() => tagHistory(repo(index), deps.locks, tag, historyId, replace)),
    promote: (index, to, from) => command(() => promote(repo(index), deps.locks, to, from)),
    listHistory: (index) => command(() => listHistory(repo(index))),
    pruneIndex: async (index, keep, dryRun) => {
      try {
        const result = await pruneRepository(repo(index), deps.locks, keep, dryRun);
        Context.current().log.info('index pruned', { index, keep, dryRun, histories: result.removedHistories.length, poolFiles: result.removedPoolFiles.length, tookMs: result.tookMs });
        return result;
      } catch (err) {
        if (err instanceof PruneRefusedError) throw ApplicationFailure.nonRetryable(err.message, STREAM_COMMAND_REFUSED);
        throw err;
      }
    },
  };
}
