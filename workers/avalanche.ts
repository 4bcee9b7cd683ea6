/**
 * The avalanche (builder) worker. A table of contents: parse the configuration (avalanche/config.ts, which lists
 * every setting), check the host, detect the ISA levels this CPU serves and prepare the build cgroups
 * (avalanche/host.ts), start the artefact server (avalanche/artefact-server.ts), then one Temporal Worker per
 * served ISA queue (builds, sharing the builder's slots: avalanche/build-slots.ts) and one on the builder's own
 * queue (clean-up of the artefacts it holds, and the verification builds sent to this builder by name, which take
 * one of the same slots). The activities themselves are in activities/avalanche.
 *
 * The token secret is generated into <data>/avalanche/artefact-secret (0600) on first start; it has no setting.
 * On start it removes what builds killed with an earlier process left (workers/avalanche/leftovers.ts).
 * Before polling, the builder must be enrolled (issue 10; avalanche/identity.ts): its saved credential, or
 * SUMMIT_ENROL_TOKEN spent once; it polls the official queues only while trusted, the shared ones as any enrolled
 * builder (pollQueues, core/trust/poll-queues.ts), follows its standing at every heartbeat (avalanche/standing.ts) and signs its results.
 * SIGINT/SIGTERM stop it cleanly: the SDK stops polling, running builds get a short grace and are then cancelled
 * (their containers killed) so Temporal retries them on another builder.
 */
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createAvalancheActivities } from '../activities/avalanche/build';
import { BuildQueue } from '../activities/avalanche/build-queue';
import { formatBytes, formatDuration } from '../core/build/limits';
import { LogRedactor } from '../core/build/log-redaction';
import type { HostSample } from '../core/builder/health';
import type { BuilderStatus } from '../core/contracts/hub';
import { builderQueue, isaQueue } from '../core/contracts/queues';
import { pollQueues } from '../core/trust/poll-queues';
import type { TrustLevel } from '../core/contracts/trust';
import { standingClosures, type BuilderStanding } from '../core/trust/standing';
import { startAdmission } from './avalanche/admission';
import { startArtefactServer } from './avalanche/artefact-server';
import { BuildSlots } from './avalanche/build-slots';
import { loadAvalancheConfig, type AvalancheWorkerConfig } from './avalanche/config';
import { builderStatus, checkBuildHost, prepareBuildHost, servedIsaLevels, type AvalancheRuntime } from './avalanche/host';
import { fetchStanding, loadOrEnrol, NotEnrolledError, type BuilderIdentity } from './avalanche/identity';
import { QueueWorkers } from './avalanche/queue-workers';
import { artefactTokenSigner, loadOrCreateSecret } from './avalanche/secret';
import { startStandingWatch } from './avalanche/standing';
import { startBuilderHeartbeat } from './heartbeat';
import { requirePayloadKeys } from './payload-keys';
import { startRoleLogging } from './runtime';
import { dataConverterFor } from './temporal';
import { roleLogger, type Logger } from '../api/logger';

export interface RunningAvalanche {
  runtime: AvalancheRuntime;
  /** The artefact server's base URL as given to vessel. */
  artefactBaseUrl: string;
  status(): Promise<BuilderStatus>;
  /** Resolves once every worker has stopped and the server is closed. */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** What tests may replace: the host measurement admission judges (workers/avalanche/admission.ts). */
export interface AvalancheProbes {
  sampleHost?: (dataDir: string) => Promise<HostSample>;
}

export async function startAvalanche(
  config: AvalancheWorkerConfig,
  log: Logger = roleLogger({ role: 'avalanche', level: 'info' }),
  probes: AvalancheProbes = {},
  /**
   * The builder's enrolled identity (workers/avalanche/identity.ts): with it, the builder polls by its trust level,
   * follows its standing and signs its results. The process entry point (main) always has one and refuses to start
   * without; tests driving the build activity alone in-process may start without (every queue, results unsigned).
   */
  identity?: BuilderIdentity,
): Promise<RunningAvalanche> {
  checkBuildHost();
  const { architecture, levels, missing } = await servedIsaLevels(config.isaLevels, { profile: config.profile, architecture: config.architecture });
  const cgroups = await prepareBuildHost(config.dataDir, config.builderId, config.share);
  // Admission measures the data folder's disk from the start; a first start has not made it yet.
  await mkdir(config.dataDir, { recursive: true });
  const slots = new BuildSlots(config.slots, config.backlog);
  const admission = startAdmission({ dataDir: config.dataDir, thresholds: config.admission, slots, everyMs: config.heartbeatMs, sample: probes.sampleHost });
  // A builder that starts under pressure polls for nothing until it recovers.
  await admission.check();
  const runtime: AvalancheRuntime = { config, isaLevels: levels, slots, admission };
  const secret = await loadOrCreateSecret(config.dataDir);
  // What this process knows to be secret never leaves it in a log: the token key and the payload keys.
  const redactor = new LogRedactor([secret.toString('hex'), ...(config.payloadKeys ?? '').split(/[\s,:]+/)]);
  const server = await startArtefactServer({
    dataDir: config.dataDir, secret, port: config.port, host: config.host, redactor,
    log: (message, meta) => log.warn(message, meta),
  });
  const artefactBaseUrl = config.publicUrl ?? `http://${os.hostname()}:${server.port}`;
  const activities = createAvalancheActivities({
    dataDir: config.dataDir, builderId: config.builderId, buildRoot: config.buildRoot, artefactBaseUrl,
    tokens: artefactTokenSigner(secret, config.tokenTtlSeconds), jobs: config.jobs, corruptArtefacts: config.corruptArtefacts,
    sources: config.sources,
    limits: config.limits, uidBase: config.uidBase, cgroups, redactor,
    ...(config.backlog > 0 ? { queue: new BuildQueue(config.slots) } : {}),
  });

  // Enrolled builders (issue 10) ask their standing before polling: a revoked or unknown one refuses to start.
  const standing = identity ? await fetchStanding(identity.apiUrl, identity.builderId).catch(async (err: Error) => {
    admission.stop();
    await server.close();
    throw new Error(`cannot read the standing of builder ${identity.builderId} from the API at ${identity.apiUrl} (${err.message}); it polls for nothing without it`);
  }) : undefined;
  const refusal = standing && standingRefusal(standing);
  if (refusal) {
    admission.stop();
    await server.close();
    throw new NotEnrolledError(refusal);
  }
  let trust: TrustLevel = standing?.trust ?? 'trusted';
  const handBack = (message: string, type: string) => ApplicationFailure.retryable(`builder ${config.builderId} ${message}; handed the build back`, type);
  /** The build activity of one queue: refused before it starts while the builder may not take it, signed after. */
  const buildRecipeOn = (official: boolean) => async (request: Parameters<typeof activities.buildRecipe>[0]) => {
    // A poll that was already waiting when the gate closed can still bring a build: hand it back before it
    // starts (retryable, so Temporal gives it to another builder; it costs the build one attempt).
    const pressure = admission.last?.pressure ?? [];
    if (pressure.length > 0) throw handBack(`is under pressure (${pressure.join('; ')})`, 'BuilderUnderPressure');
    if (runtime.slots.closedBy('standing')) throw handBack(`may take no build (${runtime.slots.closedReasons.join('; ')})`, 'BuilderStanding');
    if (official && trust !== 'trusted') throw handBack(`is ${trust}: official builds go to trusted builders only`, 'BuilderStanding');
    // Requests from before profiles name no architecture: this builder's (the queue is one of its levels).
    const result = await activities.buildRecipe({ ...request, architecture: request.architecture ?? architecture });
    // Vessel imports the result only with this signature, verified against the registry's key (issue 10).
    return identity ? { ...result, signature: identity.sign({ buildId: result.buildId, builderId: result.builderId, artefactBaseUrl: result.artefactBaseUrl, artefacts: result.artefacts }) } : result;
  };

  const connection = await NativeConnection.connect({ address: config.temporalAddress }).catch(async (err) => {
    admission.stop();
    await server.close();
    throw err;
  });
  const officialQueues = new Set(levels.map(isaQueue));
  const workers = new QueueWorkers(async (queue) => {
    if (queue === builderQueue(config.builderId)) {
      return Worker.create({
        connection, namespace: config.namespace, taskQueue: queue, dataConverter: dataConverterFor(config),
        activities: {
          cleanupBuild: activities.cleanupBuild,
          // A verification build is sent to this builder by name (workflows/verification.ts); it takes one of the
          // builder's build slots like any build, waiting (and heartbeating) until one is free.
          buildRecipe: async (request: Parameters<typeof activities.buildRecipe>[0]) => {
            const ctx = Context.current();
            const beat = setInterval(() => ctx.heartbeat({ waiting: 'a build slot' }), 5_000);
            let release: () => void;
            try {
              release = await runtime.slots.acquire(ctx.cancellationSignal);
            } finally {
              clearInterval(beat);
            }
            try {
              return await buildRecipeOn(false)(request);
            } finally {
              release();
            }
          },
        },
        maxConcurrentActivityTaskExecutions: 4,
      });
    }
    return Worker.create({
      connection, namespace: config.namespace, taskQueue: queue, dataConverter: dataConverterFor(config),
      activities: { buildRecipe: buildRecipeOn(officialQueues.has(queue)) },
      tuner: {
        activityTaskSlotSupplier: runtime.slots,
        workflowTaskSlotSupplier: { type: 'fixed-size', numSlots: 1 },
        localActivityTaskSlotSupplier: { type: 'fixed-size', numSlots: 1 },
        nexusTaskSlotSupplier: { type: 'fixed-size', numSlots: 1 },
      },
      // One poller per queue: a poller holds a build slot while it waits (workers/avalanche/build-slots.ts).
      activityTaskPollerBehavior: { type: 'simple-maximum', maximum: 1 },
      // Let a build that is about to finish finish; the rest are cancelled and retried elsewhere.
      shutdownGraceTime: '10 seconds',
      // Cancellation reaches an activity only with a heartbeat's answer; the SDK would otherwise send one every
      // 24 s (0.8 × the 30 s heartbeat timeout), so a cancelled build would keep its slot that long.
      maxHeartbeatThrottleInterval: '5 seconds',
    });
  });
  const queuesFor = (t: TrustLevel) => [...pollQueues(levels, t, config.slots, config.sharedQueues), builderQueue(config.builderId)];
  try {
    await workers.reconcile(queuesFor(trust));
  } catch (err) {
    workers.stopAll();
    admission.stop();
    await server.close();
    await connection.close();
    throw err;
  }
  const watch = identity && startStandingWatch({
    apiUrl: identity.apiUrl, builderId: identity.builderId, slots, everyMs: config.heartbeatMs,
    log: (m) => log.warn(m, { builderId: config.builderId }),
    onRevoked: (s) => {
      const n = activities.abortRunning(handBack(`was revoked${s.revoked ? ` by ${s.revoked.by}${s.revoked.reason ? `: ${s.revoked.reason}` : ''}` : ''}`, 'BuilderRevoked'));
      log.warn(`builder ${config.builderId} is revoked: polling nothing, ${n} running build(s) stopped and handed back`, { builderId: config.builderId });
    },
    onTrust: (t) => {
      trust = t;
      log.warn(`builder ${config.builderId} is ${t} now: polling ${queuesFor(t).join(', ')}`, { builderId: config.builderId });
      workers.reconcile(queuesFor(t)).catch((err: Error) => log.warn(`cannot change the queues polled: ${err.message}`));
    },
  });
  if (standing) await watch?.check();

  const done = workers.done.finally(async () => {
    watch?.stop();
    admission.stop();
    await server.close();
    await connection.close();
  });
  log.info(`builder ${config.builderId} builds for ${architecture}, serves ${levels.join(', ')}` +
    Object.entries(missing).map(([level, lacks]) => ` (not ${level}: CPU lacks ${lacks.join(', ')})`).join('') +
    ` with ${config.slots} slot(s), ${config.jobs} job(s) each; ${identity ? `enrolled (${trust})` : 'NOT enrolled (started in-process without an identity: results unsigned, vessel refuses them)'}; queues ${workers.queues.join(', ')}; ` +
    `artefacts at ${artefactBaseUrl}; build root ${config.buildRoot ?? 'host /usr'}; data in ${config.dataDir}; ` +
    `per build: memory ${formatBytes(config.limits.memoryBytes)}, ${config.limits.tasks} tasks, cpu weight ${config.limits.cpuWeight}, ` +
    `time ${formatDuration(config.limits.timeMs)}, disk ${formatBytes(config.limits.diskBytes)}, log ${formatBytes(config.limits.logBytes)}, ` +
    `network ${config.limits.networkAllowed ? 'when the recipe asks and its repository allows it' : 'never'} (cgroup v${cgroups.version}); ` +
    `admits builds while load per CPU ≤ ${config.admission.maxLoadPerCpu ?? 'any'}, available memory ≥ ${formatBytes(config.admission.minFreeMemory ?? 0)}, free disk ≥ ${formatBytes(config.admission.minFreeDisk ?? 0)}` +
    (config.share.cpuWeight !== undefined || config.share.memoryBytes !== undefined
      ? `; its builds together: cpu weight ${config.share.cpuWeight ?? 'unset'}, memory ${config.share.memoryBytes === undefined ? 'unset' : formatBytes(config.share.memoryBytes)}`
      : ''), { builderId: config.builderId });
  if (config.corruptArtefacts) log.warn('SUMMIT_TEST_CORRUPT_ARTEFACTS=1: every .stone is damaged after the build (test-only)');
  return {
    runtime, artefactBaseUrl, done,
    status: () => builderStatus(runtime),
    stop: async () => {
      workers.stopAll();
      await done;
    },
  };
}

/** Why a builder may not start polling at all: unknown to the registry, or revoked (a drain only closes the gate). */
function standingRefusal(s: BuilderStanding): string | undefined {
  if (!s.enrolled || s.state === 'revoked') return `${standingClosures(s)[0]}: it polls for no build (enrol it again with a new token from \`summit builders enrol-token\`, after removing its credential)`;
  return undefined;
}

async function main(): Promise<void> {
  const config = loadAvalancheConfig();
  requirePayloadKeys(config);
  const log = startRoleLogging(process.env, 'avalanche');
  // Not enrolled (no saved credential, no SUMMIT_ENROL_TOKEN) or refused: exit before polling anything.
  const identity = await loadOrEnrol({ dataDir: config.dataDir, builderId: config.builderId, apiUrl: config.apiUrl, token: config.enrolToken });
  const running = await startAvalanche(config, log, {}, identity);
  // Tell the hub this builder exists and what it can take, until it stops.
  const connection = await Connection.connect({ address: config.temporalAddress });
  const heartbeat = startBuilderHeartbeat(new Client({ connection, namespace: config.namespace, dataConverter: dataConverterFor(config) }), () => running.status(), config.heartbeatMs, (m) => log.warn(m, { builderId: config.builderId }));
  // The SDK runtime also shuts the workers down on these signals; stopping twice is harmless.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void running.stop());
  try {
    await running.done;
  } finally {
    heartbeat.stop();
    await connection.close();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`avalanche: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
