import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { ApiReadyMessage } from '../api/main';

/**
 * The API in a process of its own (`npm start`, and the API benchmark): its event loop serves HTTP and nothing
 * else, so planning, intake and the workers, whose database calls run synchronously on their process's main
 * thread (embedded driver), never hold a request up. A process rather than a worker thread: a thread shares the
 * process's heap limits, signals and fate (a stop with SIGSTOP, a crash, an OOM), and the embedded database is
 * opened per connection anyway; a process costs ~40 MB more and proves its independence by its own pid.
 *
 * The child reads the same environment and opens the same database (the embedded file is in WAL mode with a
 * busy timeout: db/orm.ts). It stops on SIGTERM (stop()), ignores the terminal's Ctrl-C (this process decides),
 * and stops by itself when this process dies (its IPC channel closes).
 */
export interface ApiProcess {
  url: string;
  pid: number;
  /** Rejects when the API exits without having been asked to stop; never resolves otherwise. */
  done: Promise<never>;
  stop(): Promise<void>;
}

/** After SIGTERM the API drains requests for up to 10 s (api/main.ts); past this it is killed. */
const STOP_TIMEOUT_MS = 15_000;

/**
 * `quiet` sends the API's stdout (its request log) nowhere: the API benchmark's own output is its figures.
 * `execArgv`: node's options for the API process (the benchmark's `--cpu-prof`).
 */
export function forkApi(env: NodeJS.ProcessEnv, opts: { quiet?: boolean; execArgv?: string[] } = {}): Promise<ApiProcess> {
  const entry = resolve(__dirname, '..', 'api', 'main.js');
  const child: ChildProcess = fork(entry, [], { env, execArgv: opts.execArgv ?? process.execArgv, stdio: ['ignore', opts.quiet ? 'ignore' : 'inherit', 'inherit', 'ipc'] });
  let stopping = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  const how = ({ code, signal }: { code: number | null; signal: NodeJS.Signals | null }) => signal ?? `code ${code}`;
  return new Promise<ApiProcess>((ready, failed) => {
    child.once('error', failed);
    void exited.then((e) => failed(new Error(`the API (pid ${child.pid}) exited while starting (${how(e)})`)));
    child.on('message', (m: Partial<ApiReadyMessage>) => {
      if (m?.type !== 'summit-api-listening' || typeof m.url !== 'string') return;
      const done = exited.then((e): never => {
        throw new Error(`the API (pid ${child.pid}) exited on its own (${how(e)})`);
      });
      // Whoever awaits `done` reports it; nobody awaiting it must not make an unhandled rejection of a stop.
      done.catch(() => undefined);
      ready({
        url: m.url,
        pid: child.pid!,
        done: new Promise<never>((_, reject) => void done.catch((err: Error) => { if (!stopping) reject(err); })),
        stop: async () => {
          stopping = true;
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
            await exited;
            clearTimeout(timer);
          }
        },
      });
    });
  });
}
