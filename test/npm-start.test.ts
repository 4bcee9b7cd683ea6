/**
 * `npm start` as a new user runs it: from a clean data folder it starts Temporal (SQLite file), the embedded
 * database, the API and every role, registers the demo recipes and builds them. The test waits until the demo
 * packages are in the published index, stops it with Ctrl-C (SIGINT), and checks that a second start resumes
 * from the data folder without building anything again.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readIndex } from '../core/formats/repo-index';
import { parseRootIndex, resolveIndexPath } from '../core/formats/root-index';
import { waitFor } from './helpers/farm';
import { npmStart, type Started, waitUntilUp, npmStartEnv } from './helpers/npm-start';

jest.setTimeout(600_000);

let dataDir: string;



/**
 * Ctrl-C as a terminal sends it: SIGINT to the whole process group. npm itself then dies of the signal, as it
 * does in a terminal; what must hold is that summit stopped every role and Temporal, and said so.
 */
async function stop(started: Started): Promise<void> {
  process.kill(-started.child.pid!, 'SIGINT');
  const timer = setTimeout(() => process.kill(-started.child.pid!, 'SIGKILL'), 60_000);
  const { code, signal } = await started.exited;
  clearTimeout(timer);
  expect(code === 0 || signal === 'SIGINT').toBe(true);
  await waitFor('summit to say it stopped', async () => (/summit: stopped/.test(started.output()) ? true : undefined), 30_000);
  const leftovers = spawnSync('pgrep', ['-f', join(dataDir, 'temporal.db')], { encoding: 'utf8' }).stdout.trim();
  expect(leftovers).toBe('');
}

async function demoIndex(): Promise<string[] | undefined> {
  const repo = join(dataDir, 'vessel', 'repos', 'main');
  if (!existsSync(join(repo, 'moss-root-index.json'))) return undefined;
  const root = parseRootIndex(readFileSync(join(repo, 'moss-root-index.json'), 'utf8'));
  const path = resolveIndexPath(root, 'volatile', 'x86_64');
  if (!path) return undefined;
  return (await readIndex(readFileSync(join(repo, path)), path)).map((e) => e.name).sort();
}

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'summit-start-'));
});

afterAll(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start', () => {
  let env: Record<string, string>;

  beforeAll(async () => {
    env = await npmStartEnv(dataDir);
  });

  it('builds and publishes the demo recipes from a clean data folder, prints where everything is, and stops on Ctrl-C', async () => {
    const started = npmStart(env);
    try {
      await waitFor('the demo packages in the published index', async () => {
        const names = await demoIndex();
        return names && ['app', 'liba', 'liba-devel', 'tool'].every((n) => names.includes(n)) ? names : undefined;
      }, 300_000, async () => started.output().slice(-3000));
      // Progress is printed every 2 s: the last line may follow the index by a moment.
      await waitFor('the progress line of app', async () => (/app 1\.0\.0-1 x86_64: completed/.test(started.output()) ? true : undefined), 10_000);
      const out = started.output();
      expect(out).toMatch(/Temporal UI\s+http:\/\/127\.0\.0\.1:\d+/);
      expect(out).toMatch(new RegExp(`API\\s+http://127\\.0\\.0\\.1:${env.SUMMIT_API_PORT}`));
      expect(out).toContain(join(dataDir, 'vessel', 'repos', 'main', 'moss-root-index.json'));
      expect(out).toMatch(/generated API tokens, shown only this once/);
      // Only progress lines on the terminal: the roles' and the Temporal SDK's logs are in <data>/logs.
      expect(out).toContain(`logs          ${join(dataDir, 'logs')}/`);
      expect(out).not.toMatch(/^\s*\{"/m);
      expect(out).not.toMatch(/\[(INFO|WARN|DEBUG)\]|Worker state changed/);
      const logLines = (role: string) => readFileSync(join(dataDir, 'logs', `${role}.log`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(logLines('api')).toContainEqual(expect.objectContaining({ role: 'api', msg: 'listening' }));
      expect(logLines('avalanche')).toContainEqual(expect.objectContaining({ role: 'avalanche', msg: 'build started', taskQueue: 'avalanche-x86_64' }));
      expect(logLines('summit')).toContainEqual(expect.objectContaining({ role: 'summit', taskQueue: 'summit' }));
      expect(logLines('vessel')).toContainEqual(expect.objectContaining({ role: 'vessel', taskQueue: 'vessel' }));
    } finally {
      await stop(started);
    }
    expect(existsSync(join(dataDir, 'temporal.db'))).toBe(true);
    expect(existsSync(join(dataDir, 'summit.db'))).toBe(true);
  });

  it('resumes from the data folder on a second start: nothing rebuilt, tokens not printed again', async () => {
    const historiesBefore = readFileSync(join(dataDir, 'vessel', 'repos', 'main', 'moss-root-index.json'), 'utf8');
    const started = npmStart(env);
    try {
      await waitUntilUp(started, 'the second start to be up', 120_000);
      const res = await fetch(`http://127.0.0.1:${env.SUMMIT_API_PORT}/api/tasks`);
      const { items } = (await res.json()) as { items: Array<{ source: string; status: string }> };
      expect(items.map((t) => `${t.source} ${t.status}`).sort()).toEqual(['app completed', 'liba completed', 'tool completed']);
      // Give the hub a few planning rounds: it must not build anything again.
      await new Promise((r) => setTimeout(r, 5_000));
      expect(readFileSync(join(dataDir, 'vessel', 'repos', 'main', 'moss-root-index.json'), 'utf8')).toBe(historiesBefore);
      expect(started.output()).not.toMatch(/generated API tokens/);
    } finally {
      await stop(started);
    }
  });

  it('builds what a user pushes to the demo repository it prints, through the installed post-receive hook', async () => {
    const started = npmStart(env);
    try {
      await waitUntilUp(started, 'npm start to be up', 120_000);
      // The commands it prints, as a user would run them.
      const out = started.output();
      const bare = join(dataDir, 'demo-recipes.git');
      expect(out).toContain(`git clone ${bare} demo && cd demo`);
      expect(out).toContain('git commit -am "liba: rebuild" && git push origin main');
      const work = mkdtempSync(join(tmpdir(), 'summit-demo-clone-'));
      try {
        const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
        git(work, 'clone', '-q', bare, 'demo');
        const clone = join(work, 'demo');
        mkdirSync(join(clone, 'hello'));
        writeFileSync(join(clone, 'hello', 'stone.yaml'), [
          'name        : hello', 'version     : "1.0.0"', 'release     : 1', 'homepage    : https://example.org/hello', 'license     : MIT',
          'summary     : Hello', 'description : A file, pushed by a user', 'install     : |', '    install -Dm644 /dev/null %(installroot)%(datadir)/hello/file', '',
        ].join('\n'));
        git(clone, 'add', '-A');
        git(clone, '-c', 'user.email=user@summit.invalid', '-c', 'user.name=User', 'commit', '-q', '-m', 'hello');
        // git prints the hook's output on stderr, prefixed with "remote:" only for remote transports.
        const pushed = spawnSync('git', ['push', 'origin', 'main'], { cwd: clone, encoding: 'utf8' });
        expect(pushed.status).toBe(0);
        expect(pushed.stderr).toMatch(/summit: reported demo [0-9a-f]{12} \(refs\/heads\/main\)/);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
      await waitFor('hello in the published index', async () => ((await demoIndex())?.includes('hello') ? true : undefined), 300_000, async () => started.output().slice(-3000));
    } finally {
      await stop(started);
    }
  });
});
