import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { gitAllowProtocol, parseSourceUrl, redactUrl, SourceUrlError } from '../../core/security/source-url';

const run = promisify(execFile);

/** Git as summit uses it: a bare mirror per repository, read at exact commits without a work tree. */
export class GitError extends Error {
  override readonly name = 'GitError';
}

/**
 * Every call reaches only network transports (GIT_ALLOW_PROTOCOL, which also binds redirects and submodules),
 * plus `file` when `allowLocal` says the URL is a local path (core/security/source-url.ts).
 */
async function git(args: string[], opts: { cwd?: string; binary?: boolean; allowLocal?: boolean } = {}): Promise<Buffer> {
  try {
    const { stdout } = await run('git', args, {
      cwd: opts.cwd,
      encoding: 'buffer',
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', GIT_ALLOW_PROTOCOL: gitAllowProtocol(opts.allowLocal ?? false) },
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new GitError(`git ${args.map(redactUrl).join(' ')}: ${e.stderr?.toString().trim() || e.message}`);
  }
}

/**
 * Create or update the bare mirror of `url` at `mirror`; idempotent, safe to retry. The URL was checked at
 * registration; it is classified again here (a row may predate the rule) and always passed after `--`.
 */
export async function syncMirror(url: string, mirror: string): Promise<void> {
  let allowLocal: boolean;
  try {
    allowLocal = parseSourceUrl(url, 'git', `repository URL ${redactUrl(url)}`).kind === 'local';
  } catch (err) {
    if (err instanceof SourceUrlError) throw new GitError(err.message);
    throw err;
  }
  if (!existsSync(mirror)) {
    await mkdir(dirname(mirror), { recursive: true });
    const tmp = `${mirror}.tmp-${process.pid}`;
    await git(['clone', '--mirror', '--quiet', '--', url, tmp], { allowLocal });
    await run('mv', ['--', tmp, mirror]);
    return;
  }
  await git(['--git-dir', mirror, 'remote', 'set-url', '--', 'origin', url]);
  await git(['--git-dir', mirror, 'fetch', '--prune', '--quiet', 'origin', '+refs/*:refs/*'], { allowLocal });
}

/** The full commit id `rev` names in the mirror, or a GitError saying it does not exist there. */
export async function resolveCommit(mirror: string, rev: string): Promise<string> {
  return (await git(['--git-dir', mirror, 'rev-parse', '--verify', '--quiet', `${rev}^{commit}`]).catch(() => {
    throw new GitError(`commit "${rev}" is not in the mirror ${mirror}`);
  })).toString().trim();
}

export async function listFiles(mirror: string, commit: string): Promise<string[]> {
  return (await git(['--git-dir', mirror, 'ls-tree', '-r', '--name-only', '-z', commit])).toString().split('\0').filter(Boolean);
}

export async function readBlob(mirror: string, commit: string, path: string): Promise<Buffer> {
  return git(['--git-dir', mirror, 'show', `${commit}:${path}`]);
}
