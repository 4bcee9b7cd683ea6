/**
 * The builder's settings: avalanche's part of the one configuration schema (core/config.ts), parsed once at
 * start-up, plus the checks that need the disk.
 *
 *   SUMMIT_TEMPORAL_ADDRESS       Temporal frontend, host:port (default 127.0.0.1:7233)
 *   SUMMIT_TEMPORAL_NAMESPACE     (default "default")
 *   SUMMIT_DATA_DIR               data folder (default .summit); avalanche keeps everything under <data>/avalanche
 *   SUMMIT_BUILDER_ID             this builder's id (default: the host name, made id-safe)
 *   SUMMIT_BUILDER_SLOTS          builds at once (default 1)
 *   SUMMIT_PROFILE                the farm's profile: architectures and ISA levels (core/profile.ts; default x86_64, x86_64-v3x)
 *   SUMMIT_BUILDER_ARCH           the architecture it builds for (default: the machine's, uname -m)
 *   SUMMIT_BUILDER_BACKLOG        builds accepted ahead of the slots, started longest critical path first (default 0)
 *   SUMMIT_BUILDER_ISA            ISA levels to serve, comma-separated (default: all the CPU can build)
 *   SUMMIT_API_URL                the API it enrols with and reads its standing from (default http://SUMMIT_API_HOST:SUMMIT_API_PORT)
 *   SUMMIT_ENROL_TOKEN            one-time enrolment token, spent on the first start (then <data>/avalanche/identity.*)
 *   SUMMIT_ENROL_TOKEN_FILE       the same, from a file (a Docker secret)
 *   SUMMIT_BUILDER_SHARED_QUEUES  a trusted builder polls the try/verification queues too: always, auto (slots > levels), never (default)
 *   SUMMIT_BUILDER_HEARTBEAT      how often to tell the hub this builder is alive (default 10s)
 *   SUMMIT_BUILDER_MAX_LOAD       admission: highest 1-minute load per CPU to start a build at (default: not checked)
 *   SUMMIT_BUILDER_MIN_FREE_MEMORY  admission: least available memory to start a build with (default 1G; 0: not checked)
 *   SUMMIT_BUILDER_MIN_FREE_DISK  admission: least free disk in the data folder to start a build with (default 2G; 0: not checked)
 *   SUMMIT_BUILDER_CPU_WEIGHT, SUMMIT_BUILDER_MEMORY  this builder's share of a shared host: all its builds together (default: none)
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
 *   SUMMIT_BUILD_NETWORK          1 lets `networking: true` recipes of repositories that allow it have the network (default 0: they fail)
 *   SUMMIT_BUILD_UID_BASE         first host uid of the build containers' user namespace (default 0x7e000000)
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_UID_BASE } from '../../activities/avalanche/build';
import { DEFAULT_LIMITS, type BuildLimits } from '../../core/build/limits';
import type { AdmissionThresholds } from '../../core/builder/health';
import type { BuilderShare } from './share';
import { apiUrlOf, ConfigError, parseConfig, repositoryRoots } from '../../core/config';
import { builderId, type BuilderId } from '../../core/contracts/ids';
import type { IsaLevel } from '../../core/contracts/queues';
import type { SourcePolicy } from '../../core/security/source-url';
import { payloadKeySettings, type PayloadKeySettings } from '../payload-keys';
import { loadProfile } from '../profile';
import type { FarmProfile } from '../../core/profile';

export interface AvalancheWorkerConfig extends PayloadKeySettings {
  temporalAddress: string;
  namespace: string;
  dataDir: string;
  builderId: BuilderId;
  slots: number;
  /** Builds accepted beyond the slots, waiting for one in priority order (activities/avalanche/build-queue.ts). */
  backlog: number;
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
  /** The farm's profile (SUMMIT_PROFILE): which levels exist, per architecture. */
  profile: FarmProfile;
  /** The architecture it builds for, when not the machine's (SUMMIT_BUILDER_ARCH). */
  architecture?: string;
  /** The API: enrolment, and the builder's standing at every heartbeat (workers/avalanche/identity.ts, standing.ts). */
  apiUrl: string;
  /** Whether a trusted builder polls the shared queues too (SUMMIT_BUILDER_SHARED_QUEUES; avalanche.ts pollQueues). */
  sharedQueues: 'auto' | 'always' | 'never';
  /** SUMMIT_ENROL_TOKEN: spent once when the data folder holds no credential yet. */
  enrolToken?: string;
  /** How often the builder tells the hub it is alive (the hub forgets it after three missed beats). */
  heartbeatMs: number;
  /** Past one of these the builder takes no new build until it recovers (workers/avalanche/admission.ts). */
  admission: AdmissionThresholds;
  /** CPU weight and memory of all this builder's builds together, against other builders of the host (workers/avalanche/share.ts). */
  share: BuilderShare;
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
    backlog: c.SUMMIT_BUILDER_BACKLOG,
    jobs: c.SUMMIT_BUILD_JOBS ?? Math.max(1, Math.floor(os.availableParallelism() / slots)),
    buildRoot: c.SUMMIT_BUILD_ROOT && resolve(c.SUMMIT_BUILD_ROOT),
    port: c.SUMMIT_AVALANCHE_PORT ?? 8090,
    host: c.SUMMIT_AVALANCHE_HOST,
    publicUrl: c.SUMMIT_AVALANCHE_PUBLIC_URL?.replace(/\/+$/, ''),
    tokenTtlSeconds: c.SUMMIT_ARTEFACT_TOKEN_TTL === undefined ? 6 * 3600 : Math.round(c.SUMMIT_ARTEFACT_TOKEN_TTL / 1000),
    corruptArtefacts: c.SUMMIT_TEST_CORRUPT_ARTEFACTS === '1',
    isaLevels: c.SUMMIT_BUILDER_ISA,
    profile: loadProfile(c),
    architecture: c.SUMMIT_BUILDER_ARCH,
    heartbeatMs: c.SUMMIT_BUILDER_HEARTBEAT ?? 10_000,
    apiUrl: apiUrlOf(c),
    enrolToken: c.SUMMIT_ENROL_TOKEN ?? (c.SUMMIT_ENROL_TOKEN_FILE !== undefined && existsSync(c.SUMMIT_ENROL_TOKEN_FILE) ? readFileSync(c.SUMMIT_ENROL_TOKEN_FILE, 'utf8').trim() || undefined : undefined),
    sharedQueues: c.SUMMIT_BUILDER_SHARED_QUEUES,
    admission: {
      maxLoadPerCpu: c.SUMMIT_BUILDER_MAX_LOAD,
      minFreeMemory: c.SUMMIT_BUILDER_MIN_FREE_MEMORY || undefined,
      minFreeDisk: c.SUMMIT_BUILDER_MIN_FREE_DISK || undefined,
    },
    share: { cpuWeight: c.SUMMIT_BUILDER_CPU_WEIGHT, memoryBytes: c.SUMMIT_BUILDER_MEMORY },
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
