import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { isFullObjectId } from '../../core/contracts/commit';
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
async function git(args: string[], opts: { cwd?: string; binary?: boolean; allowLocal?: boolean; signal?: AbortSignal } = {}): Promise<Buffer> {
  try {
    const { stdout } = await run('git', args, {
      cwd: opts.cwd,
      // A cancelled intake (its activity cancelled, or the worker shutting down) must not leave a git process
      // behind: a fetch from a server that never answers would otherwise hold the worker's shutdown for good.
      signal: opts.signal,
      killSignal: 'SIGKILL',
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
export async function syncMirror(url: string, mirror: string, signal?: AbortSignal): Promise<void> {
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
    await git(['clone', '--mirror', '--quiet', '--', url, tmp], { allowLocal, signal });
    await run('mv', ['--', tmp, mirror]);
    return;
  }
  await git(['--git-dir', mirror, 'remote', 'set-url', '--', 'origin', url]);
  await git(['--git-dir', mirror, 'fetch', '--prune', '--quiet', 'origin', '+refs/*:refs/*'], { allowLocal, signal });
}

/** The full commit id `rev` names in the mirror, or a GitError saying it does not exist there. */
export async function resolveCommit(mirror: string, rev: string): Promise<string> {
  return (await git(['--git-dir', mirror, 'rev-parse', '--verify', '--quiet', `${rev}^{commit}`]).catch(() => {
    throw new GitError(`commit "${rev}" is not in the mirror ${mirror}`);
  })).toString().trim();
}

/** One blob of a tree as `git ls-tree -l` lists it. */
export interface TreeBlob {
  path: string;
  /** Object id, to read it with readBlobs. */
  oid: string;
  /** Size in bytes, known before the blob is read: caps are checked against it. */
  size: number;
}

/**
 * Every blob of the tree at `commit` with its size, in one git call (`ls-tree -r -l -z`), so that intake can
 * refuse an oversized file without reading it. Submodules (commits) and symlinks are left out: neither is a
 * recipe file.
 */
export async function listTree(mirror: string, commit: string): Promise<TreeBlob[]> {
  const out = (await git(['--git-dir', mirror, 'ls-tree', '-r', '-l', '-z', commit, '--'])).toString('utf8');
  const blobs: TreeBlob[] = [];
  for (const record of out.split('\0')) {
    if (!record) continue;
    // `<mode> SP <type> SP <oid> SP+ <size> TAB <path>`
    const m = /^(\d+) (\w+) ([0-9a-f]+) +(\d+|-)\t([\s\S]*)$/.exec(record);
    if (!m) throw new GitError(`git ls-tree ${commit}: cannot read the entry ${JSON.stringify(record.slice(0, 200))}`);
    if (m[2] !== 'blob' || m[1] === '120000') continue;
    blobs.push({ path: m[5], oid: m[3], size: Number(m[4]) });
  }
  return blobs;
}

/**
 * The contents of many blobs through one `git cat-file --batch` process instead of one process per file.
 * Callers bound the total (the sizes are known from listTree): everything read is held in memory.
 */
export async function readBlobs(mirror: string, oids: readonly string[]): Promise<Map<string, Buffer>> {
  const blobs = new Map<string, Buffer>();
  if (oids.length === 0) return blobs;
  for (const oid of oids) if (!isFullObjectId(oid)) throw new GitError(`"${oid}" is not a git object id`);
  const child = spawn('git', ['--git-dir', mirror, 'cat-file', '--batch'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' },
  });
  const chunks: Buffer[] = [];
  const errors: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  child.stderr.on('data', (c: Buffer) => errors.push(c));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  child.stdin.on('error', () => undefined); // a git that died early is reported by its exit code below
  child.stdin.end(`${oids.join('\n')}\n`);
  const code = await exited;
  if (code !== 0) throw new GitError(`git cat-file --batch in ${mirror}: exit ${code}: ${Buffer.concat(errors).toString().trim()}`);
  const out = Buffer.concat(chunks);
  let at = 0;
  for (const oid of oids) {
    const eol = out.indexOf(0x0a, at);
    if (eol < 0) throw new GitError(`git cat-file --batch in ${mirror}: output ends before ${oid}`);
    const header = out.subarray(at, eol).toString('utf8');
    const m = /^([0-9a-f]+) (\w+) (\d+)$/.exec(header);
    if (!m || m[1] !== oid) throw new GitError(`git cat-file --batch in ${mirror}: ${oid}: ${header}`);
    const size = Number(m[3]);
    blobs.set(oid, out.subarray(eol + 1, eol + 1 + size));
    at = eol + 1 + size + 1; // contents end with LF
  }
  return blobs;
}
