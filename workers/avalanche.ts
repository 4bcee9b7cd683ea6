/**
 * The avalanche (builder) worker. A table of contents: parse the configuration, detect the ISA levels this CPU
 * serves, start the artefact server, then one Temporal Worker per served ISA queue (builds, sharing the
 * builder's slots) and one on the builder's own queue (clean-up of the artefacts it holds).
 *
 *   SUMMIT_TEMPORAL_ADDRESS       Temporal frontend, host:port (default 127.0.0.1:7233)
 *   SUMMIT_TEMPORAL_NAMESPACE     (default "default")
 *   SUMMIT_DATA_DIR               data folder (default .summit); avalanche keeps everything under <data>/avalanche
 *   SUMMIT_BUILDER_ID             this builder's id (default: the host name, made id-safe)
 *   SUMMIT_BUILDER_SLOTS          builds at once (default 1)
 *   SUMMIT_BUILDER_ISA            ISA levels to serve, comma-separated (default: all the CPU can build)
 *   SUMMIT_BUILDER_HEARTBEAT      how often to tell the hub this builder is alive (default 10s)
 *   SUMMIT_BUILD_JOBS             %(jobs), compile jobs per build (default: CPUs / slots, at least 1)
 *   SUMMIT_BUILD_ROOT             a rootfs directory to build in (default: the host's /usr, read-only)
 *   SUMMIT_AVALANCHE_PORT         artefact server port (default 8090; 0 picks a free one)
 *   SUMMIT_AVALANCHE_HOST         address it binds (default 0.0.0.0)
 *   SUMMIT_AVALANCHE_PUBLIC_URL   how vessel reaches it (default http://<host name>:<port>)
 *   SUMMIT_ARTEFACT_TOKEN_TTL     lifetime of artefact tokens, e.g. 30m, 6h (default 6h)
 *   SUMMIT_TEST_CORRUPT_ARTEFACTS test-only fault switch: 1 damages every .stone after hashing it (default off)
 *   SUMMIT_LOCAL_SOURCES          folders upstreams may be read from by path or file:// (default none)
 *   SUMMIT_REPOSITORY_ROOTS       folders recipe repositories may be cloned from by path (default the data folder)
 *   SUMMIT_MAX_UPSTREAM_SIZE      largest upstream download, e.g. 500M (default 2G)
 *   SUMMIT_UPSTREAM_TIMEOUT       connect and idle timeout of a download (default 60s)
 *   SUMMIT_BUILD_MEMORY, _TASKS, _CPU_WEIGHT, _TIME, _DISK, _LOG   per-build limits (core/build/limits.ts defaults)
 *   SUMMIT_BUILD_NETWORK          1 lets `networking: true` recipes have the network (default 0: they fail)
 *   SUMMIT_BUILD_UID_BASE         first host uid of the build containers' user namespace (default 0x7e000000)
 *
 * The token secret is generated into <data>/avalanche/artefact-secret (0600) on first start; it has no setting.
 * On start it removes what builds killed with an earlier process left (workers/avalanche/leftovers.ts).
 * SIGINT/SIGTERM stop it cleanly: the SDK stops polling, running builds get a short grace and are then cancelled
 * (their containers killed) so Temporal retries them on another builder.
 */
import { spawnSync } from 'node:child_process';
import { readFile, statfs } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { startBuilderHeartbeat } from './heartbeat';
import { payloadKeySettings, requirePayloadKeys, type PayloadKeySettings } from './payload-keys';
import { dataConverterFor } from './temporal';
import { ConfigError, parseConfig, repositoryRoots } from '../core/config';
import type { SourcePolicy } from '../core/security/source-url';
import { startArtefactServer } from './avalanche/artefact-server';
import { createAvalancheActivities, DEFAULT_UID_BASE } from '../activities/avalanche/build';
import { prepareCgroupHost } from '../activities/avalanche/cgroup';
import { cleanLeftovers } from './avalanche/leftovers';
import { DEFAULT_LIMITS, formatBytes, formatDuration, type BuildLimits } from '../core/build/limits';
import { BuildSlots } from './avalanche/build-slots';
import { artefactTokenSigner, loadOrCreateSecret } from './avalanche/secret';
import { detectIsaLevels } from '../core/isa';
import type { BuilderStatus } from '../core/contracts/hub';
import { builderId, type BuilderId } from '../core/contracts/ids';
import { builderQueue, isaQueue, type IsaLevel } from '../core/contracts/queues';

export interface AvalancheWorkerConfig extends PayloadKeySettings {
  temporalAddress: string;
  namespace: string;
  dataDir: string;
  builderId: BuilderId;
  slots: number;
  jobs: number;
  buildRoot?: string;
  port: number;
  host: string;
  publicUrl?: string;
  tokenTtlSeconds: number;
  corruptArtefacts: boolean;
  /**
   * ISA levels to serve, when fewer than the CPU could: each served level's queue holds a build slot while it
   * long-polls, so a one-slot builder polling a level nobody builds waits up to a minute between builds.
   */
  isaLevels?: IsaLevel[];
  /** How often the builder tells the hub it is alive (the hub forgets it after three missed beats). */
  heartbeatMs: number;
  /** Where upstreams and recipe repositories may come from (SUMMIT_LOCAL_SOURCES, SUMMIT_REPOSITORY_ROOTS, limits). */
  sources: SourcePolicy;
  /** What one build may use. */
  limits: BuildLimits;
  /** First host uid of the build containers' user namespace. */
  uidBase: number;
}

/** Avalanche's part of the one configuration schema (core/config.ts), plus the checks that need the disk. */
export function loadAvalancheConfig(env: NodeJS.ProcessEnv = process.env): AvalancheWorkerConfig {
  const c = parseConfig(env);
  if (c.SUMMIT_BUILD_ROOT !== undefined && !(existsSync(c.SUMMIT_BUILD_ROOT) && statSync(c.SUMMIT_BUILD_ROOT).isDirectory())) {
    throw new ConfigError(`invalid configuration:\n  SUMMIT_BUILD_ROOT: an existing directory (got ${JSON.stringify(c.SUMMIT_BUILD_ROOT)})`);
  }
  // Steps become the build user through the build root's own setpriv (core/build/step-script.ts, stepCommand).
  if (c.SUMMIT_BUILD_ROOT !== undefined && !existsSync(`${c.SUMMIT_BUILD_ROOT}/usr/bin/setpriv`)) {
    throw new ConfigError(`invalid configuration:\n  SUMMIT_BUILD_ROOT: ${c.SUMMIT_BUILD_ROOT} has no usr/bin/setpriv (util-linux), which the build steps need to drop root`);
  }
  const slots = c.SUMMIT_BUILDER_SLOTS ?? 1;
  return {
    temporalAddress: c.SUMMIT_TEMPORAL_ADDRESS,
    namespace: c.SUMMIT_TEMPORAL_NAMESPACE,
    dataDir: resolve(c.SUMMIT_DATA_DIR),
    builderId: builderId(c.SUMMIT_BUILDER_ID ?? defaultBuilderId()),
    slots,
    jobs: c.SUMMIT_BUILD_JOBS ?? Math.max(1, Math.floor(os.availableParallelism() / slots)),
    buildRoot: c.SUMMIT_BUILD_ROOT && resolve(c.SUMMIT_BUILD_ROOT),
    port: c.SUMMIT_AVALANCHE_PORT ?? 8090,
    host: c.SUMMIT_AVALANCHE_HOST,
    publicUrl: c.SUMMIT_AVALANCHE_PUBLIC_URL?.replace(/\/+$/, ''),
    tokenTtlSeconds: c.SUMMIT_ARTEFACT_TOKEN_TTL === undefined ? 6 * 3600 : Math.round(c.SUMMIT_ARTEFACT_TOKEN_TTL / 1000),
    corruptArtefacts: c.SUMMIT_TEST_CORRUPT_ARTEFACTS === '1',
    isaLevels: c.SUMMIT_BUILDER_ISA,
    heartbeatMs: c.SUMMIT_BUILDER_HEARTBEAT ?? 10_000,
    sources: {
      localSources: (c.SUMMIT_LOCAL_SOURCES ?? []).map((p) => resolve(p)),
      repositoryRoots: repositoryRoots(c).map((p) => resolve(p)),
      maxUpstreamBytes: c.SUMMIT_MAX_UPSTREAM_SIZE,
      upstreamTimeoutMs: c.SUMMIT_UPSTREAM_TIMEOUT,
    },
    ...payloadKeySettings(c),
    limits: {
      memoryBytes: c.SUMMIT_BUILD_MEMORY ?? DEFAULT_LIMITS.memoryBytes,
      tasks: c.SUMMIT_BUILD_TASKS ?? DEFAULT_LIMITS.tasks,
      cpuWeight: c.SUMMIT_BUILD_CPU_WEIGHT ?? DEFAULT_LIMITS.cpuWeight,
      timeMs: c.SUMMIT_BUILD_TIME ?? DEFAULT_LIMITS.timeMs,
      diskBytes: c.SUMMIT_BUILD_DISK ?? DEFAULT_LIMITS.diskBytes,
      logBytes: c.SUMMIT_BUILD_LOG ?? DEFAULT_LIMITS.logBytes,
      networkAllowed: c.SUMMIT_BUILD_NETWORK === '1',
    },
    uidBase: c.SUMMIT_BUILD_UID_BASE ?? DEFAULT_UID_BASE,
  };
}

/** The host name, made a valid builder id (`build-01.farm` stays, `my_host` becomes `my_host`, `-x` becomes `x`). */
function defaultBuilderId(): string {
  return os.hostname().replace(/[^A-Za-z0-9._+-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'builder';
}

/** What a builder can do, read once at start. */
export interface AvalancheRuntime {
  config: AvalancheWorkerConfig;
  isaLevels: IsaLevel[];
  slots: BuildSlots;
}

/** This builder as summit sees it (the hub's builder heartbeat carries it). */
export async function builderStatus(runtime: AvalancheRuntime): Promise<BuilderStatus> {
  const fs = await statfs(runtime.config.dataDir);
  return {
    id: runtime.config.builderId,
    host: os.hostname(),
    isaLevels: runtime.isaLevels,
    slots: runtime.slots.capacity,
    busy: runtime.slots.busy,
    diskFree: fs.bavail * fs.bsize,
  };
}

export interface RunningAvalanche {
  runtime: AvalancheRuntime;
  /** The artefact server's base URL as given to vessel. */
  artefactBaseUrl: string;
  status(): Promise<BuilderStatus>;
  /** Resolves once every worker has stopped and the server is closed. */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Refuse to start where builds cannot run, rather than fail every build later. */
function checkBuildHost(): void {
  if (process.getuid?.() !== 0) throw new Error('avalanche runs builds in systemd-nspawn, which needs root');
  for (const [tool, args] of [['systemd-nspawn', ['--version']], ['setpriv', ['--version']], ['git', ['--version']], ['tar', ['--version']]] as const) {
    const probe = spawnSync(tool, args, { stdio: 'ignore' });
    if (probe.error || probe.status !== 0) throw new Error(`avalanche needs ${tool} on PATH (systemd-container, util-linux, git, tar)`);
  }
}

export async function startAvalanche(config: AvalancheWorkerConfig): Promise<RunningAvalanche> {
  checkBuildHost();
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const detected = detectIsaLevels(cpuinfo);
  const { missingForV3x } = detected;
  const unsupported = (config.isaLevels ?? []).filter((l) => !detected.levels.includes(l));
  if (unsupported.length > 0) {
    throw new Error(`SUMMIT_BUILDER_ISA asks for ${unsupported.join(', ')}, which this CPU cannot build (missing flags: ${missingForV3x.join(' ')})`);
  }
  const levels = config.isaLevels ?? detected.levels;
  // Before any build: the limits need their cgroups, and what killed builds left must not meet new ones.
  const cgroups = await prepareCgroupHost();
  const left = await cleanLeftovers({ dataDir: config.dataDir, builderId: config.builderId, cgroups });
  if (left.work.length + left.propagate.length + left.cgroups.length > 0) {
    console.log(`avalanche: removed leftovers of killed builds: ${left.work.length} work folder(s), ${left.propagate.length} nspawn folder(s), ${left.cgroups.length} cgroup(s)`);
  }
  const runtime: AvalancheRuntime = { config, isaLevels: levels, slots: new BuildSlots(config.slots) };
  const secret = await loadOrCreateSecret(config.dataDir);
  const server = await startArtefactServer({
    dataDir: config.dataDir, secret, port: config.port, host: config.host,
    log: (message, meta) => console.warn(`avalanche: ${message} ${JSON.stringify(meta)}`),
  });
  const artefactBaseUrl = config.publicUrl ?? `http://${os.hostname()}:${server.port}`;
  const activities = createAvalancheActivities({
    dataDir: config.dataDir, builderId: config.builderId, buildRoot: config.buildRoot, artefactBaseUrl,
    tokens: artefactTokenSigner(secret, config.tokenTtlSeconds), jobs: config.jobs, corruptArtefacts: config.corruptArtefacts,
    sources: config.sources,
    limits: config.limits, uidBase: config.uidBase, cgroups,
  });

  const connection = await NativeConnection.connect({ address: config.temporalAddress }).catch(async (err) => {
    await server.close();
    throw err;
  });
  const workers: Worker[] = [];
  try {
    for (const isa of levels) {
      workers.push(await Worker.create({
        connection, namespace: config.namespace, taskQueue: isaQueue(isa), dataConverter: dataConverterFor(config),
        activities: { buildRecipe: activities.buildRecipe },
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
      }));
    }
    workers.push(await Worker.create({
      connection, namespace: config.namespace, taskQueue: builderQueue(config.builderId), dataConverter: dataConverterFor(config),
      activities: { cleanupBuild: activities.cleanupBuild },
      maxConcurrentActivityTaskExecutions: 4,
    }));
  } catch (err) {
    await server.close();
    await connection.close();
    throw err;
  }

  const done = Promise.all(workers.map((w) => w.run())).then(
    () => undefined,
    (err: unknown) => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      throw err;
    },
  ).finally(async () => {
    await server.close();
    await connection.close();
  });
  console.log(`avalanche: builder ${config.builderId} serves ${levels.join(', ')}` +
    (missingForV3x.length ? ` (not x86_64-v3x: CPU lacks ${missingForV3x.join(', ')})` : '') +
    ` with ${config.slots} slot(s), ${config.jobs} job(s) each; queues ${[...levels.map(isaQueue), builderQueue(config.builderId)].join(', ')}; ` +
    `artefacts at ${artefactBaseUrl}; build root ${config.buildRoot ?? 'host /usr'}; data in ${config.dataDir}; ` +
    `per build: memory ${formatBytes(config.limits.memoryBytes)}, ${config.limits.tasks} tasks, cpu weight ${config.limits.cpuWeight}, ` +
    `time ${formatDuration(config.limits.timeMs)}, disk ${formatBytes(config.limits.diskBytes)}, log ${formatBytes(config.limits.logBytes)}, ` +
    `network ${config.limits.networkAllowed ? 'when the recipe asks' : 'never'} (cgroup v${cgroups.version})`);
  if (config.corruptArtefacts) console.warn('avalanche: SUMMIT_TEST_CORRUPT_ARTEFACTS=1: every .stone is damaged after the build (test-only)');
  return {
    runtime, artefactBaseUrl, done,
    status: () => builderStatus(runtime),
    stop: async () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await done;
    },
  };
}

async function main(): Promise<void> {
  const config = loadAvalancheConfig();
  requirePayloadKeys(config);
  const running = await startAvalanche(config);
  // Tell the hub this builder exists and what it can take, until it stops.
  const connection = await Connection.connect({ address: config.temporalAddress });
  const heartbeat = startBuilderHeartbeat(new Client({ connection, namespace: config.namespace, dataConverter: dataConverterFor(config) }), () => running.status(), config.heartbeatMs);
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
