/**
 * The build container: how nspawn is invoked, and a build that must stop, cancelled through its activity context
 * or orphaned by a worker that dies. Both must leave no build process behind. The heartbeat and cancel checks use the SDK's MockActivityEnvironment (the real
 * worker path is covered by test/avalanche-build.test.ts); the containers and processes are real.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createAvalancheActivities, type BuildHeartbeat } from '../activities/avalanche/build';
import { containerCommand, nspawnArgs } from '../activities/avalanche/container';
import { artefactTokenSigner } from '../activities/avalanche/secret';
import { buildPaths } from '../activities/avalanche/paths';
import type { BuildRequest } from '../core/contracts/build';
import { buildId, builderId } from '../core/contracts/ids';
import { createRecipeRepo, recipeYaml } from './fixtures/avalanche/recipe-repo';
import { describeWhenAvailable } from './support/ci';
import { nspawnUnavailableReason } from './support/nspawn';

/** Pids of processes whose command line is exactly `args`. */
function processesRunning(...args: string[]): number[] {
  const want = `${args.join('\0')}\0`;
  const pids: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8') === want) pids.push(Number(pid));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the nspawn invocation', () => {
  const spec = { machine: 'summit-1-2-build', mason: '/data/work/b/mason', pkgdir: '/data/work/b/checkout/liba' };

  it('runs on the host /usr read-only, offline, with the work dir and the recipe folder bound', () => {
    const args = nspawnArgs(spec, ['/bin/sh', '-e', '/mason/scripts/build.sh']);
    expect(args.slice(0, 7)).toEqual(['--register=no', '--keep-unit', '--quiet', '--machine=summit-1-2-build', '--private-network', '--resolv-conf=off', '--timezone=off']);
    expect(args).toEqual(expect.arrayContaining(['--directory=/', '--volatile=yes', '--bind=/data/work/b/mason:/mason', '--bind-ro=/data/work/b/checkout/liba:/mason/recipe', '--chdir=/mason/build']));
    if (existsSync('/etc/alternatives')) expect(args).toContain('--bind-ro=/etc/alternatives');
    expect(args.slice(-3)).toEqual(['/bin/sh', '-e', '/mason/scripts/build.sh']);
  });

  it('runs in a configured rootfs read-only with a private /tmp', () => {
    const args = nspawnArgs({ ...spec, rootfs: '/srv/rootfs' }, ['true']);
    expect(args).toEqual(expect.arrayContaining(['--directory=/srv/rootfs', '--read-only', '--tmpfs=/tmp']));
    expect(args).not.toContain('--volatile=yes');
  });

  it('starts nspawn under setpriv so that it gets SIGTERM when its parent dies', () => {
    expect(containerCommand(spec, ['true']).file).toBe('setpriv');
    expect(containerCommand(spec, ['true']).args.slice(0, 4)).toEqual(['--pdeathsig', 'TERM', '--', 'systemd-nspawn']);
  });
});

describeWhenAvailable(nspawnUnavailableReason(), 'stopping avalanche builds', () => {
  let tmp: string;

  beforeAll(() => {
    tmp = mkdtempSync(join(os.tmpdir(), 'summit-avalanche-cancel-'));
  });

  afterAll(() => {
    // Never leave a sleeper behind, whatever failed above.
    for (const pid of [...processesRunning('sleep', '4243'), ...processesRunning('sleep', '4244')]) process.kill(pid, 'SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  });

  it('heartbeats with its phase and log size, and kills the container when the activity is cancelled', async () => {
    const repo = createRecipeRepo(join(tmp, 'repo'), { 'sleeper/stone.yaml': recipeYaml('sleeper', 'build: |\n    echo going to sleep\n    sleep 4243') }, false);
    const dataDir = join(tmp, 'data');
    const activities = createAvalancheActivities({
      dataDir, builderId: builderId('cancel-test'), artefactBaseUrl: 'http://127.0.0.1:1',
      tokens: artefactTokenSigner(Buffer.alloc(32, 1), 60), jobs: 1, heartbeatIntervalMs: 200,
      sources: { localSources: [], repositoryRoots: [tmp], maxUpstreamBytes: 1 << 30, upstreamTimeoutMs: 30_000 },
    });
    const req: BuildRequest = {
      buildId: buildId({ project: 'demo', repository: 'recipes', source: 'sleeper', version: '1.0', release: 1, isa: 'x86_64' }),
      repoUrl: repo.bare, commit: repo.commit, recipePath: 'sleeper', source: 'sleeper', version: '1.0', release: 1, isa: 'x86_64', buildRelease: 1,
    };
    const env = new MockActivityEnvironment();
    const beats: BuildHeartbeat[] = [];
    env.on('heartbeat', (d: BuildHeartbeat) => beats.push(d));

    const running = env.run(activities.buildRecipe, req);
    const outcome = running.then(() => 'built', (err: unknown) => err);
    await waitFor('the sleeping build step', () => processesRunning('sleep', '4243').length > 0);
    await waitFor('a heartbeat from the build step', () => beats.some((b) => b.step === 'build' && b.logBytes > 0));
    env.cancel();

    expect(await outcome).toBeInstanceOf(CancelledFailure);
    await waitFor('the container to end', () => processesRunning('sleep', '4243').length === 0, 15_000);
    expect(readFileSync(buildPaths(dataDir, req.buildId).log, 'utf8')).toMatch(/going to sleep[\s\S]*==> summit: build stopped/);
  });

  it('takes the container down when the worker process dies by SIGKILL', async () => {
    const mason = join(tmp, 'orphan', 'mason');
    mkdirSync(join(mason, 'build'), { recursive: true });
    mkdirSync(join(tmp, 'orphan', 'recipe'));
    const { file, args } = containerCommand(
      { machine: `summit-orphan-${process.pid}`, mason, pkgdir: join(tmp, 'orphan', 'recipe') },
      ['/bin/sleep', '4244'],
    );
    // A stand-in worker: starts the container exactly as the build activity does, then waits.
    const worker = spawn(process.execPath, ['-e', `require('child_process').spawn(process.argv[1], JSON.parse(process.argv[2]), { stdio: 'ignore' }); setInterval(() => {}, 1000);`, file, JSON.stringify(args)], { stdio: 'ignore' });
    try {
      await waitFor('the container to start', () => processesRunning('/bin/sleep', '4244').length > 0);
      worker.kill('SIGKILL');
      await waitFor('the orphaned container to end', () => processesRunning('/bin/sleep', '4244').length === 0, 15_000);
    } finally {
      worker.kill('SIGKILL');
      rmSync(`/run/systemd/nspawn/propagate/summit-orphan-${process.pid}`, { recursive: true, force: true });
    }
  });
});
