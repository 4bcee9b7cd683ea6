import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { MikroORM } from '@mikro-orm/core';
import express from 'express';
import { createApp } from '../api/app';
import { Auth } from '../api/auth';
import type { HubStatus, PipelineControl } from '../api/pipeline';
import { install } from '../cli/hook';
import type { RefreshRequest, TaskCommandResult } from '../core/contracts/hub';
import { openDatabase } from '../db/orm';
import { Store } from '../db/store';
import { freePort } from './support/temporal';

/**
 * The git hook end to end: a real bare repository, the hook installed by `summit hook install`, real pushes, and
 * a real API (embedded database; the pipeline is a recorder). Also the hook's fallbacks when curl is missing.
 */
const HOOK = `summit_hook_${'k'.repeat(43)}`;
const SCRIPT = resolve(__dirname, '..', 'hooks', 'post-receive');

class RecordingPipeline implements PipelineControl {
  readonly refreshes: RefreshRequest[] = [];
  async refresh(req: RefreshRequest): Promise<void> {
    this.refreshes.push(req);
  }
  retry(): Promise<TaskCommandResult> {
    throw new Error('not used');
  }
  cancel(): Promise<TaskCommandResult> {
    throw new Error('not used');
  }
  async hubStatus(): Promise<HubStatus> {
    return { ok: true, state: 'running' };
  }
}

interface Posted {
  body: { repository?: string; commit?: string; ref?: string };
  authorization?: string;
}

let dir: string;
let orm: MikroORM;
let server: Server;
let url: string;
let bare: string;
let work: string;
const pipeline = new RecordingPipeline();
const posted: Posted[] = [];

/** git with a fixed identity and none of the caller's SUMMIT_* settings, which the hook would otherwise see. */
function git(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.org', GIT_COMMITTER_NAME: 't',
    GIT_COMMITTER_EMAIL: 't@example.org', GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1',
  };
  for (const key of Object.keys(env)) if (key.startsWith('SUMMIT_')) delete env[key];
  return new Promise((done) => {
    execFile('git', args, { cwd, env }, (err, stdout, stderr) => done({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
}

async function installHook(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await install(args, { out: (t) => { out += `${t}\n`; }, err: (t) => { err += `${t}\n`; } });
  return { code, out, err };
}

async function commitAndPush(branch: string, file: string): Promise<{ commit: string; push: { code: number; stderr: string } }> {
  writeFileSync(join(work, file), `${file}\n`);
  await git(work, 'add', file);
  await git(work, 'commit', '-q', '-m', file);
  const commit = (await git(work, 'rev-parse', 'HEAD')).stdout.trim();
  const push = await git(work, 'push', '-q', 'origin', `HEAD:refs/heads/${branch}`);
  return { commit, push };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'summit-hook-'));
  orm = await openDatabase({ dataDir: join(dir, 'data') });
  const store = new Store(orm);
  await store.addRepository({ id: 'recipes', project: 'serpent', url: join(dir, 'recipes.git'), ref: 'main' });
  // What reaches the API is recorded before the real app handles it (the app then skips the parsed body).
  const recorder = express();
  recorder.post('/api/hooks/git', express.json(), (req, _res, next) => {
    posted.push({ body: req.body, authorization: req.headers.authorization });
    next();
  });
  recorder.use(createApp({ store, pipeline, auth: new Auth([{ name: 'hook', role: 'hook', token: HOOK }]) }));
  server = await new Promise<Server>((done) => {
    const s = recorder.listen(0, '127.0.0.1', () => done(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  bare = join(dir, 'recipes.git');
  work = join(dir, 'work');
  await git(dir, 'init', '-q', '--bare', '--initial-branch=main', bare);
  await git(dir, 'clone', '-q', bare, work);
});

afterAll(async () => {
  await new Promise((done) => server?.close(done));
  await orm?.close(true);
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  posted.length = 0;
  pipeline.refreshes.length = 0;
});

describe('summit hook install', () => {
  it('installs the hook into a bare repository with its settings in the git config', async () => {
    const result = await installHook(bare, '--repository', 'recipes', '--url', url, '--token', HOOK);
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toMatch(/installed .*recipes\.git\/hooks\/post-receive/);
    const hook = join(bare, 'hooks', 'post-receive');
    expect(statSync(hook).mode & 0o777).toBe(0o755);
    expect(readFileSync(hook, 'utf8')).toBe(readFileSync(SCRIPT, 'utf8'));
    for (const [key, value] of [['summit.url', url], ['summit.token', HOOK], ['summit.repository', 'recipes']]) {
      expect((await git(bare, 'config', '--get', key)).stdout.trim()).toBe(value);
    }
  });

  it('installs into .git/hooks of a working clone, and never over somebody else\'s hook', async () => {
    const clone = join(dir, 'clone');
    await git(dir, 'clone', '-q', bare, clone);
    expect((await installHook(clone, '--repository', 'recipes', '--token', HOOK)).code).toBe(0);
    expect(statSync(join(clone, '.git', 'hooks', 'post-receive')).isFile()).toBe(true);
    writeFileSync(join(clone, '.git', 'hooks', 'post-receive'), '#!/bin/sh\necho mine\n');
    const refused = await installHook(clone, '--repository', 'recipes', '--token', HOOK);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/exists and is not summit's.*--force/);
    expect((await installHook(clone, '--repository', 'recipes', '--token', HOOK, '--force')).code).toBe(0);
  });

  it('says what is wrong with a path that is not a repository, or a missing --repository', async () => {
    expect((await installHook(dir, '--repository', 'recipes', '--token', HOOK)).err).toMatch(/is not a git repository/);
    await expect(installHook(bare, '--token', HOOK)).rejects.toThrow(/--repository <id> is required/);
  });
});

describe('a push to the recipe repository', () => {
  beforeAll(async () => {
    await installHook(bare, '--repository', 'recipes', '--url', url, '--token', HOOK);
  });

  it('reports the pushed commit of the watched branch once, with the hook token', async () => {
    const { commit, push } = await commitAndPush('main', 'a');
    expect(push.code).toBe(0);
    expect(posted).toEqual([{ body: { repository: 'recipes', commit, ref: 'refs/heads/main' }, authorization: `Bearer ${HOOK}` }]);
    expect(pipeline.refreshes).toEqual([{ repository: 'recipes', commit, origin: 'hook' }]);
    expect(push.stderr).toContain(`remote: summit: reported recipes ${commit.slice(0, 12)} (refs/heads/main) to ${url}`);
  });

  it('reports nothing for a branch summit does not watch, and says so', async () => {
    const { push } = await commitAndPush('wip', 'b');
    expect(push.code).toBe(0);
    expect(posted).toEqual([]);
    expect(push.stderr).toContain('remote: summit: no watched ref (refs/heads/main) in this push; nothing to report');
  });

  it('still succeeds while summit is down, saying the poll will pick the commit up', async () => {
    await git(bare, 'config', 'summit.url', `http://127.0.0.1:${await freePort()}`);
    try {
      const started = Date.now();
      const { commit, push } = await commitAndPush('main', 'c');
      expect(push.code).toBe(0);
      expect(push.stderr).toMatch(new RegExp(`remote: summit: could not reach .*; the push is fine, the poll will pick up ${commit.slice(0, 12)}`));
      expect(Date.now() - started).toBeLessThan(15_000);
      expect((await git(bare, 'rev-parse', 'main')).stdout.trim()).toBe(commit);
    } finally {
      await git(bare, 'config', 'summit.url', url);
    }
  });
});

function locate(tool: string): string {
  const found = (process.env.PATH ?? '').split(':').map((d) => join(d, tool)).find((p) => existsSync(p));
  if (!found) throw new Error(`${tool} is not on PATH; .ci/run installs it`);
  return found;
}

describe('the hook without curl', () => {
  /** Runs the script as git would, with a PATH holding only git, sed and the given HTTP clients. */
  function runHook(clients: string[], stdin: string): Promise<{ code: number; stdout: string }> {
    const bin = mkdtempSync(join(dir, 'bin-'));
    for (const name of ['git', 'sed', ...clients]) symlinkSync(name === 'node' ? process.execPath : locate(name), join(bin, name));
    return new Promise((done) => {
      const child = execFile('/bin/sh', [join(bare, 'hooks', 'post-receive')], { env: { PATH: bin, GIT_DIR: bare } }, (err, stdout) =>
        done({ code: err ? Number(err.code ?? 1) : 0, stdout }));
      child.stdin?.end(stdin);
    });
  }

  it.each([['wget'], ['node']])('reports the push with %s', async (client) => {
    const commit = (await git(bare, 'rev-parse', 'main')).stdout.trim();
    const result = await runHook([client], `${'0'.repeat(40)} ${commit} refs/heads/main\n`);
    expect(result).toEqual({ code: 0, stdout: `summit: reported recipes ${commit.slice(0, 12)} (refs/heads/main) to ${url}\n` });
    expect(posted).toEqual([{ body: { repository: 'recipes', commit, ref: 'refs/heads/main' }, authorization: `Bearer ${HOOK}` }]);
  });

  it('says it found no client, and exits 0', async () => {
    const result = await runHook([], `${'0'.repeat(40)} ${'1'.repeat(40)} refs/heads/main\n`);
    expect(result).toEqual({ code: 0, stdout: expect.stringContaining('found no curl, wget or node') });
  });

  it('ignores a deleted branch', async () => {
    const result = await runHook(['node'], `${'1'.repeat(40)} ${'0'.repeat(40)} refs/heads/main\n`);
    expect(result.stdout).toMatch(/nothing to report/);
    expect(posted).toEqual([]);
  });
});
