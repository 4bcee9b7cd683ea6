import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { existsSync, lchownSync } from 'node:fs';
import { chmod, chown, copyFile, lstat, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUILD_LOG_NAME } from '../../core/build/artefact-names';
import { BUILD_USER, WORK_SUBDIRS, WRITABLE_SUBDIRS } from '../../core/build/layout';
import { machineName } from '../../core/build/machine-name';
import { DEFAULT_LIMITS, formatBytes, limitReason, networkDecision, type BuildLimits } from '../../core/build/limits';
import type { LogRedactor } from '../../core/build/log-redaction';
import { MacroError } from '../../core/build/macros';
import { stepCommand, stepScripts } from '../../core/build/step-script';
import { planUpstreams, relativeInside } from '../../core/build/upstreams';
import type { TokenScope } from '../../core/build/tokens';
import { LOCAL_SOURCES_SETTING, type SourcePolicy } from '../../core/security/source-url';
import type { AvalancheActivities } from '../../core/contracts/activities';
import { SIGNAL_BUILD_PICKED_UP, type BuildPickup, type BuildRequest, type BuildResult } from '../../core/contracts/build';
import { isCommitId } from '../../core/contracts/commit';
import { parseBuildId, type BuilderId } from '../../core/contracts/ids';
import { isIsaLevel } from '../../core/contracts/queues';
import { parseRecipe, RecipeError } from '../../core/formats/recipe';
import { listArtefacts, corruptStones } from './artefacts';
import { BuildLog } from './build-log';
import { buildFailed, isRecipeFault, StepFailure } from './build-failure';
import type { BuildQueue } from './build-queue';
import { checkoutCommit } from './checkout';
import { diskUsageAtRest, watchBuild } from './build-watch';
import { createBuildCgroup, prepareCgroupHost, type CgroupHost } from './cgroup';
import { runInContainer, type ContainerSpec } from './container';
import { runHostCommand } from './host-command';
import { readRecipeFile } from './recipe-file';
import { installDependencies } from './dependencies';
import { smallTreeEntries } from './small-tree';
import { packInstallRoot } from './packager';
import { KeptClones, clonesRoot } from './kept-clones';
import { PackageCache } from './package-cache';
import { avalancheRoot, buildPaths, packageCacheRoot, type BuildPaths } from './paths';
import { prepareSources } from './sources';

/**
 * Avalanche's activities: `buildRecipe` (checkout → sources → dependencies → steps in nspawn → packages) and
 * `cleanupBuild`. Created once per worker process from its configuration; every ISA worker of the process
 * shares the same instance, so a rerun of a build id can stop the earlier attempt still running here.
 */
export interface AvalancheBuildConfig {
  dataDir: string;
  builderId: BuilderId;
  /** A rootfs directory for the builds; absent means the host's own /usr, read-only. */
  buildRoot?: string;
  /** Base URL of this builder's artefact server, as other hosts reach it. */
  artefactBaseUrl: string;
  /** Issues the artefact token of a build (core/build/tokens.ts with this builder's secret). */
  tokens: { sign(buildId: string, scope?: TokenScope): { token: string; expiresAt: number } };
  /** Masks secrets in what leaves the builder of a log (its tail, its sealed copy); the patterns alone if absent. */
  redactor?: LogRedactor;
  /** `%(jobs)`: parallel compile jobs inside a build. */
  jobs: number;
  /** How often a running build heartbeats; the build workflow's heartbeat timeout is a few times this. */
  heartbeatIntervalMs?: number;
  /** Test-only fault switch (SUMMIT_TEST_CORRUPT_ARTEFACTS=1): damage every .stone after hashing it. */
  corruptArtefacts?: boolean;
  /** Where upstreams and recipe repositories may come from, and download limits (core/security/source-url.ts). */
  sources: SourcePolicy;
  /** What one build may use (core/build/limits.ts); DEFAULT_LIMITS where absent. */
  limits?: BuildLimits;
  /** First host uid of the containers' user namespace (SUMMIT_BUILD_UID_BASE); DEFAULT_UID_BASE where absent. */
  uidBase?: number;
  /** Where build cgroups go (activities/avalanche/cgroup.ts); found on the first build where absent. */
  cgroups?: CgroupHost;
  /** The kept recipe repository clones (kept-clones.ts); `<data>/avalanche/clones` where absent. Tests read its stats. */
  keptClones?: KeptClones;
  /** The dependency packages kept by hash (package-cache.ts); `<data>/avalanche/packages` where absent. */
  packageCache?: PackageCache;
  /**
   * The builder's slots when it accepts builds ahead of them (SUMMIT_BUILDER_BACKLOG): a build waits here for a
   * slot, longest critical path first, before it counts as picked up. Absent: every accepted build runs at once.
   */
  queue?: BuildQueue;
}

/**
 * Above the ranges systemd hands out to containers (`--private-users=pick` picks below 0x70000000) and far from
 * any user of the host: nothing on the host belongs to these ids but what builds write.
 */
export const DEFAULT_UID_BASE = 0x7e000000;

/** Heartbeat details: where a build is, for the Temporal UI and for whoever watches it. */
export interface BuildHeartbeat {
  /** checkout, recipe, sources, dependencies, setup, build, install, check or package. */
  step: string;
  logBytes: number;
}

/** The activity context seam: Temporal's in production, anything with these members in a test. */
export interface BuildProgress {
  signal: AbortSignal;
  heartbeat(details: BuildHeartbeat): void;
  log: { info(message: string, meta?: Record<string, unknown>): void; warn(message: string, meta?: Record<string, unknown>): void };
}

/** The builder's hold on its builds in flight: a revoked builder stops them all (workers/avalanche/standing.ts). */
export interface RunningBuilds {
  /** Abort every build running in this process with `reason` (what each build's activity then throws); how many. */
  abortRunning(reason: Error): number;
}

export function createAvalancheActivities(config: AvalancheBuildConfig): AvalancheActivities & RunningBuilds {
  const running = new Map<string, { abort: AbortController; done: Promise<unknown> }>();
  let runs = 0;
  const limits = config.limits ?? DEFAULT_LIMITS;
  const uidBase = config.uidBase ?? DEFAULT_UID_BASE;
  let cgroupHost: Promise<CgroupHost> | undefined = config.cgroups && Promise.resolve(config.cgroups);
  const clones = config.keptClones ?? new KeptClones(clonesRoot(avalancheRoot(config.dataDir)));
  const packages = config.packageCache ?? new PackageCache(packageCacheRoot(config.dataDir));
  const sandbox = (): SandboxContext => ({
    limits, uidBase, builderId: config.builderId, cgroups: (cgroupHost ??= prepareCgroupHost()),
  });

  async function buildRecipe(req: BuildRequest): Promise<BuildResult> {
    const ctx = Context.current();
    const release = config.queue ? await waitForSlot(config.queue, req, ctx, config.heartbeatIntervalMs ?? 5_000) : undefined;
    try {
      // Picked up once it holds a slot: the time it waited in the backlog is queue time, not build time.
      announcePickup(ctx, config.builderId, { url: config.artefactBaseUrl, token: config.tokens.sign(req.buildId).token });
      return await runBuild(req, { signal: ctx.cancellationSignal, heartbeat: (d) => ctx.heartbeat(d), log: ctx.log });
    } finally {
      release?.();
    }
  }

  async function runBuild(req: BuildRequest, progress: BuildProgress): Promise<BuildResult> {
    validateRequest(req);
    // The same build id again in this process (a retry after a missed heartbeat): stop the old attempt first,
    // it would otherwise write into the work dir we are about to recreate.
    const previous = running.get(req.buildId);
    if (previous) {
      previous.abort.abort(new Error('superseded by a new attempt of the same build'));
      await previous.done.catch(() => undefined);
    }
    const abort = new AbortController();
    const signal = AbortSignal.any([progress.signal, abort.signal]);
    const done = attempt(req, progress, signal, ++runs);
    running.set(req.buildId, { abort, done });
    try {
      return await done;
    } finally {
      if (running.get(req.buildId)?.done === done) running.delete(req.buildId);
    }
  }

  async function attempt(req: BuildRequest, progress: BuildProgress, signal: AbortSignal, run: number): Promise<BuildResult> {
    const startedAt = new Date();
    const paths = buildPaths(config.dataDir, req.buildId);
    // Independent folders, made side by side: a build's first marker waits for all of them.
    await Promise.all([rm(paths.work, { recursive: true, force: true }), rm(paths.artefacts, { recursive: true, force: true })]);
    const [opened, ...folders] = await Promise.allSettled([
      BuildLog.create(paths.log, config.redactor),
      mkdir(paths.artefacts, { recursive: true }),
      ...[...WORK_SUBDIRS.map((sub) => join(paths.mason, sub)), scriptsDir(paths), statusDir(paths)].map((d) => mkdir(d, { recursive: true })),
    ]);
    const refused = folders.find((f): f is PromiseRejectedResult => f.status === 'rejected');
    if (opened.status === 'rejected') throw opened.reason;
    const log = opened.value;
    if (refused) {
      await log.close();
      throw refused.reason;
    }
    // The container sees /mason as someone else's folder: it cannot swap a mount point or plant a link there.
    await chmod(paths.mason, 0o755);
    let phase = 'checkout';
    const beat = async () => progress.heartbeat({ step: phase, logBytes: await log.bytes().catch(() => 0) });
    const timer = setInterval(() => void beat().catch(() => undefined), config.heartbeatIntervalMs ?? 5_000);
    const meta = { buildId: req.buildId, builderId: config.builderId };
    progress.log.info('build started', { ...meta, source: req.source, isa: req.isa, commit: req.commit });
    // The dependencies need nothing of the recipe: fetched, verified and extracted into <mason>/deps while the
    // checkout, the recipe and the sources are read. Awaited at the `dependencies` phase, so their failure is
    // reported as before; stopped and awaited when anything before fails, so nothing writes on after the attempt.
    const deps = req.dependencies ?? [];
    const stopDeps = new AbortController();
    let depsReady: Promise<void> | undefined;
    const settleDeps = async () => {
      stopDeps.abort(new Error('the build attempt ended'));
      await depsReady?.catch(() => undefined);
    };
    try {
      await log.marker(`build ${req.buildId} on ${config.builderId}: ${req.source} ${req.version}-${req.release} (${req.isa}) at ${req.commit}`);
      if (deps.length > 0) {
        depsReady = installDependencies(deps, packages, paths.mason, log, AbortSignal.any([signal, stopDeps.signal]))
          .then(() => log.marker('dependencies ready'));
        depsReady.catch(() => undefined);
      }
      const recipePath = relativeInside(req.recipePath, 'recipe path');
      const commitTime = await checkoutCommit(clones, { ...req, recipePath }, paths.checkout, log, signal, config.sources.repositoryRoots);

      phase = 'recipe';
      const recipeDir = join(paths.checkout, recipePath);
      const recipeFile = join(req.recipePath, 'stone.yaml');
      const read = await readRecipeFile(paths.checkout, recipePath);
      if (read.refused) throw new StepFailure('recipe', null, `${read.refused} (commit ${req.commit}): refused`);
      if (read.text === undefined) throw new StepFailure('recipe', null, `no recipe at ${recipeFile} in commit ${req.commit}`);
      const text = read.text;
      const { recipe } = parseRecipe(text, recipeFile);
      const { name, version, release } = recipe.source;
      if (name !== req.source || version !== req.version || release !== req.release) {
        throw new StepFailure('recipe', null, `${recipeFile} at ${req.commit} is ${name} ${version}-${release}, not ${req.source} ${req.version}-${req.release} as requested`);
      }
      const network = networkDecision({
        asks: recipe.options.networking, repositoryAllows: req.networkAllowed, builderAllows: limits.networkAllowed,
        recipeFile, repository: parseBuildId(req.buildId)?.repository, builderId: config.builderId,
      });
      if (network.refusal) throw new StepFailure('recipe', null, network.refusal);
      const scripts = stepScripts({ recipe, recipeFile, isa: req.isa, architecture: req.architecture, jobs: config.jobs, sourceDateEpoch: commitTime, withDependencies: deps.length > 0 });

      await log.marker('recipe read');

      phase = 'sources';
      const upstreams = planUpstreams(recipe.upstreams, { roots: config.sources.localSources, setting: LOCAL_SOURCES_SETTING });
      await prepareSources(upstreams, paths.mason, log, signal, config.sources);
      phase = 'dependencies';
      await depsReady;

      phase = 'setup';
      await handOver(paths, uidBase, signal);
      const spec: ContainerSpec = {
        machine: '', rootfs: config.buildRoot, mason: paths.mason, pkgdir: recipeDir, scripts: scriptsDir(paths), status: statusDir(paths),
        uidBase, network: network.network, hostAlternatives: existsSync('/etc/alternatives'),
      };
      // The time limit is for the build's steps together, from the first one's start.
      const deadline = Date.now() + limits.timeMs;
      for (const { step, script } of scripts) {
        phase = step;
        void beat();
        await runStep({ spec, step, script, paths, log, signal, run, deadline, sandbox: sandbox() });
      }

      phase = 'package';
      await log.marker('packaging');
      const packed = await packInstallRoot({ recipe, installRoot: join(paths.mason, 'install'), outDir: paths.artefacts, isa: req.isa, architecture: req.architecture, buildRelease: req.buildRelease });
      for (const i of packed.ignored) await log.write(`    not packaged: ${i.path} (${i.reason})\n`);
      for (const p of packed.packages) await log.write(`    ${p.meta.name}: ${p.files.length} files; provides ${p.meta.provides.join(', ') || 'nothing'}; depends ${p.meta.depends.join(', ') || 'nothing'}\n`);
      await log.marker(`build succeeded in ${((Date.now() - startedAt.getTime()) / 1000).toFixed(1)} s`);
      await copyFile(paths.log, join(paths.artefacts, BUILD_LOG_NAME));
      const artefacts = await listArtefacts(paths.artefacts);
      if (config.corruptArtefacts) await corruptStones(paths.artefacts, artefacts);
      // Only the artefacts matter from here on; the tree is rebuilt from scratch by any rerun.
      await rm(paths.work, { recursive: true, force: true });
      const { token } = config.tokens.sign(req.buildId);
      progress.log.info('build succeeded', { ...meta, artefacts: artefacts.length });
      return {
        buildId: req.buildId, builderId: config.builderId, artefactBaseUrl: config.artefactBaseUrl, artefactToken: token,
        releaseToken: config.tokens.sign(req.buildId, 'release').token,
        artefacts, logPath: paths.log, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(),
      };
    } catch (err) {
      await settleDeps();
      if (signal.aborted) {
        await log.marker(`build stopped: ${String((signal.reason as Error)?.message ?? signal.reason)}`).catch(() => undefined);
        throw signal.reason ?? err;
      }
      const message = err instanceof Error ? err.message : String(err);
      await log.write(`${message}\n`).catch(() => undefined);
      if (!isRecipeFault(err, phase)) {
        await log.marker(`build attempt failed on the builder, not in the recipe (retryable): ${message}`).catch(() => undefined);
        progress.log.warn('build attempt failed on the builder', { ...meta, phase, error: message });
        throw err;
      }
      const step = err instanceof StepFailure || err instanceof MacroError ? err.step : err instanceof RecipeError ? 'recipe' : phase;
      await log.marker(`build failed in ${step}`).catch(() => undefined);
      progress.log.info('build failed', { ...meta, step });
      const exitCode = err instanceof StepFailure ? err.exitCode : null;
      throw buildFailed(`${req.source} ${req.version}-${req.release} (${req.isa}) failed in ${step}: ${firstLine(message)}`, {
        buildId: req.buildId, builderId: config.builderId, logTail: await log.tail(), logPath: paths.log, exitCode, step, reason: firstLine(message),
      });
    } finally {
      await settleDeps();
      clearInterval(timer);
      await log.close();
    }
  }

  async function cleanupBuild(buildId: string): Promise<void> {
    const paths = buildPaths(config.dataDir, buildId);
    await rm(paths.work, { recursive: true, force: true });
    await rm(paths.artefacts, { recursive: true, force: true });
  }

  function abortRunning(reason: Error): number {
    for (const r of running.values()) r.abort.abort(reason);
    return running.size;
  }

  return { buildRecipe, cleanupBuild, abortRunning };
}

/** What a step's sandbox needs besides the container spec. */
/**
 * Tell the build workflow that this builder took the build (SIGNAL_BUILD_PICKED_UP): summit records the builder
 * and the pickup time from it. Best effort and not awaited: the build does not wait for summit, and the build's
 * result names its builder anyway. The worker's own client carries the farm's payload codec (the log token
 * travels encrypted).
 */
function announcePickup(ctx: Context, builderId: BuilderId, log: BuildPickup['log']): void {
  const { workflowExecution, attempt } = ctx.info;
  if (!workflowExecution) return; // a standalone activity: no workflow to tell
  let client;
  try {
    client = ctx.client;
  } catch {
    return; // a test's MockActivityEnvironment without a client
  }
  if (!client) return;
  const pickup: BuildPickup = { builderId, at: new Date().toISOString(), attempt, log };
  client.workflow.getHandle(workflowExecution.workflowId, workflowExecution.runId).signal(SIGNAL_BUILD_PICKED_UP, pickup).catch((err: unknown) => {
    ctx.log.warn('could not tell the build workflow that this builder picked it up', { error: String(err) });
  });
}

/**
 * Wait in the builder's backlog for a slot, heartbeating (the build workflow's heartbeat timeout runs while it
 * waits, and a cancellation arrives only with a heartbeat's answer). A build cancelled while it waits ends here.
 */
async function waitForSlot(queue: BuildQueue, req: BuildRequest, ctx: Context, everyMs: number): Promise<() => void> {
  const beat = setInterval(() => ctx.heartbeat({ step: 'waiting for a slot', logBytes: 0 } satisfies BuildHeartbeat), everyMs);
  try {
    return await queue.acquire({ criticalPath: req.criticalPath ?? 0 }, ctx.cancellationSignal);
  } finally {
    clearInterval(beat);
  }
}

interface SandboxContext {
  limits: BuildLimits;
  uidBase: number;
  builderId: string;
  cgroups: Promise<CgroupHost>;
}

interface StepRun {
  spec: ContainerSpec;
  step: string;
  script: string;
  paths: BuildPaths;
  log: BuildLog;
  signal: AbortSignal;
  run: number;
  deadline: number;
  sandbox: SandboxContext;
}

/** Host-owned folder of the step scripts, bound read-only: the host writes here, the container never can. */
const scriptsDir = (paths: BuildPaths) => join(paths.work, 'scripts');
/** The container root's folder (the "came up" markers); the host only lstat()s what is in it. */
const statusDir = (paths: BuildPaths) => join(paths.work, 'status');

/** Work folders with more entries than this (an unpacked upstream) are handed over by `chown -R`. */
const IN_PROCESS_CHOWN_LIMIT = 2000;

/**
 * Give the build user its folders. Done once, after the host put sources and dependencies in place and before
 * any container ran, so nothing in them is the recipe's yet; `-P` walks no link, `-h` changes links themselves.
 */
async function handOver(paths: BuildPaths, uidBase: number, signal: AbortSignal): Promise<void> {
  const owner = `${uidBase + BUILD_USER.uid}:${uidBase + BUILD_USER.gid}`;
  const dirs = WRITABLE_SUBDIRS.map((d) => join(paths.mason, d));
  const refused = (err: Error) => {
    throw new Error(`cannot hand the work folders to the build user (${owner}): ${err.message}`);
  };
  // Usually two empty folders (upstreams unpack into the build folder): lchown() them here rather than fork the
  // worker for chown; the same calls chown makes, no link followed, links changed themselves.
  const entries = smallTreeEntries(dirs, IN_PROCESS_CHOWN_LIMIT);
  if (entries && dirs.every((d) => entries.some((e) => e.path === d))) {
    try {
      for (const e of entries) lchownSync(e.path, uidBase + BUILD_USER.uid, uidBase + BUILD_USER.gid);
    } catch (err) {
      refused(err as Error);
    }
  } else {
    await runHostCommand('chown', ['-R', '-P', '-h', '--', owner, ...dirs], { signal }).catch(refused);
  }
  await chown(statusDir(paths), uidBase, uidBase);
}

async function runStep(r: StepRun): Promise<void> {
  const { step, paths, log, signal, sandbox } = r;
  // Host-owned and never bound writable: writing here cannot be steered by anything the container left.
  await writeFile(join(scriptsDir(paths), `${step}.sh`), r.script, { mode: 0o644 });
  await log.marker(`step ${step}`);
  const began = Date.now();
  const machine = machineName(sandbox.builderId, process.pid, r.run, step);
  const cgroup = await createBuildCgroup(await sandbox.cgroups, machine, sandbox.limits);
  const mason = r.paths.mason;
  let outcome;
  try {
    outcome = await runInContainer({ ...r.spec, machine }, stepCommand(step), log, {
      signal,
      cgroupProcs: cgroup.procsFiles,
      watch: (stopFor) => watchBuild({
        limits: sandbox.limits, deadline: r.deadline, cgroup, logBytes: () => log.bytes(),
        diskDirs: WRITABLE_SUBDIRS.map((d) => join(mason, d)),
      }, stopFor),
      killRest: () => cgroup.killAll(),
    });
    // The watch polls: what a step did since its last look (killed for memory, a refused fork, a quick write
    // past a cap) is still a limit hit.
    if (!outcome.limit && (await cgroup.oomKills()) > 0) outcome.limit = 'memory';
    if (!outcome.limit && (await cgroup.taskLimitHits()) > 0) outcome.limit = 'tasks';
    if (!outcome.limit && (await log.bytes()) > sandbox.limits.logBytes) outcome.limit = 'log';
    if (!outcome.limit && (await diskUsageAtRest(WRITABLE_SUBDIRS.map((d) => join(mason, d)))) > sandbox.limits.diskBytes) outcome.limit = 'disk';
  } finally {
    await cgroup.remove();
  }
  if (signal.aborted) throw signal.reason;
  const seconds = ((Date.now() - began) / 1000).toFixed(1);
  if (outcome.limit) {
    if (outcome.limit === 'log') {
      await log.truncate(sandbox.limits.logBytes);
      await log.write(`\n[log cut at ${formatBytes(sandbox.limits.logBytes)}]\n`);
    }
    const reason = limitReason(outcome.limit, sandbox.limits);
    await log.marker(`step ${step} stopped: ${reason}`);
    throw new StepFailure(step, outcome.exitCode, `step ${step} ${reason} (stopped after ${seconds} s)`);
  }
  if (outcome.exitCode === 0) {
    await log.marker(`step ${step} done in ${seconds} s`);
    return;
  }
  // Written by the container's root before it became the build user; the recipe can neither make nor remove
  // it, and the host only looks at it (no link followed).
  const marker = await lstat(join(statusDir(paths), `${step}.started`)).catch(() => undefined);
  if (!marker?.isFile()) {
    // The script never ran: nspawn could not set the container up. The builder's problem, so retried.
    throw new Error(`the build container did not start for step ${step} (exit ${outcome.exitCode}): ${outcome.containerErrors || 'no message'}`);
  }
  throw new StepFailure(step, outcome.exitCode, `step ${step} exited with ${outcome.exitCode ?? 'a signal'} after ${seconds} s`);
}

function validateRequest(req: BuildRequest): void {
  const problems: string[] = [];
  // The queue this came from is one of the builder's levels; the names still become paths and macro values.
  if (!isIsaLevel(req.isa)) problems.push(`ISA level "${req.isa}" is not a plain name`);
  if (req.architecture !== undefined && !isIsaLevel(req.architecture)) problems.push(`architecture "${req.architecture}" is not a plain name`);
  if (!isCommitId(req.commit)) problems.push(`commit "${req.commit}" is not a hex object id`);
  if (!Number.isSafeInteger(req.buildRelease) || req.buildRelease < 1) problems.push(`build release ${req.buildRelease} is not a whole number ≥ 1`);
  if (!req.repoUrl || !req.recipePath) problems.push('repoUrl and recipePath are required');
  // Not BUILD_FAILED: no build ran. A caller bug, and retrying the same request cannot help.
  if (problems.length > 0) throw ApplicationFailure.nonRetryable(`invalid build request ${req.buildId}: ${problems.join('; ')}`, 'InvalidBuildRequest');
}

function firstLine(text: string): string {
  return text.split('\n')[0].slice(0, 1000);
}
