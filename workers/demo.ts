import { execFileSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConflictError, Store } from '../db/store';

/**
 * The demo recipe repository `npm start` builds: examples/recipes copied into the data folder and committed as
 * a real git repository on first start (later starts reuse it, so its history survives restarts).
 */
export const DEMO_REPOSITORY = 'demo';

export function ensureDemoRepo(dataDir: string, examples: string): string {
  const dir = join(dataDir, 'demo-recipes');
  if (existsSync(join(dir, '.git'))) return dir;
  cpSync(examples, dir, { recursive: true });
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  git('-c', 'user.email=demo@summit.invalid', '-c', 'user.name=Summit demo', 'add', '-A');
  git('-c', 'user.email=demo@summit.invalid', '-c', 'user.name=Summit demo', 'commit', '-q', '-m', 'Demo recipes');
  return dir;
}

export async function registerDemo(store: Store, url: string): Promise<void> {
  try {
    await store.addRepository({ id: DEMO_REPOSITORY, project: 'demo', url, ref: 'main' });
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
  }
}
