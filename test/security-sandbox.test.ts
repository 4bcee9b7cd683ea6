/**
 * Hostile recipes through the real pipeline (git push → hook → hub → avalanche in systemd-nspawn → vessel), one
 * farm, one builder with two slots and small limits. Each attack must end with its build failed for a stated
 * reason, in one attempt (a recipe's fault is never retried as the builder's), the host unchanged and nothing of
 * it published; a well-behaved recipe next to them is built and published, so the farm did work.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { machinePrefix } from '../core/build/machine-name';
import { readIndex } from '../core/formats/repo-index';
import { parseRootIndex, resolveIndexPath } from '../core/formats/root-index';
import { Farm, hookedRepository, startFarm, waitFor, type TaskView } from './helpers/farm';
import { describeWhenAvailable } from './support/ci';
import { nspawnUnavailableReason } from './support/nspawn';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { startTemporalTestServer, TemporalTestServer } from './support/temporal';
import { dataConverterFor } from '../workers/temporal';

jest.setTimeout(600_000);


/** A recipe with the given steps (each a list of shell lines). */
function hostileRecipe(name: string, steps: Partial<Record<'setup' | 'build' | 'install', string[]>>, extra: string[] = []): string {
  const lines = [
    `name        : ${name}`, 'version     : "1.0"', 'release     : 1', `homepage    : https://example.org/${name}`,
    'license     : MPL-2.0', `summary     : ${name}`, `description : ${name}`, ...extra,
  ];
  for (const [step, body] of Object.entries(steps)) lines.push(`${step.padEnd(12)}: |`, ...body.map((l) => `    ${l}`));
  return `${lines.join('\n')}\n`;
}

describeWhenAvailable(nspawnUnavailableReason(), 'hostile recipes in the build sandbox', () => {
  let temporal: TemporalTestServer;
  let pg: TestDatabase;
  let work: string;
  let farm: Farm;
  let clone: string;
  let apiPort: number;
  /** Host paths the attacks aim at: none may exist afterwards. */
  let symlinkTarget: string;
  let statusTarget: string;
  const builderEnv = {
    SUMMIT_BUILDER_SLOTS: '2', SUMMIT_BUILD_JOBS: '1', SUMMIT_BUILD_MEMORY: '256M', SUMMIT_BUILD_TASKS: '128',
    SUMMIT_BUILD_TIME: '20s', SUMMIT_BUILD_DISK: '50M', SUMMIT_BUILD_LOG: '1M',
    // The builder allows the network, the repository does not (registered without `networking`): the online
    // recipe must be refused by the repository's policy alone. Recipes that do not ask stay off the network.
    SUMMIT_BUILD_NETWORK: '1',
  };
  const usrTargets = ['/usr/summit-pwned-remount', '/usr/summit-pwned-unshare', '/usr/lib/summit-pwned'];

  const api = async <T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${farm.api.url}${path}`, init);
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  const tasks = async () => (await api<{ items: TaskView[] }>('/api/tasks?limit=200')).body.items;
  const taskId = (source: string) => `build/sec/recipes/${source}-1.0-1/x86_64`;
  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
  const write = (path: string, content: string) => {
    mkdirSync(dirname(join(clone, path)), { recursive: true });
    writeFileSync(join(clone, path), content);
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'summit-security-'));
    symlinkTarget = join(work, 'host-file-via-scripts');
    statusTarget = join(work, 'host-file-via-status');
    [temporal, pg] = await Promise.all([startTemporalTestServer(), createTestDatabase('security')]);
    farm = await startFarm({ work, temporalAddress: temporal.address, databaseUrl: pg.url });
    apiPort = Number(new URL(farm.api.url).port);
    await farm.startBuilder('sec1', builderEnv);
    ({ clone } = await hookedRepository(farm, work, 'sec'));
    await waitFor('the builder to report to the hub', async () => ((await api<{ items: unknown[] }>('/api/builders')).body.items.length > 0 ? true : undefined), 60_000);
  });

  afterAll(async () => {
    await farm?.stop();
    await temporal?.stop();
    await pg?.drop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const attacks: Array<{ source: string; reason: RegExp; log?: RegExp }> = [
    { source: 'remount', reason: /^build failed in step install \(exit 1\): step install exited with 1 after/, log: /remount refused[\s\S]*unshare refused/ },
    { source: 'symlink', reason: /^build failed in step package \(exit signal\): %\(installroot\)\/usr is a symbolic link/, log: /scripts link refused[\s\S]*status link refused/ },
    { source: 'mknod', reason: /^build failed in step install \(exit 1\): step install exited with 1 after/, log: /mknod: .*Operation not permitted/ },
    { source: 'loopback', reason: /^build failed in step install \(exit \d+\): step install exited with \d+ after/, log: /no connection to the API/ },
    { source: 'forkbomb', reason: /: step install tried to run more than 128 tasks \(processes and threads\) at once/ },
    { source: 'hog', reason: /: step install exceeded the memory limit of 256 MiB/ },
    { source: 'filler', reason: /: step install used more than 50 MiB of disk/ },
    { source: 'sleeper', reason: /: step install ran past the time limit of 20 s/ },
    { source: 'chatty', reason: /: step install wrote more than 1 MiB of log/, log: /\[log cut at 1 MiB\]/ },
    { source: 'online', reason: /^build failed in step recipe \(exit signal\): .*asks for the network \(networking: true\), which the policy of repository recipes \(its networking setting\) does not allow/ },
  ];

  it('fails every attack for its stated reason, once, and builds the honest recipe beside them', async () => {
    // The loopback attack must be able to fail: from the host, the same connection works.
    await new Promise<void>((resolve, reject) => {
      const socket = createConnection(apiPort, '127.0.0.1', () => {
        socket.end();
        resolve();
      }).on('error', reject);
    });
    write('remount/stone.yaml', hostileRecipe('remount', { install: [
      '(mount -o remount,rw,bind /usr && touch /usr/summit-pwned-remount) || echo remount refused',
      "(unshare -rm sh -c 'mount -o remount,rw,bind /usr && touch /usr/summit-pwned-unshare') || echo unshare refused",
      'touch /usr/lib/summit-pwned',
    ] }));
    write('symlink/stone.yaml', hostileRecipe('symlink', {
      // The host writes each step's script and reads its start marker: links planted there would steer it.
      setup: [
        `ln -sf ${symlinkTarget} /mason/scripts/build.sh || echo scripts link refused`,
        `ln -sf ${statusTarget} /mason/status/build.started || echo status link refused`,
        'mkdir -p %(installroot)', 'ln -s / %(installroot)/usr',
      ],
      build: ['true'],
      install: ['true'],
    }));
    write('mknod/stone.yaml', hostileRecipe('mknod', { install: [
      "unshare -rm sh -c 'mknod /tmp/sda b 8 0' || true",
      'mknod %(workdir)/sda b 8 0', 'mount %(workdir)/sda /mnt',
    ] }));
    write('loopback/stone.yaml', hostileRecipe('loopback', { install: [
      `perl -MIO::Socket::INET -e 'IO::Socket::INET->new(PeerAddr => "127.0.0.1:${apiPort}", Timeout => 5) or die "no connection to the API: $@\\n"'`,
    ] }));
    write('forkbomb/stone.yaml', hostileRecipe('forkbomb', { install: ['bomb() { bomb | bomb & }', 'bomb', 'sleep 6061'] }));
    write('hog/stone.yaml', hostileRecipe('hog', { install: ["perl -e '$x = \"a\" x (600 * 1024 * 1024); print length($x), \"\\n\"'", 'sleep 6062'] }));
    write('filler/stone.yaml', hostileRecipe('filler', { install: ['dd if=/dev/urandom of=%(workdir)/fill bs=1M count=120', 'sleep 6063'] }));
    write('sleeper/stone.yaml', hostileRecipe('sleeper', { install: ['sleep 6600'] }));
    write('chatty/stone.yaml', hostileRecipe('chatty', { install: ['yes summit | head -c 3000000', 'sleep 6064'] }));
    write('online/stone.yaml', hostileRecipe('online', { install: ['true'] }, ['networking  : true']));
    write('honest/stone.yaml', hostileRecipe('honest', { install: [
      'test "$(id -u)" = 1000', 'install -Dm644 /dev/null %(installroot)%(datadir)/honest/ok',
    ] }));
    git(clone, 'add', '-A');
    git(clone, 'commit', '-q', '-m', 'hostile recipes');
    const { stderr } = await promisify(execFile)('git', ['push', '-q', 'origin', 'main'], { cwd: clone });
    expect(stderr).toMatch(/summit: reported recipes/);

    const wanted = [...attacks.map((a) => a.source), 'honest'];
    const done = await waitFor('every build to end', async () => {
      const all = await tasks();
      const ended = wanted.map((s) => all.find((t) => t.id === taskId(s))).filter((t) => t && ['failed', 'completed'].includes(t.status));
      return ended.length === wanted.length ? (ended as TaskView[]) : undefined;
    }, 480_000, async () => (await tasks()).map((t) => `${t.id} ${t.status} ${t.reason ?? ''}`).join('\n'));

    const byName = new Map(done.map((t) => [t.source, t]));
    expect(byName.get('honest')!.status).toBe('completed');
    for (const a of attacks) {
      const t = byName.get(a.source)!;
      expect({ source: a.source, status: t.status }).toEqual({ source: a.source, status: 'failed' });
      expect(t.reason).toMatch(a.reason);
      if (a.log) expect(readFileSync(logOf(a.source), 'utf8')).toMatch(a.log);
    }
  });

  const logOf = (source: string) => join(farm.builders.get('sec1')!.dataDir, 'avalanche', 'logs', `${encodeURIComponent(taskId(source))}.log`);

  it('ran each failed build once: no second attempt of the activity, no second building state', async () => {
    const client = new Client({ connection: await Connection.connect({ address: temporal.address }), dataConverter: dataConverterFor({ payloadKeys: farm.payloadKeys }) });
    try {
      for (const { source } of attacks) {
        const { body } = await api<{ events: Array<{ to: string }> }>(`/api/tasks/${encodeURIComponent(taskId(source))}`);
        expect({ source, building: body.events.filter((e) => e.to === 'building').length }).toEqual({ source, building: 1 });
        // The build activity was scheduled once and started once, at attempt 1: a recipe's fault is not retried.
        const events = (await client.workflow.getHandle(taskId(source)).fetchHistory()).events ?? [];
        const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'buildRecipe').map((e) => String(e.eventId));
        const attempts = events.filter((e) => scheduled.includes(String(e.activityTaskStartedEventAttributes?.scheduledEventId))).map((e) => e.activityTaskStartedEventAttributes!.attempt);
        expect({ source, scheduled: scheduled.length, attempts }).toEqual({ source, scheduled: 1, attempts: [1] });
      }
    } finally {
      await client.connection.close();
    }
  });

  it('left the host as it was: nothing new in /usr, no file written through a planted link, no device node, no build process', () => {
    for (const path of usrTargets) expect({ path, exists: existsSync(path) }).toEqual({ path, exists: false });
    expect(existsSync(symlinkTarget)).toBe(false);
    expect(existsSync(statusTarget)).toBe(false);
    const devices = execFileSync('find', [work, '(', '-type', 'b', '-o', '-type', 'c', ')', '-print'], { encoding: 'utf8' });
    expect(devices).toBe('');
    // The attacks end in sleeps of their own lengths: none may outlive its build.
    const survivors = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => /^sleep (6061|6062|6063|6064|6600)$/.test(l.trim()));
    expect(survivors).toEqual([]);
  });

  it('published the honest package and nothing of the attacks', async () => {
    const repo = join(farm.reposDir, 'main');
    const root = parseRootIndex(readFileSync(join(repo, 'moss-root-index.json'), 'utf8'));
    const path = join(repo, resolveIndexPath(root, 'volatile', 'x86_64')!);
    const names = (await readIndex(readFileSync(path), path)).map((e) => e.name);
    expect(names).toEqual(['honest']);
    expect(existsSync(join(repo, 'pool'))).toBe(true);
    const pooled = execFileSync('find', [join(repo, 'pool'), '-name', '*.stone'], { encoding: 'utf8' }).trim().split('\n');
    expect(pooled.map((p) => p.split('/').pop())).toEqual(['honest-1.0-1-1-x86_64.stone']);
  });

  it('removes, when the builder starts again, what a build killed with the builder left behind', async () => {
    const builder = farm.builders.get('sec1')!;
    const pid = builder.child.pid!;
    write('victim/stone.yaml', hostileRecipe('victim', { install: ['sleep 6065'] }));
    git(clone, 'add', '-A');
    git(clone, 'commit', '-q', '-m', 'victim');
    await promisify(execFile)('git', ['push', '-q', 'origin', 'main'], { cwd: clone });
    const workRoot = join(builder.dataDir, 'avalanche', 'work');
    const workDir = join(workRoot, encodeURIComponent(taskId('victim')));
    // The build cgroups of this builder process, in the pids hierarchy (every host here has it at its root).
    const pidsParent = join('/sys/fs/cgroup/pids', readFileSync('/proc/self/cgroup', 'utf8').match(/^\d+:pids:(.*)$/m)?.[1] ?? '/');
    const ours = () => readdirSync(pidsParent).filter((n) => n.startsWith(`${machinePrefix('sec1')}${pid}-`));
    await waitFor('the victim to run in its container', async () => (execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes('sleep 6065') ? true : undefined), 120_000);
    expect(ours()).toHaveLength(1);
    builder.child.kill('SIGKILL');
    await waitFor('the builder and its container to be gone', async () =>
      (builder.child.exitCode !== null || builder.child.signalCode !== null) && !execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes('sleep 6065') ? true : undefined, 30_000);
    // Killed with its builder: the work folder and the cgroup stay behind.
    expect(existsSync(workDir)).toBe(true);
    expect(ours()).toHaveLength(1);

    await farm.startBuilder('sec1', builderEnv);
    await waitFor('the restarted builder to remove the leftovers', async () => (ours().length === 0 && !existsSync(workDir) ? true : undefined), 60_000,
      async () => `work: ${readdirSync(workRoot).join(', ')}; cgroups: ${ours().join(', ')}`);
  });
});
