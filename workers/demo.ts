import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { install as installHook } from '../cli/hook';
import { ConflictError, Store } from '../db/store';

/**
 * The demo recipe repository `npm start` builds: a bare git repository in the data folder, so that a user can
 * clone it, change a recipe and push (a non-bare repository refuses pushes to its checked-out branch), with
 * summit's post-receive hook installed so that each push triggers a build at once. Seeded on first start from
 * examples/recipes; later starts reuse it, so its history survives restarts.
 */
export const DEMO_REPOSITORY = 'demo';

const GIT_AUTHOR = ['-c', 'user.email=demo@summit.invalid', '-c', 'user.name=Summit demo'];

export function ensureDemoRepo(dataDir: string, examples: string): string {
  const bare = join(dataDir, 'demo-recipes.git');
  if (existsSync(join(bare, 'HEAD'))) return bare;
  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, stdio: 'ignore' });
  // Data folders made before the repository was bare hold a working copy at demo-recipes: keep its history.
  const earlier = join(dataDir, 'demo-recipes');
  let seed = earlier;
  let temporary: string | undefined;
  if (!existsSync(join(earlier, '.git'))) {
    temporary = mkdtempSync(join(dataDir, 'demo-seed-'));
    seed = join(temporary, 'recipes');
    cpSync(examples, seed, { recursive: true });
    git(seed, 'init', '-q', '-b', 'main');
    git(seed, ...GIT_AUTHOR, 'add', '-A');
    git(seed, ...GIT_AUTHOR, 'commit', '-q', '-m', 'Demo recipes');
  }
  try {
    git(dataDir, 'clone', '-q', '--bare', '--', seed, bare);
    // HEAD names the branch summit watches and the hook reports, whatever the seed's HEAD was.
    git(bare, 'symbolic-ref', 'HEAD', 'refs/heads/main');
  } finally {
    if (temporary) rmSync(temporary, { recursive: true, force: true });
  }
  return bare;
}

/** `summit hook install` on the demo repository, pointed at this farm's API with its hook token. */
export async function installDemoHook(bare: string, apiUrl: string, hookToken: string): Promise<void> {
  const messages: string[] = [];
  const io = { out: (line: string) => messages.push(line), err: (line: string) => messages.push(line) };
  const code = await installHook([bare, '--repository', DEMO_REPOSITORY, '--url', apiUrl, '--token', hookToken, '--ref', 'main'], io);
  if (code !== 0) throw new Error(`installing the post-receive hook in ${bare} failed: ${messages.join('; ')}`);
}

export async function registerDemo(store: Store, url: string): Promise<void> {
  try {
    await store.addRepository({ id: DEMO_REPOSITORY, project: 'demo', url, ref: 'main' });
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
  }
}
