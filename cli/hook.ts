import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { readTokensFile, TOKENS_FILE } from '../api/tokens';
import { ConfigError, parseConfig, type Config } from '../core/config';
import { parseCommandArgs } from './args';
import { Command, UsageError } from './io';

const run = promisify(execFile);

/** Text the shipped script carries, so a re-install replaces our own hook but never someone else's. */
const MARKER = 'summit post-receive hook';

/** hooks/post-receive from the project root: cli/ when run from source (jest), dist/cli/ when built. */
function shippedScript(): string {
  const found = [join(__dirname, '..', 'hooks', 'post-receive'), join(__dirname, '..', '..', 'hooks', 'post-receive')].find((p) => existsSync(p));
  if (!found) throw new Error(`hooks/post-receive is missing next to ${__dirname}; is the summit package complete?`);
  return found;
}

async function git(repo: string, ...args: string[]): Promise<string> {
  return (await run('git', ['-C', repo, ...args])).stdout.trim();
}

/**
 * The hook token, in order: --token, $SUMMIT_HOOK_TOKEN, or the tokens file of the API's data folder (--data-dir,
 * else $SUMMIT_DATA_DIR, else .summit), for the usual case of installing on the machine that runs summit.
 */
async function hookToken(explicit: string | undefined, dataDir: string): Promise<string | undefined> {
  if (explicit) return explicit;
  if (process.env.SUMMIT_HOOK_TOKEN) return process.env.SUMMIT_HOOK_TOKEN;
  const path = join(resolve(dataDir), TOKENS_FILE);
  if (!existsSync(path)) return undefined;
  return (await readTokensFile(path)).find((t) => t.role === 'hook')?.token;
}

/**
 * `summit hook install <repo> --repository <id> [--url U] [--token T] [--ref R] [--data-dir D] [--force]`: copies
 * hooks/post-receive into the repository's hooks folder (bare or not, honouring core.hooksPath), mode 755, and
 * writes the settings into that repository's git config (summit.url, summit.token, summit.repository,
 * summit.ref), where the script reads them. The token is then readable by whoever can read the repository's
 * config, as any push-triggered hook's secret must be: use the hook token, which can only report pushes.
 */
export const install: Command = async (args, io) => {
  const { values, positionals } = parseCommandArgs(
    args,
    {
      url: { type: 'string' }, repository: { type: 'string' }, token: { type: 'string' }, ref: { type: 'string' },
      'data-dir': { type: 'string' }, force: { type: 'boolean' },
    },
    { min: 1, max: 1, names: '<repository path>' },
  );
  if (!values.repository) throw new UsageError('--repository <id> is required: the repository\'s id in summit');
  let config: Config;
  try {
    // The defaults for --url and --data-dir are the API's own settings on this machine.
    config = parseConfig(process.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err(`summit hook install: ${err.message}`);
    return 1;
  }
  const repo = resolve(positionals[0]);

  let hooksDir: string;
  try {
    // --git-path follows core.hooksPath and works for bare repositories and worktrees alike.
    hooksDir = resolve(repo, await git(repo, 'rev-parse', '--git-path', 'hooks'));
  } catch {
    io.err(`summit hook install: ${repo} is not a git repository`);
    return 1;
  }
  const token = await hookToken(values.token, values['data-dir'] ?? config.SUMMIT_DATA_DIR);
  if (!token) {
    io.err('summit hook install: no hook token: pass --token, set SUMMIT_HOOK_TOKEN, or point --data-dir at the API\'s data folder');
    return 1;
  }
  const host = ['0.0.0.0', '::'].includes(config.SUMMIT_API_HOST) ? '127.0.0.1' : config.SUMMIT_API_HOST;
  const url = values.url ?? `http://${host}:${config.SUMMIT_API_PORT}`;

  const target = join(hooksDir, 'post-receive');
  const existing = await readFile(target, 'utf8').catch(() => undefined);
  if (existing !== undefined && !existing.includes(MARKER) && !values.force) {
    io.err(`summit hook install: ${target} exists and is not summit's; move it away or pass --force to replace it`);
    return 1;
  }
  await mkdir(hooksDir, { recursive: true });
  await copyFile(shippedScript(), target);
  await chmod(target, 0o755);

  // `--` before the key: a value from the command line starting with "-" must stay a value, not an option.
  await git(repo, 'config', '--', 'summit.url', url);
  await git(repo, 'config', '--', 'summit.token', token);
  await git(repo, 'config', '--', 'summit.repository', values.repository);
  if (values.ref) await git(repo, 'config', '--replace-all', '--', 'summit.ref', values.ref);
  // Without --ref the hook watches the branch HEAD names; a ref from an earlier install must not linger.
  else await git(repo, 'config', '--unset-all', 'summit.ref').catch(() => undefined);

  io.out(`installed ${target}: pushes to ${values.ref ?? 'the HEAD branch'} are reported to ${url} as repository ${values.repository}`);
  return 0;
};
