import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { main as summitCli } from '../../cli/main';
import { recipeYaml, type TreeRecipe } from './recipe-tree';

/**
 * The wave's recipe repository, as contributors have it: a bare repository with summit's post-receive hook
 * installed, and a clone to commit in. `push()` runs git asynchronously: the hook calls the API, which lives in
 * this very process.
 */
export class RecipeRepo {
  readonly bare: string;
  readonly clone: string;

  private constructor(work: string) {
    this.bare = join(work, 'recipes.git');
    this.clone = join(work, 'clone');
  }

  static async create(work: string, hook: { repository: string; apiUrl: string; token: string }): Promise<RecipeRepo> {
    const repo = new RecipeRepo(work);
    git(work, 'init', '-q', '--bare', '-b', 'main', repo.bare);
    const errors: string[] = [];
    const code = await summitCli(['hook', 'install', repo.bare, '--repository', hook.repository, '--url', hook.apiUrl, '--token', hook.token, '--ref', 'main'],
      { out: () => undefined, err: (t) => errors.push(t) });
    if (code !== 0) throw new Error(`summit hook install failed: ${errors.join('\n')}`);
    git(work, 'clone', '-q', repo.bare, repo.clone);
    git(repo.clone, 'config', 'user.email', 'wavebench@summit.invalid');
    git(repo.clone, 'config', 'user.name', 'Wave bench');
    git(repo.clone, 'checkout', '-q', '-b', 'main');
    return repo;
  }

  write(path: string, content: string): void {
    const file = join(this.clone, path);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, content);
  }

  writeRecipes(tree: readonly TreeRecipe[]): void {
    for (const r of tree) this.write(`${r.name}/stone.yaml`, recipeYaml(r));
  }

  commit(message: string): string {
    git(this.clone, 'add', '-A');
    git(this.clone, 'commit', '-q', '-m', message);
    return git(this.clone, 'rev-parse', 'HEAD');
  }

  async push(): Promise<string> {
    const { stderr } = await promisify(execFile)('git', ['push', '-q', 'origin', 'main'], { cwd: this.clone });
    return stderr;
  }
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }).trim();
}
