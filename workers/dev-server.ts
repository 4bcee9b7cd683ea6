import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
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
  /** The Temporal UI's codec endpoint (`--ui-codec-endpoint`), e.g. `http://127.0.0.1:3000/codec`. */
  uiCodecEndpoint?: string;
}

export interface DevServer {
  readonly address: string;
  readonly namespace: string;
  readonly uiUrl?: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  /**
   * Settles when the server process ends: after stop(), or on its own (a crash, the OOM killer, kill -9). A
   * caller that depends on the server watches this and stops rather than run on without Temporal.
   */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

export class DevServerError extends Error {
  override readonly name = 'DevServerError';
  constructor(message: string, readonly portTaken: boolean) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What a log got from byte `from` on (at most its last megabyte), or nothing. */
function logSince(file: string, from: number): string {
  try {
    return fs.readFileSync(file).subarray(from).toString('utf8').slice(-1024 * 1024);
  } catch {
    return '';
  }
}

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

/**
 * Refuses a port something already listens on, naming it: the server would fail to bind anyway, and a client
 * would otherwise connect to whatever holds it — typically an orphan dev server of an earlier run, whose history
 * is not the one in our data folder.
 */
export async function checkPortFree(ip: string, port: number, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE') return reject(err);
      reject(new DevServerError(
        `${what}: port ${port} on ${ip} is already in use (an orphan Temporal dev server of an earlier run? see: ss -ltnp 'sport = :${port}'); ` +
          'stop that process or choose another port', true));
    });
    probe.listen({ host: ip, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/**
 * Start the dev server and wait until it answers. Besides the ports it is given, the server picks free ports of
 * its own for its internal services; another process may take one between its pick and its bind (tests start
 * many servers at once), and the server then exits with "address already in use" on that port. That start is
 * tried again (three times at most); a port it was given being taken is reported at once.
 */
export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const given = new Set([opts.port, ...(opts.uiPort === undefined ? [] : [opts.uiPort])]);
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchDevServer(opts);
    } catch (err) {
      const internal = err instanceof DevServerError && err.portTaken && takenPorts(err.message).some((p) => !given.has(p));
      if (!internal || attempt >= 3) throw err;
    }
  }
}

/** The ports a server log says could not be bound ("listen tcp 127.0.0.1:46883: bind: address already in use"). */
export function takenPorts(log: string): number[] {
  return [...log.matchAll(/listen tcp \S*?:(\d+): bind: address already in use/gi)].map((m) => Number(m[1]));
}

async function launchDevServer(opts: DevServerOptions): Promise<DevServer> {
  const ip = opts.ip ?? '127.0.0.1';
  const namespace = opts.namespace ?? 'default';
  const attributes = opts.searchAttributes ?? BUILD_SEARCH_ATTRIBUTES;
  const address = `${ip}:${opts.port}`;
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(opts.port), '--log-level', 'warn'];
  if (opts.uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(opts.uiPort));
  // A write-ahead log, synced at checkpoints rather than on every commit: a workflow task's writes no longer wait
  // for several fsyncs (SQLite's default journal), and a crash of the process loses nothing committed (a power
  // loss may lose the last moments; production runs the Temporal server on PostgreSQL).
  if (opts.dbFile) args.push('--db-filename', opts.dbFile, '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  if (namespace !== 'default') args.push('--namespace', namespace);
  for (const [name, kind] of Object.entries(attributes)) args.push('--search-attribute', `${name}=${kind}`);
  if (opts.uiCodecEndpoint) args.push('--ui-codec-endpoint', opts.uiCodecEndpoint);

  await checkPortFree(ip, opts.port, 'temporal server start-dev');
  if (opts.uiPort !== undefined) await checkPortFree(ip, opts.uiPort, 'temporal server start-dev (web UI)');
  const logFd = fs.openSync(opts.logFile, 'a');
  // The log is appended to across starts (npm start keeps one): this start's part begins here.
  const logStart = fs.fstatSync(logFd).size;
  // The kernel kills the server when this process dies, however it dies (kill -9 included), through the
  // parent-death signal setpriv sets before exec'ing it; an 'exit' handler alone runs only on a clean exit.
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', opts.bin, ...args], { stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // No setpriv (util-linux) or no binary: spawn fails without an 'exit'.
    child.once('error', () => resolve({ code: child.exitCode, signal: child.signalCode }));
  });
  let spawnError: Error | undefined;
  child.once('error', (err) => { spawnError = err; });
  // If this process dies without stopping it, the server must not outlive it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    await stopChild(child);
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (spawnError) {
      process.removeListener('exit', killOnExit);
      throw new DevServerError(`cannot run setpriv --pdeathsig KILL -- ${opts.bin} (util-linux's setpriv and the Temporal CLI are needed): ${spawnError.message}`, false);
    }
    if (child.exitCode !== null || child.signalCode !== null) {
      // The cause may be far above the tail (a port lost at bind ends in a long panic trace): look at the whole
      // log for it, and name its error lines first.
      const whole = logSince(opts.logFile, logStart);
      const errors = whole.split('\n').filter((l) => /level=ERROR|^panic:/.test(l)).slice(0, 5);
      await stop();
      throw new DevServerError(
        `temporal server start-dev exited (${child.exitCode ?? child.signalCode}):\n${errors.length ? `${errors.join('\n')}\n…\n` : ''}${tailOf(opts.logFile)}`,
        /address already in use/i.test(whole),
      );
    }
    if (await devServerReady(address, namespace, Object.keys(attributes))) {
      return { address, namespace, logFile: opts.logFile, child, exited, stop, uiUrl: opts.uiPort === undefined ? undefined : `http://${ip}:${opts.uiPort}` };
    }
    await sleep(100);
  }
  const log = tailOf(opts.logFile);
  await stop();
  throw new DevServerError(`temporal server start-dev did not answer on ${address} within ${opts.readyTimeoutMs ?? 30_000} ms:\n${log}`, false);
}
