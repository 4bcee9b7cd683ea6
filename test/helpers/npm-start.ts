/**
 * Running `npm start` from a test as a user runs it in a terminal: its own process group, output collected, and
 * the processes it started found by process group and data folder (never by a name other runs share).
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join, resolve } from 'node:path';
import { readIndex, type IndexEntry } from '../../core/formats/repo-index';
import { parseRootIndex, resolveIndexPath } from '../../core/formats/root-index';
import { freePort } from '../support/temporal';

const ROOT = resolve(__dirname, '..', '..');

export interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * The environment of a test's `npm start`: its data folder and free ports for everything it listens on (the
 * Temporal address's port is `temporalPort` when the test needs to know it).
 */
export async function npmStartEnv(dataDir: string, temporalPort?: number): Promise<Record<string, string>> {
  return {
    SUMMIT_DATA_DIR: dataDir,
    SUMMIT_API_PORT: String(await freePort()),
    SUMMIT_TEMPORAL_ADDRESS: `127.0.0.1:${temporalPort ?? (await freePort())}`,
    SUMMIT_TEMPORAL_UI_PORT: String(await freePort()),
    SUMMIT_AVALANCHE_PORT: String(await freePort()),
  };
}

export function npmStart(env: Record<string, string>): Started {
  let output = '';
  // Its own process group, so Ctrl-C reaches npm, bash and node as it would in a terminal.
  const child = spawn('npm', ['start'], { cwd: ROOT, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
  return { child, output: () => output, exited };
}

/**
 * Wait until `npm start` says it is up ("Ctrl-C stops everything"); fail at once, with its output, if it exits
 * first (rather than waiting out the timeout).
 */
export async function waitUntilUp(started: Started, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!/Ctrl-C stops everything/.test(started.output())) {
    if (started.child.exitCode !== null || started.child.signalCode !== null) {
      throw new Error(`${what}: npm start exited (${started.child.exitCode ?? started.child.signalCode}) before it was up:\n${started.output().slice(-3000)}`);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${started.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Pids of processes whose command line mentions `text` (a path unique to this test), e.g. the dev server's db. */
export function pidsMentioning(text: string): number[] {
  return spawnSync('pgrep', ['-f', text], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
}

/** The node process of `npm start` (scripts/start.sh execs it), found in the run's process group. */
export function startNodePid(started: Started): number | undefined {
  const out = spawnSync('pgrep', ['-g', String(started.child.pid), '-f', 'dist/workers/start.js'], { encoding: 'utf8' }).stdout.trim();
  return out ? Number(out.split('\n')[0]) : undefined;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True when something accepts connections on 127.0.0.1:port. */
export function listening(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolvePort(true); });
    socket.once('error', () => resolvePort(false));
  });
}

/** The entries of the published `main` index (volatile stream, x86_64), or undefined before the first publish. */
export async function publishedEntries(dataDir: string): Promise<IndexEntry[] | undefined> {
  const repo = join(dataDir, 'vessel', 'repos', 'main');
  if (!existsSync(join(repo, 'moss-root-index.json'))) return undefined;
  const root = parseRootIndex(readFileSync(join(repo, 'moss-root-index.json'), 'utf8'));
  const path = resolveIndexPath(root, 'volatile', 'x86_64');
  if (!path) return undefined;
  return readIndex(readFileSync(join(repo, path)), path);
}
