import { spawn } from 'node:child_process';
import { gitAllowProtocol } from '../../core/security/source-url';
import type { BuildLog } from './build-log';

/**
 * Commands the builder runs on its host (git, tar) around the containerised steps. Their output goes to the
 * build log, so a failed checkout or unpack reads like a failed step.
 */
export class HostCommandError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly output: string,
  ) {
    super(`${command} failed (${exitCode === null ? 'killed' : `exit ${exitCode}`}): ${output.trim().split('\n').slice(-5).join(' | ')}`);
    this.name = 'HostCommandError';
  }
}

export interface HostCommandOptions {
  cwd?: string;
  log?: BuildLog;
  signal?: AbortSignal;
  /** Keep stdout out of the log (it is the result, e.g. a commit time). */
  quietStdout?: boolean;
  /** Extra environment, e.g. a GIT_ALLOW_PROTOCOL that also allows local paths. */
  env?: Record<string, string>;
  /** Nothing in the log, not even the command: a probe whose failure is an answer (is this commit here?). */
  quiet?: boolean;
}

/**
 * Runs `first | second` with each command's own arguments and no word ever parsed by the shell: `$1` is how many
 * arguments the first command has, the rest are both commands' words, passed as they are. Exits with the first
 * command's status when that failed, otherwise the second's. The second's stdout is dropped.
 */
const PIPE_SCRIPT = `n=$1; shift
pick() {
  from=$1; to=$2; shift 2; i=0; k=$#
  while [ "$i" -lt "$k" ]; do
    i=$((i + 1)); a=$1; shift
    if [ "$i" -ge "$from" ] && [ "$i" -le "$to" ]; then set -- "$@" "$a"; fi
  done
  exec "$@"
}
first=$( { { (pick 1 "$n" "$@") 3>&-; echo "$?" >&3; } | (pick "$((n + 1))" "$#" "$@") >/dev/null 3>&-; } 3>&1 )
second=$?
[ "$first" = 0 ] || exit "\${first:-1}"
exit "$second"`;

/**
 * `first | second` (e.g. \`git archive | tar -x\`): the first command's stdout is the second's stdin. Both must
 * exit 0; their stderr goes to the log. Same environment rules as runHostCommand.
 *
 * One fork of the worker for both: /bin/sh joins them (PIPE_SCRIPT, the words passed as arguments, never as
 * script text) and its own forks are cheap, where each fork of a big node process costs ~10 ms of its CPU. The
 * three run in a process group of their own, so a cancelled pipe is stopped whole, as before.
 */
export async function runHostPipe(first: [string, string[]], second: [string, string[]], opts: HostCommandOptions = {}): Promise<void> {
  const shown = `${[first[0], ...first[1]].join(' ')} | ${[second[0], ...second[1]].join(' ')}`;
  await opts.log?.write(`$ ${shown}\n`);
  opts.signal?.throwIfAborted();
  const env = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', LC_ALL: 'C', GIT_ALLOW_PROTOCOL: gitAllowProtocol(false), ...opts.env };
  const words = [String(first[1].length + 1), first[0], ...first[1], second[0], ...second[1]];
  const child = spawn('/bin/sh', ['-c', PIPE_SCRIPT, 'summit-pipe', ...words], { cwd: opts.cwd, env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const stop = () => {
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // Gone already.
    }
  };
  opts.signal?.addEventListener('abort', stop, { once: true });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (output.length < 64 * 1024) output += chunk.toString('utf8');
  });
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (exitCode) => resolve(exitCode));
    });
    if (output) await opts.log?.write(output.endsWith('\n') ? output : `${output}\n`);
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error(`${shown}: cancelled`);
    if (code !== 0) throw new HostCommandError(shown, code, output);
  } finally {
    opts.signal?.removeEventListener('abort', stop);
  }
}

export async function runHostCommand(cmd: string, args: string[], options: HostCommandOptions = {}): Promise<string> {
  const opts = options.quiet ? { ...options, log: undefined } : options;
  const shown = [cmd, ...args].join(' ');
  await opts.log?.write(`$ ${shown}\n`);
  // Git must never ask for credentials or open an editor in a worker, and reaches only network transports unless
  // the caller allowed a checked local path (core/security/source-url.ts): not ext::, fd::, nor a submodule's file://.
  const env = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', LC_ALL: 'C', GIT_ALLOW_PROTOCOL: gitAllowProtocol(false), ...opts.env };
  const child = spawn(cmd, args, { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], signal: opts.signal });
  let stdout = '';
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    if (!opts.quietStdout) output += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (err) => (opts.signal?.aborted ? resolve(null) : reject(err)));
    child.once('close', (exitCode) => resolve(exitCode));
  });
  if (output) await opts.log?.write(output.endsWith('\n') ? output : `${output}\n`);
  if (opts.signal?.aborted) throw opts.signal.reason ?? new Error(`${shown}: cancelled`);
  if (code !== 0) throw new HostCommandError(shown, code, output);
  return stdout;
}
