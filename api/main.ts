import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { parseConfig, repositoryRoots, type Config } from '../core/config';
import { openDatabase } from '../db/orm';
import { Store } from '../db/store';
import { builderRegistryOf, readPremadeEnrolments } from '../db/builder-registry-store';
import { TokenStore } from '../db/token-store';
import { WebhookStore } from '../db/webhook-store';
import { SecretBox } from '../core/security/secret-box';
import { loadProfile } from '../workers/profile';
import { createApp } from './app';
import { Auth } from './auth';
import { loadOrCreateTokens, type TokenEntry } from './tokens';
import { jsonLogger, type Logger } from './logger';
import { TemporalPipeline } from './pipeline-temporal';
import { TemporalIndexAdmin } from './services/index-admin';
import { TemporalTries } from './services/tries';
import { IndexEventStore } from '../db/index-event-store';
import { listen } from './server';
import { hasPayloadKeys, loadPayloadKeys, payloadKeySettings, requirePayloadKeys } from '../workers/payload-keys';
import { dataConverterFor } from '../workers/temporal';
import { temporalVerifications } from '../workers/verification-starter';
import { dashboardOptions } from './dashboard/options';

/**
 * The API entry point: configuration, database, Temporal client, tokens (the bootstrap file's imported into the
 * token table), listen. A table of contents; the work is in app.ts and its routers.
 */
export interface RunningApi {
  url: string;
  close(): Promise<void>;
}

/** Requests still running when we stop get this long to finish before their connections are cut. */
const DRAIN_MS = 10_000;

/** Starts the API; `npm start` can call this in-process, `node dist/api/main.js` runs it alone. */
export async function startApi(config: Config, logger: Logger = jsonLogger(config.SUMMIT_LOG_LEVEL, 'api', config.SUMMIT_LOG_DIR)): Promise<RunningApi> {
  // Tokens first: if they were just generated, they are printed even when a later step fails, since the next
  // start reads the same file and will not print them again.
  const { tokens, path, created } = await loadOrCreateTokens(config.SUMMIT_DATA_DIR);
  if (created) printTokens(tokens, path);

  // Webhook secrets are sealed with a key derived from the payload keys; without keys the webhook routes say so (503).
  const keySettings = payloadKeySettings(config);
  const box = hasPayloadKeys(keySettings) ? new SecretBox(loadPayloadKeys(keySettings)) : undefined;

  const orm = await openDatabase({ url: config.SUMMIT_DATABASE_URL, dataDir: config.SUMMIT_DATA_DIR });
  const tokenStore = new TokenStore(orm);
  // The file's tokens become rows (hashed) once; a revoked one stays revoked (db/token-store.ts).
  await tokenStore.importBootstrap(tokens).catch(async (err: unknown) => {
    await orm.close(true);
    throw err;
  });
  // Lazy: the API comes up (and /health says so) while Temporal is still starting or down.
  const connection = Connection.lazy({ address: config.SUMMIT_TEMPORAL_ADDRESS });
  const dataConverter = dataConverterFor(config);
  const client = new Client({ connection, namespace: config.SUMMIT_TEMPORAL_NAMESPACE, dataConverter });
  const store = new Store(orm);
  // Enrolment tokens made before the API ran (docker-compose.yml's builders): accepted once each (issue 10).
  if (config.SUMMIT_ENROL_TOKEN_FILES) {
    const made = await builderRegistryOf(store).acceptPremade(await readPremadeEnrolments(config.SUMMIT_ENROL_TOKEN_FILES));
    if (made > 0) logger.info('pre-made enrolment tokens accepted', { count: made });
  }
  const app = createApp({
    store,
    pipeline: new TemporalPipeline(client, config.SUMMIT_TEMPORAL_ADDRESS),
    auth: new Auth(tokenStore, { publicReads: config.SUMMIT_API_PUBLIC_READS }),
    webhooks: { webhooks: new WebhookStore(orm), box },
    logger,
    repositoryRoots: repositoryRoots(config),
    artefactOrigins: config.SUMMIT_ARTEFACT_ORIGINS,
    codec: { codec: dataConverter?.payloadCodecs?.[0], uiOrigin: config.SUMMIT_CODEC_UI_ORIGIN },
    indexAdmin: new TemporalIndexAdmin(client, new IndexEventStore(orm)),
    tries: new TemporalTries(client, new Store(orm), config.SUMMIT_TRY_TTL),
    // A start is one call to the server: 10 s answers a person either way (503 past it).
    verifications: { start: (input) => client.withDeadline(Date.now() + 10_000, () => temporalVerifications(client).start(input)) },
    dashboard: dashboardOptions(config),
    // The profile's levels (SUMMIT_PROFILE): the queue-depth metric shows each of them, zero when nothing waits.
    isaLevels: loadProfile(config).levels.map((l) => l.level),
  });

  let server: Server;
  try {
    server = await listen(app, config.SUMMIT_API_PORT, config.SUMMIT_API_HOST);
  } catch (err) {
    await orm.close(true);
    await connection.close();
    throw err;
  }
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  logger.info('listening', { url, temporal: config.SUMMIT_TEMPORAL_ADDRESS, namespace: config.SUMMIT_TEMPORAL_NAMESPACE });

  return {
    url,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const cut = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
      await closed;
      clearTimeout(cut);
      await orm.close(true);
      await connection.close();
    },
  };
}

function printTokens(tokens: TokenEntry[], path: string): void {
  const lines = tokens.map((t) => `  ${t.role.padEnd(6)} ${t.token}`);
  process.stdout.write(
    `summit api: generated API tokens, shown only this once (kept in ${path}, mode 0600):\n${lines.join('\n')}\n` +
      'Send them as "Authorization: Bearer <token>"; the hook token is what `summit hook install` needs.\n' +
      'More tokens, with roles and expiry: `summit tokens create <name> --role viewer|contributor|builder|admin`.\n',
  );
}

/** What the API tells the process that forked it (workers/api-process.ts) once it accepts connections. */
export interface ApiReadyMessage {
  type: 'summit-api-listening';
  url: string;
}

async function main(): Promise<void> {
  const config = parseConfig(process.env);
  requirePayloadKeys(payloadKeySettings(config));
  const logger = jsonLogger(config.SUMMIT_LOG_LEVEL, 'api', config.SUMMIT_LOG_DIR);
  const api = await startApi(config, logger);
  let stopping = false;
  const stop = (signal: string) => {
    // A second Ctrl-C while draining means "now".
    if (stopping) process.exit(130);
    stopping = true;
    logger.info('stopping', { signal });
    api.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`summit api: error while stopping: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  if (process.send) {
    // Forked by `npm start`: the parent decides when we stop (SIGTERM), so a Ctrl-C, which reaches the whole
    // process group, is left to it; if the parent dies (even by kill -9) the IPC channel closes and we stop too.
    process.on('SIGINT', () => undefined);
    process.on('disconnect', () => stop('parent gone'));
    const ready: ApiReadyMessage = { type: 'summit-api-listening', url: api.url };
    process.send(ready);
  } else {
    process.on('SIGINT', stop);
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`summit api: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
