/**
 * Avalanche's build activity on the real things: git repositories, systemd-nspawn with the host's /usr as the
 * read-only build root, a Temporal dev server with a worker in this process, and the artefact server over HTTP.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createAvalancheActivities, type AvalancheBuildConfig } from '../activities/avalanche/build';
import { startArtefactServer, type ArtefactServer } from '../workers/avalanche/artefact-server';
import { clonesRoot, KeptClones } from '../activities/avalanche/kept-clones';
import { artefactsDir, avalancheRoot, buildPaths } from '../activities/avalanche/paths';
import { artefactTokenSigner, loadOrCreateSecret } from '../workers/avalanche/secret';
import { BUILD_FAILED, type BuildFailureDetails, type BuildRequest, type BuildResult } from '../core/contracts/build';
import { buildId, builderId, type BuildId } from '../core/contracts/ids';
import type { IsaLevel } from '../core/contracts/queues';
import { readManifestFile } from '../core/formats/manifest';
import { describePackage } from '../core/formats/stone/package';
import { extractPackage } from '../packaging/extract';
import { withStoneFile } from '../packaging/open-stone';
import { buildOnce, cleanupOnce } from './fixtures/avalanche/workflows';
import { createRecipeRepo, EXAMPLES, git, recipeYaml, type RecipeRepo } from './fixtures/avalanche/recipe-repo';
import { describeWhenAvailable } from './support/ci';
import { nspawnUnavailableReason } from './support/nspawn';
import { startTemporalTestServer, taskQueueFor, type TemporalTestServer } from './support/temporal';
import { installQuietWorkerRuntime } from './support/worker';

/** A tarball and a tagged git repository on the local disk, standing for upstream sources. */
function upstreamMaterial(dir: string): { tarball: string; sha256: string; git: string } {
  mkdirSync(join(dir, 'hello-1.0'), { recursive: true });
  writeFileSync(join(dir, 'hello-1.0', 'hello.txt'), 'hello from a tarball\n');
  const tarball = join(dir, 'hello-1.0.tar.gz');
  execFileSync('tar', ['-czf', tarball, '-C', dir, 'hello-1.0']);
  const notes = join(dir, 'notes');
  mkdirSync(notes);
  writeFileSync(join(notes, 'notes.txt'), 'notes from git\n');
  git(notes, 'init', '--quiet');
  git(notes, 'add', '-A');
  git(notes, 'commit', '--quiet', '-m', 'notes');
  git(notes, 'tag', 'v1');
  writeFileSync(join(notes, 'notes.txt'), 'changed after the tag\n');
  git(notes, 'commit', '--quiet', '-am', 'later');
  return { tarball: pathToFileURL(tarball).href, sha256: createHash('sha256').update(readFileSync(tarball)).digest('hex'), git: pathToFileURL(notes).href };
}

const BROKEN_C = '#include <stdio.h>\nint main(void)\n{\n\tputs("never")\n\treturn 0;\n}\n';

describeWhenAvailable(nspawnUnavailableReason(), 'avalanche builds in systemd-nspawn', () => {
  let tmp: string;
  let server: TemporalTestServer;
  let connection: NativeConnection;
  let client: Client;
  let bundle: WorkflowBundleWithSourceMap;
  let artefacts: ArtefactServer;
  let secret: Buffer;
  let repo: RecipeRepo;
  let dataDir: string;
  let baseUrl: string;
  const workers: Array<{ worker: Worker; running: Promise<void> }> = [];
  let queue: string;
  const timings: string[] = [];

  async function startWorker(overrides: Partial<AvalancheBuildConfig> = {}): Promise<string> {
    const taskQueue = taskQueueFor(`avalanche-${workers.length}`);
    const config: AvalancheBuildConfig = {
      dataDir, builderId: builderId('test-builder'), artefactBaseUrl: baseUrl,
      tokens: artefactTokenSigner(secret, 3600), jobs: 2, heartbeatIntervalMs: 1000,
      // The test's upstreams and recipe repository are local folders: the operator allows them (source-url.ts).
      sources: { localSources: [join(tmp, 'upstream')], repositoryRoots: [join(tmp, 'repo')], maxUpstreamBytes: 1 << 30, upstreamTimeoutMs: 30_000 },
      ...overrides,
    };
    const worker = await Worker.create({ connection, namespace: server.namespace, taskQueue, workflowBundle: bundle, activities: createAvalancheActivities(config) });
    workers.push({ worker, running: worker.run() });
    return taskQueue;
  }

  function request(source: string, version: string, isa: IsaLevel = 'x86_64', extra: Partial<BuildRequest> = {}): BuildRequest {
    return {
      buildId: buildId({ project: 'demo', repository: 'recipes', source, version, release: 1, isa }), repoUrl: repo.bare,
      commit: repo.commit, recipePath: source, source, version, release: 1, isa, buildRelease: 1, ...extra,
    };
  }

  async function build(req: BuildRequest, taskQueue = queue): Promise<BuildResult> {
    const started = Date.now();
    const result = await client.workflow.execute(buildOnce, { taskQueue, workflowId: `${req.buildId}#${started}`, args: [req, taskQueue] });
    timings.push(`${req.source} (${req.isa}): ${Date.now() - started} ms`);
    return result;
  }

  async function buildFailure(req: BuildRequest): Promise<ApplicationFailure> {
    try {
      await build(req);
    } catch (err) {
      if (err instanceof WorkflowFailedError && err.cause instanceof ActivityFailure && err.cause.cause instanceof ApplicationFailure) return err.cause.cause;
      throw err;
    }
    throw new Error(`${req.source} built although it should not`);
  }

  const stoneOf = (result: BuildResult, name: string) => join(artefactsDir(dataDir, result.buildId), result.artefacts.find((a) => a.name === name)!.name);
  const readStone = (path: string) => withStoneFile(path, async (reader) => describePackage(reader));
  const dependencyOn = (result: BuildResult, name: string) => {
    const a = result.artefacts.find((x) => x.name.startsWith(`${name}-1.0.0-`))!;
    return { name, url: pathToFileURL(stoneOf(result, a.name)).href, sha256: a.sha256 };
  };
  /** The manifest committed in examples/recipes is what the builder produces (summit plans from the committed one). */
  const expectCommittedManifest = async (result: BuildResult, source: string) => {
    const facts = (m: Awaited<ReturnType<typeof readManifestFile>>) => m.packages.map((p) => ({ name: p.name, provides: p.provides, depends: p.depends, buildDepends: p.buildDepends }));
    const built = await readManifestFile(join(artefactsDir(dataDir, result.buildId), 'manifest.x86_64.bin'));
    expect(facts(built)).toEqual(facts(await readManifestFile(join(EXAMPLES, source, 'manifest.x86_64.bin'))));
  };
  const get = (result: Pick<BuildResult, 'buildId'>, name: string, token?: string) =>
    fetch(`${baseUrl}/builds/${encodeURIComponent(result.buildId)}/${name}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });

  beforeAll(async () => {
    installQuietWorkerRuntime();
    tmp = mkdtempSync(join(os.tmpdir(), 'summit-avalanche-'));
    dataDir = join(tmp, 'data');
    const upstreams = upstreamMaterial(join(tmp, 'upstream'));
    repo = createRecipeRepo(join(tmp, 'repo'), {
      'sourced/stone.yaml': recipeYaml('sourced', [
        'upstreams:', `    - ${upstreams.tarball}: ${upstreams.sha256}`, `    - git|${upstreams.git}:`, '        ref: v1', '        clonedir: notes',
        'install: |', '    %install_file hello.txt %(installroot)%(datadir)/sourced/hello.txt',
        '    %install_file notes/notes.txt %(installroot)%(datadir)/sourced/notes.txt',
      ].join('\n')),
      'badhash/stone.yaml': recipeYaml('badhash', `upstreams:\n    - ${upstreams.tarball}: ${'b'.repeat(64)}\ninstall: |\n    true`),
      'broken/stone.yaml': recipeYaml('broken', 'build: |\n    $CC $CFLAGS -o broken %(pkgdir)/broken.c'),
      'broken/broken.c': BROKEN_C,
      'typo/stone.yaml': recipeYaml('typo', 'build: |\n    %frobnicate --all'),
      'sleeper/stone.yaml': recipeYaml('sleeper', 'build: |\n    sleep 4242'),
    });
    secret = await loadOrCreateSecret(dataDir);
    artefacts = await startArtefactServer({ dataDir, secret, port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${artefacts.port}`;
    server = await startTemporalTestServer();
    connection = await NativeConnection.connect({ address: server.address });
    client = new Client({ connection, namespace: server.namespace });
    bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/avalanche/workflows'), logger: { info() {}, warn() {}, error() {}, debug() {}, trace() {}, log() {} } });
    queue = await startWorker();
  }, 120_000);

  afterAll(async () => {
    for (const w of workers) w.worker.shutdown();
    await Promise.all(workers.map((w) => w.running.catch(() => undefined)));
    await connection?.close();
    await server?.stop();
    await artefacts?.close();
    console.log(`avalanche build timings (workflow start to result):\n  ${timings.join('\n  ')}`);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  let liba: BuildResult;
  let tool: BuildResult;

  it('builds liba at the commit into a root and a -devel package with sonames, pkg-config and a manifest', async () => {
    liba = await build(request('liba', '1.0.0'));
    expect(liba.artefacts.map((a) => [a.name, a.kind])).toEqual([
      ['liba-1.0.0-1-1-x86_64.stone', 'stone'],
      ['liba-devel-1.0.0-1-1-x86_64.stone', 'stone'],
      ['manifest.x86_64.bin', 'manifest-bin'],
      ['manifest.x86_64.jsonc', 'manifest-jsonc'],
      ['build.log', 'log'],
    ]);
    for (const a of liba.artefacts) {
      const bytes = readFileSync(join(artefactsDir(dataDir, liba.buildId), a.name));
      expect({ name: a.name, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }).toEqual({ name: a.name, size: a.size, sha256: a.sha256 });
    }

    const root = await readStone(stoneOf(liba, 'liba-1.0.0-1-1-x86_64.stone'));
    expect(root.meta).toMatchObject({ name: 'liba', version: '1.0.0', release: 1, buildRelease: 1, architecture: 'x86_64', sourceId: 'liba', licenses: ['MIT'] });
    expect(root.files.map((f) => [f.path, f.type])).toEqual([['/usr/lib/libliba.so.1', 'symlink'], ['/usr/lib/libliba.so.1.0.0', 'regular']]);
    expect(root.meta.provides).toEqual(['soname(libliba.so.1(x86_64))']);
    expect(root.meta.depends).toEqual(['soname(libc.so.6(x86_64))']);

    const devel = await readStone(stoneOf(liba, 'liba-devel-1.0.0-1-1-x86_64.stone'));
    expect(devel.meta).toMatchObject({ name: 'liba-devel', summary: 'Development files for liba', depends: ['liba'], provides: ['pkgconfig(liba)'] });
    expect(devel.files.map((f) => f.path)).toEqual(['/usr/include/liba.h', '/usr/lib/libliba.so', '/usr/lib/pkgconfig/liba.pc']);

    const manifest = await readManifestFile(join(artefactsDir(dataDir, liba.buildId), 'manifest.x86_64.bin'));
    expect(manifest.packages.map((p) => [p.name, p.buildRelease, p.provides])).toEqual([
      ['liba', 0, ['soname(libliba.so.1(x86_64))']], ['liba-devel', 0, ['pkgconfig(liba)']],
    ]);

    await expectCommittedManifest(liba, 'liba');

    const log = readFileSync(liba.logPath, 'utf8');
    for (const step of ['setup', 'build', 'install', 'check']) expect(log).toContain(`==> summit: step ${step} done`);
    expect(log).toContain('-march=x86-64-v2 -mtune=ivybridge');
    expect(log).toContain('hello from liba 1.0.0');
    expect(existsSync(buildPaths(dataDir, liba.buildId).work)).toBe(false);
  });

  it('fails a recipe that does not compile non-retryably, with the compiler error in the log tail', async () => {
    const failure = await buildFailure(request('broken', '1.0'));
    expect(failure.type).toBe(BUILD_FAILED);
    expect(failure.nonRetryable).toBe(true);
    const details = failure.details?.[0] as BuildFailureDetails;
    expect(details).toMatchObject({ step: 'build', exitCode: 1, builderId: 'test-builder' });
    expect(details.logTail).toMatch(/broken\.c:4:\d+: error: expected .;. before .return./);
    expect(details.logTail.split('\n').length).toBeLessThanOrEqual(64);
    expect(readFileSync(details.logPath, 'utf8')).toContain('==> summit: build failed in build');
  });

  it('fails a recipe naming an unknown macro before anything runs, naming the macro, step and recipe', async () => {
    const failure = await buildFailure(request('typo', '1.0'));
    expect(failure.type).toBe(BUILD_FAILED);
    expect(failure.message).toMatch(/recipe typo \(typo\/stone\.yaml\), step "build": unknown macro %frobnicate/);
    expect((failure.details?.[0] as BuildFailureDetails).step).toBe('build');
  });

  it('refuses a recipe file or folder that is a symbolic link in the commit, without reading what it points at', async () => {
    // Host files a hostile commit points at: a well-formed recipe, so only the link check can refuse them.
    const outside = join(tmp, 'host-secret');
    mkdirSync(join(outside, 'linkdir'), { recursive: true });
    writeFileSync(join(outside, 'stone.yaml'), recipeYaml('linked', 'build: |\n    true'));
    writeFileSync(join(outside, 'linkdir', 'stone.yaml'), recipeYaml('linkdir', 'build: |\n    true'));
    const work = join(tmp, 'repo', 'work');
    mkdirSync(join(work, 'linked'));
    symlinkSync(join(outside, 'stone.yaml'), join(work, 'linked', 'stone.yaml'));
    symlinkSync(join(outside, 'linkdir'), join(work, 'linkdir'));
    git(work, 'add', '-A');
    git(work, 'commit', '--quiet', '-m', 'links');
    git(work, 'push', '--quiet', repo.bare, 'HEAD:refs/heads/links');
    const commit = git(work, 'rev-parse', 'HEAD');
    const file = await buildFailure(request('linked', '1.0', 'x86_64', { commit, buildId: 'build/demo/recipes/linked-1.0-1/x86_64' as BuildId }));
    expect(file.type).toBe(BUILD_FAILED);
    expect(file.message).toContain('linked/stone.yaml is a symbolic link in the commit; a recipe must be a regular file');
    expect((file.details?.[0] as BuildFailureDetails).step).toBe('recipe');
    const folder = await buildFailure(request('linkdir', '1.0', 'x86_64', { commit, buildId: 'build/demo/recipes/linkdir-1.0-1/x86_64' as BuildId }));
    expect(folder.message).toContain("linkdir is a symbolic link in the commit; a recipe's folder must be a real folder");
  });

  it('builds tool against liba\'s packages extracted into the build\'s sysroot, and not without them', async () => {
    const alone = await buildFailure(request('tool', '1.0.0'));
    expect((alone.details?.[0] as BuildFailureDetails).logTail).toMatch(/Package liba was not found|liba\.h: No such file/);

    tool = await build(request('tool', '1.0.0', 'x86_64', { dependencies: [dependencyOn(liba, 'liba-devel'), dependencyOn(liba, 'liba')] }));
    const pkg = await readStone(stoneOf(tool, 'tool-1.0.0-1-1-x86_64.stone'));
    expect(pkg.files.map((f) => f.path)).toEqual(['/usr/bin/tool']);
    expect(pkg.meta.provides).toEqual(['binary(tool)']);
    expect(pkg.meta.depends).toContain('interpreter(/lib64/ld-linux-x86-64.so.2(x86_64))');
    expect(pkg.meta.depends).toEqual(expect.arrayContaining(['soname(libliba.so.1(x86_64))', 'soname(libc.so.6(x86_64))']));
    expect(readFileSync(tool.logPath, 'utf8')).toContain('==> summit: step check done');
    await expectCommittedManifest(tool, 'tool');
  });

  it('refuses a dependency whose sha256 is not the one the request names', async () => {
    const dep = { ...dependencyOn(liba, 'liba'), sha256: '0'.repeat(64) };
    const failure = await buildFailure(request('tool', '1.0.0', 'x86_64', { buildId: 'build/demo/recipes/tool-1.0.0-1/bad-dep' as BuildId, dependencies: [dep] }));
    expect((failure.details?.[0] as BuildFailureDetails).step).toBe('dependencies');
    expect(failure.message).toMatch(/sha256 is [0-9a-f]{64}, expected 0{64}/);
  });

  it('builds a later commit from the kept clone, fetching only that commit, and takes its dependencies from the package cache', async () => {
    const clone = new KeptClones(clonesRoot(avalancheRoot(dataDir))).dirOf(realpathSync(repo.bare));
    const inode = statSync(clone).ino;
    const work = join(tmp, 'repo', 'work');
    writeFileSync(join(work, 'tool', 'NOTES'), 'a later commit\n');
    git(work, 'add', '-A');
    git(work, 'commit', '--quiet', '-m', 'later');
    git(work, 'push', '--quiet', repo.bare, 'HEAD:refs/heads/later');
    const later = git(work, 'rev-parse', 'HEAD');

    const rebuilt = await build(request('tool', '1.0.0', 'x86_64', {
      commit: later, buildId: 'build/demo/recipes/tool-1.0.0-1/later' as BuildId, dependencies: [dependencyOn(liba, 'liba-devel'), dependencyOn(liba, 'liba')],
    }));
    expect(statSync(clone).ino).toBe(inode);
    const log = readFileSync(rebuilt.logPath, 'utf8');
    expect(log).not.toMatch(/git init|git clone/);
    expect(log).toContain(`+${later}:refs/kept/${later}`);
    expect(log.match(/hash verified/g)).toHaveLength(2);
    expect(rebuilt.artefacts.find((a) => a.kind === 'stone')?.name).toBe('tool-1.0.0-1-1-x86_64.stone');
  });

  it('fetches, verifies and unpacks file:// tarballs and checks git upstreams out at their ref on the host', async () => {
    const sourced = await build(request('sourced', '1.0'));
    const dir = join(tmp, 'sourced-extract');
    await withStoneFile(stoneOf(sourced, 'sourced-1.0-1-1-x86_64.stone'), (reader) => extractPackage(reader, dir));
    expect(readFileSync(join(dir, 'usr/share/sourced/hello.txt'), 'utf8')).toBe('hello from a tarball\n');
    expect(readFileSync(join(dir, 'usr/share/sourced/notes.txt'), 'utf8')).toBe('notes from git\n');

    const failure = await buildFailure(request('badhash', '1.0'));
    expect((failure.details?.[0] as BuildFailureDetails).step).toBe('sources');
    expect(failure.message).toMatch(/hello-1\.0\.tar\.gz: sha256 is [0-9a-f]{64}, expected b{64}/);
  });

  it('builds in a configured rootfs directory, read-only, as well as on the host /usr', async () => {
    // A stand-in rootfs: the host /usr bound read-only into a tree with the usual links and /etc/alternatives.
    const rootfs = join(tmp, 'rootfs');
    mkdirSync(join(rootfs, 'usr'), { recursive: true });
    mkdirSync(join(rootfs, 'etc'));
    cpSync('/etc/alternatives', join(rootfs, 'etc/alternatives'), { recursive: true, verbatimSymlinks: true });
    for (const d of ['bin', 'sbin', 'lib', 'lib64']) symlinkSync(`usr/${d}`, join(rootfs, d));
    execFileSync('mount', ['--bind', '/usr', join(rootfs, 'usr')]);
    try {
      execFileSync('mount', ['-o', 'remount,bind,ro', join(rootfs, 'usr')]);
      const rootfsQueue = await startWorker({ buildRoot: rootfs });
      const result = await build(request('liba', '1.0.0', 'x86_64', { buildId: 'build/demo/recipes/liba-1.0.0-1/rootfs' as BuildId }), rootfsQueue);
      expect(result.artefacts.map((a) => a.name)).toContain('liba-1.0.0-1-1-x86_64.stone');
      expect(readFileSync(result.logPath, 'utf8')).toContain('==> summit: step check done');
    } finally {
      execFileSync('umount', [join(rootfs, 'usr')]);
    }
  });

  it('serves artefacts to the holder of the build\'s token only', async () => {
    const stone = liba.artefacts[0];
    const ok = await get(liba, stone.name, liba.artefactToken);
    expect(ok.status).toBe(200);
    expect(createHash('sha256').update(Buffer.from(await ok.arrayBuffer())).digest('hex')).toBe(stone.sha256);
    expect((await get(liba, stone.name)).status).toBe(401);
    expect((await get(liba, stone.name, 'v1.forged.1.x')).status).toBe(401);
    expect((await get(liba, stone.name, tool.artefactToken)).status).toBe(403);
    expect((await get(liba, 'nothing.stone', liba.artefactToken)).status).toBe(404);
    expect((await get(liba, '..%2F..%2Fartefact-secret', liba.artefactToken)).status).toBe(400);
    const raw = await fetch(`${baseUrl}/builds/${encodeURIComponent(liba.buildId)}/../../avalanche/artefact-secret`, { headers: { Authorization: `Bearer ${liba.artefactToken}` } });
    expect(raw.status).toBe(404);
    // The result's release token is vessel's to delete with: it reads nothing, and the read token (which summit
    // keeps) deletes nothing. Deleting with the release token is tested in test/artefact-release.test.ts.
    expect(liba.releaseToken).toMatch(/^r1\./);
    expect((await get(liba, stone.name, liba.releaseToken)).status).toBe(403);
    const release = (token: string | undefined) => fetch(`${baseUrl}/builds/${encodeURIComponent(liba.buildId)}`, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
    expect((await release(liba.artefactToken)).status).toBe(403);
    expect((await release(tool.releaseToken)).status).toBe(403);
    expect((await get(liba, stone.name, liba.artefactToken)).status).toBe(200);
  });

  it('damages the stones after hashing them when the test-only fault switch is on', async () => {
    const corruptQueue = await startWorker({ corruptArtefacts: true });
    const result = await build(request('app', '1.0.0', 'x86_64', { dependencies: [dependencyOn(tool, 'tool'), dependencyOn(liba, 'liba')] }), corruptQueue);
    const stone = result.artefacts.find((a) => a.kind === 'stone')!;
    const served = Buffer.from(await (await get(result, stone.name, result.artefactToken)).arrayBuffer());
    expect(served.length).toBe(stone.size);
    expect(createHash('sha256').update(served).digest('hex')).not.toBe(stone.sha256);
    const manifest = result.artefacts.find((a) => a.kind === 'manifest-bin')!;
    const servedManifest = Buffer.from(await (await get(result, manifest.name, result.artefactToken)).arrayBuffer());
    expect(createHash('sha256').update(servedManifest).digest('hex')).toBe(manifest.sha256);
  });

  it('cleans up a build\'s work dir and artefacts, keeps its log, and may be asked twice', async () => {
    await client.workflow.execute(cleanupOnce, { taskQueue: queue, workflowId: `cleanup-${Date.now()}`, args: [tool.buildId, queue] });
    await client.workflow.execute(cleanupOnce, { taskQueue: queue, workflowId: `cleanup-again-${Date.now()}`, args: [tool.buildId, queue] });
    expect(existsSync(artefactsDir(dataDir, tool.buildId))).toBe(false);
    expect(existsSync(buildPaths(dataDir, tool.buildId).work)).toBe(false);
    expect(existsSync(tool.logPath)).toBe(true);
    expect((await get(tool, tool.artefacts[0].name, tool.artefactToken)).status).toBe(404);
  });

  it('rebuilds the same build id from a clean work dir', async () => {
    const again = await build(request('liba', '1.0.0'));
    expect(again.artefacts.map((a) => a.name)).toEqual(liba.artefacts.map((a) => a.name));
    expect(readFileSync(again.logPath, 'utf8').match(/==> summit: build build\//g)).toHaveLength(1);
  });

  it('builds the x86_64-v3x variant with its flags and names when the CPU serves it', async () => {
    const cpu = readFileSync('/proc/cpuinfo', 'utf8');
    if (!/\bavx2\b/.test(cpu)) return;
    const v3x = await build(request('liba', '1.0.0', 'x86_64-v3x'));
    expect(v3x.artefacts.map((a) => a.name)).toContain('liba-1.0.0-1-1-x86_64-v3x.stone');
    expect(readFileSync(v3x.logPath, 'utf8')).toContain('-march=x86-64-v3 -mtune=znver1');
    const pkg = await readStone(stoneOf(v3x, 'liba-1.0.0-1-1-x86_64-v3x.stone'));
    expect(pkg.meta.architecture).toBe('x86_64');
  });
});
