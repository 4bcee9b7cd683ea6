/**
 * The build container: how nspawn is invoked, and a build that must stop, cancelled through its activity context
 * or orphaned by a worker that dies. Both must leave no build process behind. The heartbeat and cancel checks use the SDK's MockActivityEnvironment (the real
 * worker path is covered by test/avalanche-build.test.ts); the containers and processes are real.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createAvalancheActivities, type BuildHeartbeat } from '../activities/avalanche/build';
import { containerCommand, nspawnArgs, type ContainerSpec } from '../activities/avalanche/container';
import { machineName, machinePid } from '../core/build/machine-name';
import { stepCommand } from '../core/build/step-script';
import { artefactTokenSigner } from '../workers/avalanche/secret';
import { createBuildCgroup, prepareCgroupHost } from '../activities/avalanche/cgroup';
import { cleanLeftovers, NSPAWN_PROPAGATE } from '../workers/avalanche/leftovers';
import { diskUsage, diskUsageAtRest } from '../activities/avalanche/build-watch';
import { allocatedBytes, smallTreeEntries } from '../activities/avalanche/small-tree';
import { DEFAULT_LIMITS } from '../core/build/limits';
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
  const spec: ContainerSpec = {
    machine: 'summit-av1-1-2-build', mason: '/data/work/b/mason', pkgdir: '/data/work/b/checkout/liba',
    scripts: '/data/work/b/scripts', status: '/data/work/b/status', uidBase: 0x7e000000, hostAlternatives: true,
  };
  const args = nspawnArgs(spec, stepCommand('build'));

  it('runs on the host /usr read-only, offline, with the work dir, the recipe, the scripts and the status folder bound', () => {
    expect(args.slice(0, 7)).toEqual(['--register=no', '--keep-unit', '--quiet', '--machine=summit-av1-1-2-build', '--private-network', '--resolv-conf=off', '--timezone=off']);
    expect(args).toEqual(expect.arrayContaining([
      '--directory=/', '--volatile=yes', '--bind-ro=/etc/alternatives', '--bind=/data/work/b/mason:/mason',
      '--bind-ro=/data/work/b/checkout/liba:/mason/recipe', '--bind-ro=/data/work/b/scripts:/mason/scripts',
      '--bind=/data/work/b/status:/mason/status', '--chdir=/mason/build',
    ]));
    expect(nspawnArgs({ ...spec, hostAlternatives: false }, ['true'])).not.toContain('--bind-ro=/etc/alternatives');
  });

  it('maps the container into its own uid range, leaving files as they are, so that its root is nobody on the host', () => {
    expect(args).toEqual(expect.arrayContaining([`--private-users=${0x7e000000}:65536`, '--private-users-ownership=off']));
    expect(args.some((a) => a.endsWith(':idmap') || a.includes(':idmap,'))).toBe(false);
  });

  it('drops the capabilities builds never need and forbids gaining privileges', () => {
    const dropped = args.find((a) => a.startsWith('--drop-capability='))!.slice('--drop-capability='.length).split(',');
    for (const cap of ['CAP_SYS_ADMIN', 'CAP_MKNOD', 'CAP_NET_ADMIN', 'CAP_SYS_PTRACE', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_BOOT', 'CAP_SYS_TIME']) {
      expect(dropped).toContain(cap);
    }
    // The preamble needs these to become the build user.
    for (const cap of ['CAP_SETUID', 'CAP_SETGID', 'CAP_SETPCAP']) expect(dropped).not.toContain(cap);
    expect(args).toContain('--no-new-privileges=yes');
  });

  it('runs the step as the build user with no capabilities, after the root preamble marks the start', () => {
    expect(args.slice(-3)).toEqual(stepCommand('build'));
    const [sh, flag, script] = stepCommand('build');
    expect([sh, flag]).toEqual(['/bin/sh', '-c']);
    expect(script).toBe(": > '/mason/status/build.started' && exec setpriv --reuid=1000 --regid=1000 --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs -- /bin/sh -e '/mason/scripts/build.sh'");
  });

  it('shares the network only when asked (a networking recipe on a builder that allows it)', () => {
    expect(nspawnArgs({ ...spec, network: true }, ['true'])).not.toContain('--private-network');
  });

  it('runs in a configured rootfs read-only with a private /tmp everyone may write', () => {
    const rootfsArgs = nspawnArgs({ ...spec, rootfs: '/srv/rootfs' }, ['true']);
    expect(rootfsArgs).toEqual(expect.arrayContaining(['--directory=/srv/rootfs', '--read-only', '--tmpfs=/tmp:mode=1777']));
    expect(rootfsArgs).not.toContain('--volatile=yes');
  });

  it('starts nspawn under setpriv so that it gets SIGTERM when its parent dies', () => {
    expect(containerCommand(spec, ['true']).file).toBe('setpriv');
    expect(containerCommand(spec, ['true']).args.slice(0, 4)).toEqual(['--pdeathsig', 'TERM', '--', 'systemd-nspawn']);
  });

  it('enters the build cgroups first, then execs the same setpriv and nspawn', () => {
    const { file, args: launch } = containerCommand(spec, ['true'], ['/cg/memory/x/cgroup.procs', '/cg/pids/x/cgroup.procs']);
    expect(file).toBe('/bin/sh');
    expect(launch.slice(2, 6)).toEqual(['summit-launch', '2', '/cg/memory/x/cgroup.procs', '/cg/pids/x/cgroup.procs']);
    expect(launch.slice(6)).toEqual(['setpriv', ...containerCommand(spec, ['true']).args]);
  });
});

describe('the disk a build used', () => {
  it('counts allocated blocks once per inode and never follows a link out of the build', async () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'summit-disk-'));
    try {
      writeFileSync(join(dir, 'data'), Buffer.alloc(1024 * 1024, 1));
      linkSync(join(dir, 'data'), join(dir, 'hardlink'));
      symlinkSync('/usr', join(dir, 'usr-link'));
      // A sparse file claims 1 GiB and holds nothing.
      execFileSync('truncate', ['-s', '1G', join(dir, 'sparse')]);
      const used = await diskUsage([dir]);
      expect(used).toBeGreaterThanOrEqual(1024 * 1024);
      expect(used).toBeLessThan(2 * 1024 * 1024);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the disk a build used, walked in-process', () => {
  it('counts what du counts: blocks, hard links once, links as themselves, folders too, across folders', async () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'summit-disk-'));
    try {
      mkdirSync(join(dir, 'a/deep/er'), { recursive: true });
      mkdirSync(join(dir, 'b'));
      writeFileSync(join(dir, 'a/deep/er/data'), Buffer.alloc(300 * 1024, 1));
      writeFileSync(join(dir, 'a/small'), 'x');
      linkSync(join(dir, 'a/deep/er/data'), join(dir, 'b/hardlink'));
      symlinkSync('/usr', join(dir, 'a/usr-link'));
      execFileSync('truncate', ['-s', '1G', join(dir, 'b/sparse')]);
      const dirs = [join(dir, 'a'), join(dir, 'b'), join(dir, 'missing')];
      const walked = smallTreeEntries(dirs, 100, { oneFileSystem: true });
      expect(walked?.map((e) => e.path.slice(dir.length)).sort()).toEqual(
        ['/a', '/a/deep', '/a/deep/er', '/a/deep/er/data', '/a/small', '/a/usr-link', '/b', '/b/hardlink', '/b/sparse'],
      );
      expect(allocatedBytes(walked!)).toBe(await diskUsage(dirs));
      expect(await diskUsageAtRest(dirs)).toBe(await diskUsage(dirs));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives up past its limit, and diskUsageAtRest then asks du', async () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'summit-disk-'));
    try {
      for (let i = 0; i < 2100; i++) writeFileSync(join(dir, `f${i}`), 'x');
      expect(smallTreeEntries([dir], 2000)).toBeUndefined();
      expect(smallTreeEntries([dir], 2101)).toHaveLength(2101);
      expect(await diskUsageAtRest([dir])).toBe(await diskUsage([dir]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('build machine names', () => {
  it('carry the builder and the worker pid, so that a restarted builder finds only its own leftovers', () => {
    const name = machineName('Build_01.farm', 4242, 3, 'build');
    expect(name).toBe('summit-build-01-farm-4242-3-build');
    expect(machinePid('Build_01.farm', name)).toBe(4242);
    expect(machinePid('build-02', name)).toBeUndefined();
    expect(machinePid('Build_01.farm', 'summit-build-01-farm-x')).toBeUndefined();
  });
});

describeWhenAvailable(nspawnUnavailableReason(), 'stopping avalanche builds', () => {
  let tmp: string;

  beforeAll(() => {
    tmp = mkdtempSync(join(os.tmpdir(), 'summit-avalanche-cancel-'));
  });

  afterAll(() => {
    // Never leave a sleeper behind, whatever failed above.
    for (const pid of ['4243', '4244', '4245'].flatMap((n) => processesRunning('sleep', n))) process.kill(pid, 'SIGKILL');
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
    for (const d of ['scripts', 'status']) mkdirSync(join(tmp, 'orphan', d));
    const { file, args } = containerCommand(
      { machine: `summit-orphan-${process.pid}`, mason, pkgdir: join(tmp, 'orphan', 'recipe'), scripts: join(tmp, 'orphan', 'scripts'), status: join(tmp, 'orphan', 'status'), uidBase: 0x7e000000 },
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

  it('removes, when a builder starts, the work folders, nspawn folders and cgroups its killed builds left, and kills what still ran there', async () => {
    const dataDir = join(tmp, 'leftovers');
    mkdirSync(join(dataDir, 'avalanche', 'work', 'build%2Fdemo', 'mason', 'build'), { recursive: true });
    mkdirSync(join(dataDir, 'avalanche', 'logs'), { recursive: true });
    writeFileSync(join(dataDir, 'avalanche', 'logs', 'kept.log'), 'a failure to read later\n');
    // A pid that was alive once and is not any more: the builder process killed with its builds.
    const gone = spawnSync('true').pid;
    const host = await prepareCgroupHost();
    const limits = { ...DEFAULT_LIMITS, memoryBytes: 64 * 2 ** 20, tasks: 32 };
    const stale = machineName('leftover-test', gone, 1, 'build');
    const live = machineName('leftover-test', process.pid, 1, 'build');
    const other = machineName('other-builder', gone, 1, 'build');
    for (const name of [stale, live, other]) mkdirSync(join(NSPAWN_PROPAGATE, name), { recursive: true });
    const staleCgroup = await createBuildCgroup(host, stale, limits);
    const liveCgroup = await createBuildCgroup(host, live, limits);
    // What an orphaned container would be: a process still inside the stale cgroup.
    const orphan = spawn('/bin/sh', ['-c', 'for f; do echo $$ > "$f"; done; exec sleep 4245', 'sh', ...staleCgroup.procsFiles], { stdio: 'ignore' });
    try {
      await waitFor('the orphan in its cgroup', () => processesRunning('sleep', '4245').length > 0);
      const left = await cleanLeftovers({ dataDir, builderId: 'leftover-test', cgroups: host });
      expect(left).toEqual({ work: ['build%2Fdemo'], propagate: [stale], cgroups: [stale] });
      expect(readdirSync(join(dataDir, 'avalanche', 'work'))).toEqual([]);
      expect(readdirSync(join(dataDir, 'avalanche', 'logs'))).toEqual(['kept.log']);
      expect(existsSync(join(NSPAWN_PROPAGATE, stale))).toBe(false);
      expect(existsSync(join(NSPAWN_PROPAGATE, live))).toBe(true);
      expect(existsSync(join(NSPAWN_PROPAGATE, other))).toBe(true);
      for (const file of staleCgroup.procsFiles) expect(existsSync(file)).toBe(false);
      for (const file of liveCgroup.procsFiles) expect(existsSync(file)).toBe(true);
      await waitFor('the orphan to be killed', () => processesRunning('sleep', '4245').length === 0);
    } finally {
      orphan.kill('SIGKILL');
      await staleCgroup.remove().catch(() => undefined);
      await liveCgroup.remove();
      for (const name of [stale, live, other]) rmSync(join(NSPAWN_PROPAGATE, name), { recursive: true, force: true });
    }
  });
});
