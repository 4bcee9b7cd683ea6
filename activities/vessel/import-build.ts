import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ImportRequest, ImportResult } from '../../core/contracts/build';
import type { IndexEntry } from '../../core/formats/repo-index';
import type { BuildId } from '../../core/contracts/ids';
import type { PublishStagedRequest, PublishStagedResult } from '../../core/contracts/wave';
import { volatileHistory } from '../../core/repo/history';
import { isSafeSegment, poolPath, repositoryPathOfUri } from '../../core/repo/pool';
import { entryFor } from '../../core/repo/release-rules';
import { checkBuilder, type BuilderRegistryReader } from './builder-check';
import { ArtefactOrigins } from '../../core/security/artefact-origins';
import { fetchArtefacts, type FetchProgress } from './fetch';
import { indexNameProblem, type VesselLayout } from './layout';
import { baseResolutionOf, declareBases } from './closure-gate';
import type { IndexLocks } from './lock';
import type { PendingBuild, StagedCandidate } from './publish';
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
  /**
   * The builder registry vessel checks every build against (activities/vessel/builder-check.ts). The vessel worker
   * always has one (workers/vessel.ts); absent only where a test drives imports without builders.
   */
  registry?: BuilderRegistryReader;
  /** Where builders' artefact servers may be (SUMMIT_ARTEFACT_ORIGINS); absent: any http(s) origin. */
  artefactOrigins?: ArtefactOrigins;
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
 * the same sha256 are a no-op, in which case the result names the history volatile points at (which holds them);
 * a retry whose fetch fails because the builder already released what an earlier attempt published answers the
 * same way (publishedBefore). A refusal removes what was staged for the build and changes nothing else; a
 * retryable failure keeps the verified files for the next attempt.
 */
export async function importBuild(deps: VesselDeps, req: ImportRequest, hooks: ImportHooks = {}): Promise<ImportResult> {
  const { buildId } = req;
  checkRequest(deps, req);
  if (deps.registry) await checkBuilder(deps.registry, req);
  const publisher = deps.publishers.for(req.index);
  const repo = publisher.repo;
  const stagingDir = stagingDirFor(deps.layout, buildId);
  await deps.staging.sweep(stagingDir);

  try {
    let candidates: StagedCandidate[];
    try {
      candidates = await fetchAndVerify(req, stagingDir, hooks);
    } catch (err) {
      // A retry after an attempt that published everything (and released the builder's copy, release.ts, so the
      // fetch now fails) but whose completion was lost: volatile already publishes exactly these packages.
      const before = isImportRefused(err) || hooks.signal?.aborted ? undefined : await publishedBefore(deps, req);
      if (!before) throw err;
      await rm(stagingDir, { recursive: true, force: true });
      return before;
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
      published: outcome.entries.map(publishedPackage),
    };
  } catch (err) {
    if (isImportRefused(err)) await rm(stagingDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The result of an earlier attempt of this very import that published it: the history volatile points at lists,
 * for the import's architecture, a package with the sha256 of each of the request's stones (a rebuild of the same
 * id makes other bytes, so it never matches). Undefined when any is missing.
 */
async function publishedBefore(deps: VesselDeps, req: ImportRequest): Promise<ImportResult | undefined> {
  const wanted = req.build.artefacts.filter((a) => a.kind === 'stone');
  if (wanted.length === 0) return undefined;
  const repo = deps.publishers.for(req.index).repo;
  const historyId = volatileHistory(await repo.readRootIndex());
  if (!historyId) return undefined;
  const entries = (await repo.readHistory(historyId))[req.architecture] ?? [];
  const byHash = new Map(entries.map((e) => [e.hash, e]));
  const found: IndexEntry[] = [];
  for (const a of wanted) {
    const entry = byHash.get(a.sha256);
    if (!entry) return undefined;
    found.push(entry);
  }
  return { buildId: req.buildId, index: req.index, historyId, indexPath: repo.indexFile(historyId, req.architecture), published: found.map(publishedPackage) };
}

/** An index entry as an import's result names it (its path relative to the repository root, see PublishedPackage.uri). */
function publishedPackage(e: IndexEntry): ImportResult['published'][number] {
  return { name: e.name, version: e.version, release: e.release, buildRelease: e.buildRelease, uri: repositoryPathOfUri(e.uri), sha256: e.hash, size: e.size };
}

/**
 * The import's index and architecture are plain names and the builder's server is where builders may be, or the
 * import is refused before anything is fetched.
 */
function checkRequest(deps: VesselDeps, req: ImportRequest): void {
  const problem = indexNameProblem(req.index) ?? (isSafeSegment(req.architecture) ? undefined : `architecture "${req.architecture}" is not a plain name`);
  if (problem) throw importRefused({ buildId: req.buildId, file: '(request)', reason: problem });
  const origin = (deps.artefactOrigins ?? ArtefactOrigins.ANY).problem(req.build.artefactBaseUrl);
  if (origin) throw importRefused({ buildId: req.buildId, file: '(builder)', reason: `builder ${req.build.builderId}: ${origin}` });
}

/** Fetch a build's packages into its staging folder and verify each (content, hashes, the import's architecture). */
async function fetchAndVerify(req: ImportRequest, stagingDir: string, hooks: ImportHooks): Promise<StagedCandidate[]> {
  const { buildId } = req;
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
  return candidates;
}

/** Where a staged build's verified packages are listed until its wave publishes them (kept out of staging's sweep). */
export function stagedListFor(layout: VesselLayout, buildId: string): string {
  return join(layout.root, 'staged', `${basename(stagingDirFor(layout, buildId))}.json`);
}

interface StagedList {
  buildId: string;
  index: string;
  candidates: StagedCandidate[];
}

/**
 * Fetch, verify and stage one build of a wave: its packages go into the index's pool (a dependent build in the
 * same wave fetches them from there) but into no history; the list of its verified packages is kept in
 * `<vessel>/staged/` until the wave publishes them together (publishStagedBuilds). A pool path already holding a
 * different file that a published history lists is refused, as at publish; an unlisted one (an earlier staging)
 * is replaced. Idempotent: a retry fetches again, or finds the files in place.
 */
export async function stageBuild(deps: VesselDeps, req: ImportRequest, hooks: ImportHooks = {}): Promise<ImportResult> {
  const { buildId } = req;
  checkRequest(deps, req);
  if (deps.registry) await checkBuilder(deps.registry, req);
  const repo = deps.publishers.for(req.index).repo;
  // A retry after an attempt that staged everything (and may have released the builder's copy, release.ts) but
  // whose completion was lost: the same packages are in the pool already, nothing is fetched again.
  const before = await stagedBefore(deps, req);
  if (before) return stagedResult(req, before);
  const stagingDir = stagingDirFor(deps.layout, buildId);
  await deps.staging.sweep(stagingDir);
  try {
    const candidates = await fetchAndVerify(req, stagingDir, hooks);
    if (candidates.length === 0) throw importRefused({ buildId, file: '(none)', reason: 'the build has no packages to import' });
    await deps.locks.withLock(req.index, async () => {
      const root = await repo.readRootIndex();
      for (const c of candidates) {
        const path = poolPath(c.meta, c.file);
        const present = await repo.poolFileHash(path);
        if (present === c.sha256) continue;
        if (present !== undefined) {
          const users = await repo.historiesReferencing(root, path);
          if (users.length > 0) throw importRefused({ buildId, file: c.file, reason: `${c.file}: the pool already holds a different ${path} (sha256 ${present}), published in history ${users.join(', ')}; a published file is never replaced: bump the release or build release` });
        }
        await repo.placeInPool(c.stagedPath, path);
      }
    });
    const list = stagedListFor(deps.layout, buildId);
    await mkdir(dirname(list), { recursive: true });
    const body: StagedList = { buildId, index: req.index, candidates };
    await writeFile(`${list}.tmp`, JSON.stringify(body));
    await rename(`${list}.tmp`, list);
    await rm(stagingDir, { recursive: true, force: true });
    return stagedResult(req, candidates);
  } catch (err) {
    if (isImportRefused(err)) await rm(stagingDir, { recursive: true, force: true });
    throw err;
  }
}

function stagedResult(req: ImportRequest, candidates: readonly StagedCandidate[]): ImportResult {
  return {
    buildId: req.buildId, index: req.index, historyId: '', indexPath: '',
    published: candidates.map((c) => publishedPackage(entryFor(c))),
  };
}

/**
 * The candidates an earlier attempt of this very build staged: its list names the request's index and exactly the
 * request's packages (by sha256: a rebuild of the same id makes other bytes), and the pool holds each of them.
 */
async function stagedBefore(deps: VesselDeps, req: ImportRequest): Promise<StagedCandidate[] | undefined> {
  const text = await readFile(stagedListFor(deps.layout, req.buildId), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const list = JSON.parse(text) as StagedList;
  const wanted = req.build.artefacts.filter((a) => a.kind === 'stone').map((a) => a.sha256).sort();
  const listed = list.candidates.map((c) => c.sha256).sort();
  if (list.index !== req.index || wanted.length === 0 || wanted.join() !== listed.join()) return undefined;
  const repo = deps.publishers.for(req.index).repo;
  for (const c of list.candidates) if ((await repo.poolFileHash(poolPath(c.meta, c.file))) !== c.sha256) return undefined;
  return list.candidates;
}

/**
 * Publish a wave's staged builds of one index in one write (one history), its removals with them. A build whose
 * staged list is gone (published and cleaned up by an earlier attempt of this very call) is taken as published
 * if volatile holds its packages; its result then names that history. Refusals (a release rule) leave the build
 * out and are reported; the others are published.
 */
export async function publishStagedBuilds(deps: VesselDeps, req: PublishStagedRequest): Promise<PublishStagedResult> {
  const problem = indexNameProblem(req.index);
  if (problem) throw importRefused({ buildId: req.waveId as BuildId, file: '(request)', reason: problem });
  const publisher = deps.publishers.for(req.index);
  // The repository's declared base (issue 9, item 6): counted by the closure check of this index from now on.
  declareBases(publisher.repo, (req.bases ?? []).filter((b) => b !== req.index && !indexNameProblem(b)));
  const builds: PendingBuild[] = [];
  for (const buildId of req.buildIds) {
    const text = await readFile(stagedListFor(deps.layout, buildId), 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    const list = JSON.parse(text) as StagedList;
    builds.push({ buildId: buildId as BuildId, candidates: list.candidates });
  }
  const outcome = await publisher.publishTogether(builds, req.removals);
  const refused: PublishStagedResult['refused'] = [];
  for (const [i, r] of outcome.results.entries()) {
    if (!r.ok) refused.push({ buildId: builds[i].buildId, reason: r.refusal.message });
  }
  // Published (or refused for good): the lists are done with.
  for (const b of builds) await rm(stagedListFor(deps.layout, b.buildId), { force: true });
  const resolvedByBase = baseResolutionOf(publisher.repo);
  return { index: req.index, historyId: outcome.historyId ?? '', changed: outcome.changed, refused, removed: outcome.removed, ...(resolvedByBase.length > 0 ? { resolvedByBase } : {}) };
}
