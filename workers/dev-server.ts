import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { Connection } from '@temporalio/client';
import { BUILD_SEARCH_ATTRIBUTES } from '../core/contracts/search-attributes';

/**
 * The Temporal CLI dev server (`temporal server start-dev`), for `npm start` and the tests: started as a child
 * process, ready once the namespace answers and the build search attributes are registered.
 */
export interface DevServerOptions {
  bin: string;
  port: number;
  ip?: string;
  /** Web UI port; absent means headless. */
  uiPort?: number;
  /** SQLite file to keep history across restarts; absent means in memory. */
  dbFile?: string;
  namespace?: string;
  searchAttributes?: Readonly<Record<string, string>>;
  /** Where the server's own output goes. */
  logFile: string;
  readyTimeoutMs?: number;
}

export interface DevServer {
  readonly address: string;
  readonly namespace: string;
  readonly uiUrl?: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

export class DevServerError extends Error {
  override readonly name = 'DevServerError';
  constructor(message: string, readonly portTaken: boolean) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function tailOf(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** True once the frontend answers for the namespace and every requested search attribute is registered. */
export async function devServerReady(address: string, namespace: string, attributes: readonly string[]): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 1_000 });
    await connection.workflowService.describeNamespace({ namespace });
    const listed = await connection.operatorService.listSearchAttributes({ namespace });
    const custom = listed.customAttributes ?? {};
    return attributes.every((name) => name in custom);
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const ip = opts.ip ?? '127.0.0.1';
  const namespace = opts.namespace ?? 'default';
  const attributes = opts.searchAttributes ?? BUILD_SEARCH_ATTRIBUTES;
  const address = `${ip}:${opts.port}`;
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(opts.port), '--log-level', 'warn'];
  if (opts.uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(opts.uiPort));
  if (opts.dbFile) args.push('--db-filename', opts.dbFile);
  if (namespace !== 'default') args.push('--namespace', namespace);
  for (const [name, kind] of Object.entries(attributes)) args.push('--search-attribute', `${name}=${kind}`);

  const logFd = fs.openSync(opts.logFile, 'a');
  const child = spawn(opts.bin, args, { stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  // If this process dies without stopping it, the server must not outlive it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    await stopChild(child);
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = tailOf(opts.logFile);
      await stop();
      throw new DevServerError(`temporal server start-dev exited (${child.exitCode ?? child.signalCode}):\n${log}`, /address already in use/i.test(log));
    }
    if (await devServerReady(address, namespace, Object.keys(attributes))) {
      return { address, namespace, logFile: opts.logFile, child, stop, uiUrl: opts.uiPort === undefined ? undefined : `http://${ip}:${opts.uiPort}` };
    }
    await sleep(100);
  }
  const log = tailOf(opts.logFile);
  await stop();
  throw new DevServerError(`temporal server start-dev did not answer on ${address} within ${opts.readyTimeoutMs ?? 30_000} ms:\n${log}`, false);
}
