import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Git as summit uses it: a bare mirror per repository, read at exact commits without a work tree. */
export class GitError extends Error {
  override readonly name = 'GitError';
}

async function git(args: string[], opts: { cwd?: string; binary?: boolean } = {}): Promise<Buffer> {
  try {
    const { stdout } = await run('git', args, {
      cwd: opts.cwd,
      encoding: 'buffer',
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new GitError(`git ${args.join(' ')}: ${e.stderr?.toString().trim() || e.message}`);
  }
}

/** Create or update the bare mirror of `url` at `mirror`; idempotent, safe to retry. */
export async function syncMirror(url: string, mirror: string): Promise<void> {
  if (!existsSync(mirror)) {
    await mkdir(dirname(mirror), { recursive: true });
    const tmp = `${mirror}.tmp-${process.pid}`;
    await git(['clone', '--mirror', '--quiet', url, tmp]);
    await run('mv', [tmp, mirror]);
    return;
  }
  await git(['--git-dir', mirror, 'remote', 'set-url', 'origin', url]);
  await git(['--git-dir', mirror, 'fetch', '--prune', '--quiet', 'origin', '+refs/*:refs/*']);
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
