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
 * `first | second` without a shell: the first command's stdout is the second's stdin (e.g. `git archive | tar -x`).
 * Both must exit 0; their stderr goes to the log. Same environment rules as runHostCommand.
 */
export async function runHostPipe(first: [string, string[]], second: [string, string[]], opts: HostCommandOptions = {}): Promise<void> {
  const shown = `${[first[0], ...first[1]].join(' ')} | ${[second[0], ...second[1]].join(' ')}`;
  await opts.log?.write(`$ ${shown}\n`);
  const env = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'true', LC_ALL: 'C', GIT_ALLOW_PROTOCOL: gitAllowProtocol(false), ...opts.env };
  let output = '';
  const collect = (chunk: Buffer) => {
    if (output.length < 64 * 1024) output += chunk.toString('utf8');
  };
  const producer = spawn(first[0], first[1], { cwd: opts.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], signal: opts.signal });
  const consumer = spawn(second[0], second[1], { cwd: opts.cwd, env, stdio: ['pipe', 'ignore', 'pipe'], signal: opts.signal });
  producer.stdout.pipe(consumer.stdin);
  // A consumer that dies early makes the producer's writes fail (EPIPE); its exit status says what happened.
  consumer.stdin.on('error', () => undefined);
  producer.stderr.on('data', collect);
  consumer.stderr.on('data', collect);
  const exit = (child: ReturnType<typeof spawn>) => new Promise<number | null>((resolve, reject) => {
    child.once('error', (err) => (opts.signal?.aborted ? resolve(null) : reject(err)));
    child.once('close', (code) => resolve(code));
  });
  const [a, b] = await Promise.all([exit(producer), exit(consumer)]);
  if (output) await opts.log?.write(output.endsWith('\n') ? output : `${output}\n`);
  if (opts.signal?.aborted) throw opts.signal.reason ?? new Error(`${shown}: cancelled`);
  if (a !== 0) throw new HostCommandError(shown, a, output);
  if (b !== 0) throw new HostCommandError(shown, b, output);
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
