/**
 * Worker-side settings shared by test files that run a Temporal Worker in the jest process.
 */
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, type LogLevel, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { startTemporalTestServer, type TemporalTestServer } from './temporal';

/**
 * Installs the SDK runtime with a logger that prints only warnings and errors (SUMMIT_TEST_WORKER_LOG_LEVEL
 * overrides), so that a passing run is not buried under worker state changes and webpack's bundle report.
 * Call it in beforeAll before creating the first Worker or NativeConnection; the runtime is per process, so a
 * second call in the same jest worker process keeps the first one's settings.
 */
export function installQuietWorkerRuntime(): void {
  const level = (process.env.SUMMIT_TEST_WORKER_LOG_LEVEL ?? 'WARN') as LogLevel;
  try {
    Runtime.install({ logger: new DefaultLogger(level) });
  } catch {
    // Already installed or instantiated in this process: its logger stays.
  }
}

/** A dev server, the workflows' bundle, a worker connection and a client: one test file's Temporal set-up. */
export interface WorkflowTestEnvironment {
  bundle: WorkflowBundleWithSourceMap;
  server: TemporalTestServer;
  connection: NativeConnection;
  client: Client;
}

/**
 * Registers the beforeAll that makes a test file's Temporal set-up (the real workflows bundled, a dev server, a
 * worker connection, a client) and the afterAll that closes it. The fields are there once beforeAll has run.
 */
export function useWorkflowTestEnvironment(): WorkflowTestEnvironment {
  const env = {} as WorkflowTestEnvironment;
  let clientConnection: Connection | undefined;
  beforeAll(async () => {
    installQuietWorkerRuntime();
    [env.bundle, env.server] = await Promise.all([bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: QUIET }), startTemporalTestServer()]);
    env.connection = await NativeConnection.connect({ address: env.server.address });
    clientConnection = await Connection.connect({ address: env.server.address });
    env.client = new Client({ connection: clientConnection, namespace: env.server.namespace });
  });
  afterAll(async () => {
    await clientConnection?.close();
    await env.connection?.close();
    await env.server?.stop();
  });
  return env;
}

/** A logger for bundleWorkflowCode that says nothing. */
const QUIET = { log: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined, trace: () => undefined };
