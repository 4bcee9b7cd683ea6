import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** A real git repository for recipe tests: write files, commit, get the commit id. */
export class TestRepo {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.git('init', '-q', '-b', 'main');
    this.git('config', 'user.email', 'test@summit.invalid');
    this.git('config', 'user.name', 'Summit Tests');
  }

  git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }).trim();
  }

  write(path: string, content: string | Buffer): this {
    mkdirSync(dirname(join(this.dir, path)), { recursive: true });
    writeFileSync(join(this.dir, path), content);
    return this;
  }

  commit(message: string): string {
    this.git('add', '-A');
    this.git('commit', '-q', '-m', message);
    return this.git('rev-parse', 'HEAD');
  }
}

/** A minimal valid stone.yaml. */
export function recipeYaml(r: { name: string; version?: string; release?: number; builddeps?: string[]; rundeps?: string[]; build?: string }): string {
  const lines = [
    `name        : ${r.name}`,
    `version     : "${r.version ?? '1.0'}"`,
    `release     : ${r.release ?? 1}`,
    `homepage    : https://example.org/${r.name}`,
    `license     : MPL-2.0`,
    `summary     : ${r.name} for tests`,
    `description : ${r.name} for tests`,
  ];
  if (r.builddeps?.length) lines.push('builddeps   :', ...r.builddeps.map((d) => `    - ${d}`));
  if (r.rundeps?.length) lines.push('rundeps     :', ...r.rundeps.map((d) => `    - ${d}`));
  lines.push('install     : |', `    ${r.build ?? 'true'}`);
  return `${lines.join('\n')}\n`;
}
