import { join, resolve } from 'node:path';
import { Worker } from '@temporalio/worker';
import { createSummitActivities } from '../activities/summit';
import { clientSignals } from '../activities/summit/notify';
import { variantsFor } from '../core/variants';
import { loadProfile } from './profile';
import { Config, parseConfig } from '../core/config';
import { SUMMIT_QUEUE } from '../core/contracts/queues';
import { openDatabase } from '../db/orm';
import { Store } from '../db/store';
import type { HubOptions } from '../workflows/hub';
import { ensureHub, ensurePollSchedule } from './hub-control';
import { requirePayloadKeys, payloadKeySettings } from './payload-keys';
import { startRoleLogging } from './runtime';
import { connectClient, connectWorker, dataConverterFor } from './temporal';
import { temporalVerifications } from './verification-starter';

export interface RunningRole {
  /** Resolves when the role has stopped (after stop(), or when it failed). */
  done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The summit role: hub and build workflows plus summit's activities on the summit queue, the hub workflow
 * started if it is not running, the poll Schedule created or updated.
 */
export async function startSummit(config: Config, opts: { hub?: Partial<HubOptions> } = {}): Promise<RunningRole> {
  const dataDir = resolve(config.SUMMIT_DATA_DIR);
  const orm = await openDatabase({ url: config.SUMMIT_DATABASE_URL, dataDir });
  const store = new Store(orm);
  const profile = loadProfile(config);
  const connection = await connectWorker(config);
  const client = await connectClient(config);
  const worker = await Worker.create({
    connection,
    namespace: config.SUMMIT_TEMPORAL_NAMESPACE,
    taskQueue: SUMMIT_QUEUE,
    workflowsPath: require.resolve('../workflows'),
    dataConverter: dataConverterFor(config),
    activities: createSummitActivities({
      store,
      mirrorsDir: join(dataDir, 'mirrors'),
      variants: variantsFor(config.SUMMIT_VARIANTS, profile),
      profile,
      packagesBaseUrl: config.SUMMIT_PACKAGES_URL ?? `file://${join(dataDir, 'vessel', 'repos')}`,
      intakeLimits: { maxBytes: config.SUMMIT_RECIPE_MAX_BYTES, parseTimeoutMs: config.SUMMIT_RECIPE_PARSE_TIMEOUT, parseMemoryMb: config.SUMMIT_RECIPE_PARSE_MEMORY },
      cascadePolicy: config.SUMMIT_CASCADE_POLICY,
      verifications: temporalVerifications(client),
      verifySuspendAfter: config.SUMMIT_VERIFY_SUSPEND_AFTER,
      artefactOrigins: config.SUMMIT_ARTEFACT_ORIGINS,
      // The records that tell the hub and the wave themselves (activities/summit/notify.ts).
      signals: clientSignals(client),
    }),
  });
  await ensureHub(client, { prefetch: config.SUMMIT_DISPATCH_PREFETCH, ...opts.hub });
  await ensurePollSchedule(client, config.SUMMIT_POLL_INTERVAL);
  const done = worker.run().finally(async () => {
    await orm.close(true);
    await connection.close();
    await client.connection.close();
  });
  return {
    done,
    stop: async () => {
      // The SDK may already be stopping the worker on SIGINT/SIGTERM; shutting down twice throws.
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

async function main(): Promise<void> {
  const config = parseConfig(process.env);
  requirePayloadKeys(payloadKeySettings(config));
  const log = startRoleLogging(process.env, 'summit');
  const role = await startSummit(config);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void role.stop());
  log.info('summit worker started', { taskQueue: SUMMIT_QUEUE, temporal: config.SUMMIT_TEMPORAL_ADDRESS, sdkMetrics: config.SUMMIT_TEMPORAL_METRICS_ADDRESS ?? null });
  await role.done;
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`summit: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  });
}
