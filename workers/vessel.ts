/**
 * The vessel worker: fetches, verifies and publishes build artefacts (VESSEL_QUEUE), and optionally serves the
 * published repositories over HTTP. A table of contents: parse the configuration, build the dependencies, start.
 *
 *   SUMMIT_TEMPORAL_ADDRESS    Temporal frontend, host:port (default 127.0.0.1:7233)
 *   SUMMIT_TEMPORAL_NAMESPACE  (default "default")
 *   SUMMIT_DATA_DIR            data folder (default .summit); vessel keeps everything under <data>/vessel
 *   SUMMIT_VESSEL_PORT         when set, serve <data>/vessel/repos on this port (0 picks a free one)
 *   SUMMIT_VESSEL_HOST         address the repository server binds (default 0.0.0.0)
 *   SUMMIT_PUBLISH_WINDOW      at most one publish of an index starts per this long (default 0ms: group commit only)
 *   SUMMIT_BUILD_ROOT          the builders' rootfs, whose C library and loader become the base packages (default /)
 *   SUMMIT_ARTEFACT_ORIGINS    origins of the builders' artefact servers, the only places vessel fetches from and
 *                              releases on (default: any http(s) origin)
 *   SUMMIT_API_URL             the API, where vessel reads the builder registry before every import (default
 *                              http://SUMMIT_API_HOST:SUMMIT_API_PORT)
 *
 * SIGINT/SIGTERM stop it cleanly: the SDK's worker stops polling and lets running activities finish (an import
 * interrupted harder converges when Temporal retries it); then the server and the connection close.
 */
import { resolve, join } from 'node:path';
import { NativeConnection, Worker } from '@temporalio/worker';
import { apiUrlOf, parseConfig } from '../core/config';
import type { FarmProfile } from '../core/profile';
import type { ArtefactOrigins } from '../core/security/artefact-origins';
import { loadProfile } from './profile';
import { VESSEL_QUEUE } from '../core/contracts/queues';
import { createVesselActivities, vesselDeps } from '../activities/vessel/activities';
import { httpBuilderRegistry } from '../activities/vessel/builder-check';
import { startRepositoryServer, type RepositoryServer } from './vessel/repository-server';
import { payloadKeySettings, requirePayloadKeys, type PayloadKeySettings } from './payload-keys';
import { startRoleLogging } from './runtime';
import { dataConverterFor } from './temporal';

export interface VesselConfig extends PayloadKeySettings {
  temporalAddress: string;
  namespace: string;
  vesselDir: string;
  httpPort?: number;
  httpHost: string;
  publishWindowMs: number;
  /** The build root the base packages are made from (SUMMIT_BUILD_ROOT, as the builders use it); default `/`. */
  buildRoot?: string;
  /** The farm's profile when SUMMIT_PROFILE sets one: which index a level's index layers on. */
  profile?: FarmProfile;
  /** The API whose builder registry every import is checked against (activities/vessel/builder-check.ts). */
  apiUrl: string;
  /** Where builders' artefact servers may be (SUMMIT_ARTEFACT_ORIGINS, core/security/artefact-origins.ts). */
  artefactOrigins: ArtefactOrigins;
}

/** Vessel's part of the one configuration schema (core/config.ts). */
export function loadVesselConfig(env: NodeJS.ProcessEnv = process.env): VesselConfig {
  const c = parseConfig(env);
  return {
    temporalAddress: c.SUMMIT_TEMPORAL_ADDRESS,
    namespace: c.SUMMIT_TEMPORAL_NAMESPACE,
    vesselDir: join(resolve(c.SUMMIT_DATA_DIR), 'vessel'),
    httpPort: c.SUMMIT_VESSEL_PORT,
    httpHost: c.SUMMIT_VESSEL_HOST,
    ...payloadKeySettings(c),
    publishWindowMs: c.SUMMIT_PUBLISH_WINDOW,
    buildRoot: c.SUMMIT_BUILD_ROOT,
    profile: c.SUMMIT_PROFILE === undefined ? undefined : loadProfile(c),
    apiUrl: apiUrlOf(c),
    artefactOrigins: c.SUMMIT_ARTEFACT_ORIGINS,
  };
}

export interface RunningVessel {
  /** Resolves when the worker has stopped (after stop(), a shutdown signal, or a failure). */
  done: Promise<void>;
  stop(): Promise<void>;
  /** Base URL of the repository server, when SUMMIT_VESSEL_PORT is set: `<url>/<index>/moss-root-index.json`. */
  repositoryUrl?: string;
  /** Where the published repositories live: `<reposDir>/<index>/`. */
  reposDir: string;
}

/** Start the worker (and the repository server if configured); `npm start` can run it in-process. */
export async function startVessel(config: VesselConfig): Promise<RunningVessel> {
  const deps = vesselDeps(config.vesselDir, {}, { windowMs: config.publishWindowMs }, { buildRoot: config.buildRoot, profile: config.profile }, {
    registry: httpBuilderRegistry(config.apiUrl),
    artefactOrigins: config.artefactOrigins,
  });
  const connection = await NativeConnection.connect({ address: config.temporalAddress });
  let server: RepositoryServer | undefined;
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.namespace,
      taskQueue: VESSEL_QUEUE,
      activities: createVesselActivities(deps),
      dataConverter: dataConverterFor(config),
    });
    if (config.httpPort !== undefined) server = await startRepositoryServer(deps.layout.reposDir, config.httpPort, config.httpHost);
    const done = worker.run().finally(async () => {
      await server?.close();
      await connection.close();
    });
    return {
      done,
      stop: async () => {
        // The SDK stops the worker on SIGINT/SIGTERM by itself, and shutdown() throws unless RUNNING.
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await done;
      },
      repositoryUrl: server?.url,
      reposDir: deps.layout.reposDir,
    };
  } catch (err) {
    await server?.close();
    await connection.close();
    throw err;
  }
}

async function main(): Promise<void> {
  const config = loadVesselConfig();
  requirePayloadKeys(config);
  const log = startRoleLogging(process.env, 'vessel');
  const vessel = await startVessel(config);
  // The SDK's worker also stops on these signals by itself; stop() tolerates that.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void vessel.stop());
  log.info('vessel worker started', { taskQueue: VESSEL_QUEUE, temporal: config.temporalAddress, namespace: config.namespace, reposDir: vessel.reposDir, repositoryUrl: vessel.repositoryUrl ?? null });
  await vessel.done;
  log.info('vessel worker stopped');
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`vessel: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  });
}
