import { rm } from 'node:fs/promises';
import type { ImportRequest, ImportResult } from '../../core/contracts/build';
import { isSafeSegment, repositoryPathOfUri } from '../../core/repo/pool';
import { fetchArtefacts, type FetchProgress } from './fetch';
import { indexNameProblem, type VesselLayout } from './layout';
import type { IndexLocks } from './lock';
import type { StagedCandidate } from './publish';
import type { Publishers } from './publisher';
import { importRefused, isImportRefused } from './refusal';
import { stagingDirFor, type StagingSweeper } from './staging';
import { verifyStagedStone } from './verify';

export interface VesselDeps {
  layout: VesselLayout;
  locks: IndexLocks;
  /** One coalescing publisher per index (activities/vessel/publisher.ts). */
  publishers: Publishers;
  staging: StagingSweeper;
}

export interface ImportHooks {
  signal?: AbortSignal;
  onProgress?: (progress: FetchProgress) => void;
  /** Called about every second while waiting for the build's publish (a running write, the index's lock). */
  onWait?: () => void;
  idleTimeoutMs?: number;
}

/** How often a waiting import reports that it is alive (activities heartbeat from it). */
const WAIT_TICK_MS = 1000;

/**
 * Fetch, verify and publish one build's packages (the `.stone` artefacts; manifests and logs stay on the builder).
 * Fetching and verifying run on their own; publishing joins the index's next write (publisher.ts), so the
 * result names the history that published the build together with the others of that write.
 *
 * Idempotent: run again after a crash at any point, it converges to the same published state — staged files are
 * re-used once re-hashed, files already in the pool are recognised by sha256, and packages already published with
 * the same sha256 are a no-op, in which case the result names the history volatile points at (which holds them).
 * A refusal removes what was staged for the build and changes nothing else; a retryable failure keeps the verified
 * files for the next attempt.
 */
export async function importBuild(deps: VesselDeps, req: ImportRequest, hooks: ImportHooks = {}): Promise<ImportResult> {
  const { buildId } = req;
  const requestProblem = indexNameProblem(req.index) ?? (isSafeSegment(req.architecture) ? undefined : `architecture "${req.architecture}" is not a plain name`);
  if (requestProblem) throw importRefused({ buildId, file: '(request)', reason: requestProblem });
  const publisher = deps.publishers.for(req.index);
  const repo = publisher.repo;
  const stagingDir = stagingDirFor(deps.layout, buildId);
  await deps.staging.sweep(stagingDir);

  try {
    const stones = req.build.artefacts.filter((a) => a.kind === 'stone');
    const source = { buildId, baseUrl: req.build.artefactBaseUrl, token: req.build.artefactToken };
    const staged = await fetchArtefacts(source, stones, stagingDir, { signal: hooks.signal, onProgress: hooks.onProgress, idleTimeoutMs: hooks.idleTimeoutMs });
    const candidates: StagedCandidate[] = [];
    for (const s of staged) {
      const candidate = await verifyStagedStone(buildId, s);
      if (candidate.meta.architecture !== req.architecture) {
        throw importRefused({ buildId, file: s.artefact.name, reason: `${s.artefact.name}: architecture ${candidate.meta.architecture} does not match the import's ${req.architecture}` });
      }
      candidates.push({ ...candidate, stagedPath: s.path });
    }
    const ticker = hooks.onWait ? setInterval(hooks.onWait, WAIT_TICK_MS) : undefined;
    const outcome = await publisher.publish(buildId, candidates, hooks.signal).finally(() => clearInterval(ticker));
    await rm(stagingDir, { recursive: true, force: true });
    return {
      buildId,
      index: req.index,
      historyId: outcome.historyId,
      indexPath: repo.indexFile(outcome.historyId, req.architecture),
      // Relative to the repository root (see PublishedPackage.uri), not to the index as PackageURI is.
      published: outcome.entries.map((e) => ({ name: e.name, version: e.version, release: e.release, buildRelease: e.buildRelease, uri: repositoryPathOfUri(e.uri), sha256: e.hash, size: e.size })),
    };
  } catch (err) {
    if (isImportRefused(err)) await rm(stagingDir, { recursive: true, force: true });
    throw err;
  }
}
