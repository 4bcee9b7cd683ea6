/**
 * Vessel's closure gate and base packages on real files (issue 9): a publish whose packages need what nothing
 * provides fails with the non-retryable CLOSURE_UNRESOLVED, naming each dependency and who needs it, and writes
 * nothing; one whose needs the build root answers gets the `build-root` base package, made from the build root's
 * own C library and loader (copied here from the host into a private rootfs, with the host's symlink layout), and
 * reused as it is by the next publish; a changed build root gives a new base package. Then prune: the dry run
 * changes nothing, the real one keeps the newest, the tagged and the stream-named histories.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes } from 'node:fs/promises';
import { existsSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { CLOSURE_UNRESOLVED, type ClosureReport } from '../core/contracts/vessel';
import { resolveIndexPath, parseRootIndex } from '../core/formats/root-index';
import { readIndex } from '../core/formats/repo-index';
import { vesselDeps } from '../activities/vessel/activities';
import { importBuild, type VesselDeps } from '../activities/vessel/import-build';
import { repositoryDir } from '../activities/vessel/layout';
import { pruneRepository } from '../activities/vessel/prune';
import { Repository } from '../activities/vessel/repository';
import { tagHistory } from '../activities/vessel/stream-commands';
import { buildStone, importRequest, startArtefactServer, testMeta, type ArtefactServer } from './support/vessel-fixtures';
import { describeWhenAvailable } from './support/ci';

const HOST_LOADER = '/lib64/ld-linux-x86-64.so.2';
const HOST_LIBC = ['/usr/lib/x86_64-linux-gnu/libc.so.6', '/usr/lib64/libc.so.6', '/usr/lib/libc.so.6'].find((p) => existsSync(p));

let work: string;
let server: ArtefactServer;
let buildRoot: string;
let deps: VesselDeps;
let repo: Repository;

/** A rootfs holding only the host's loader and libc, laid out as Debian does (/lib64 → absolute link to the real file). */
async function makeBuildRoot(dir: string): Promise<void> {
  await mkdir(join(dir, 'usr', 'lib', 'x86_64-linux-gnu'), { recursive: true });
  await mkdir(join(dir, 'lib64'), { recursive: true });
  await copyFile(realpathSync(HOST_LOADER), join(dir, 'usr', 'lib', 'x86_64-linux-gnu', 'ld-linux-x86-64.so.2'));
  await copyFile(realpathSync(HOST_LIBC!), join(dir, 'usr', 'lib', 'x86_64-linux-gnu', 'libc.so.6'));
  // Absolute, as on the host: resolved inside the build root, never on the host.
  await symlink('/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', join(dir, 'lib64', 'ld-linux-x86-64.so.2'));
}

async function published(): Promise<Awaited<ReturnType<typeof readIndex>>> {
  const root = parseRootIndex(await readFile(join(repo.dir, 'moss-root-index.json'), 'utf8'));
  const path = resolveIndexPath(root, 'volatile', 'x86_64')!;
  return readIndex(await readFile(join(repo.dir, path)));
}

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'summit-closure-'));
  server = await startArtefactServer();
  buildRoot = join(work, 'rootfs');
  await makeBuildRoot(buildRoot);
  deps = vesselDeps(join(work, 'vessel'), {}, {}, { buildRoot });
  repo = new Repository('main', repositoryDir(deps.layout, 'main'));
});

afterEach(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});

const NEEDS = ['interpreter(/lib64/ld-linux-x86-64.so.2(x86_64))', 'soname(libc.so.6(x86_64))'];

describeWhenAvailable(existsSync(HOST_LOADER) && HOST_LIBC ? undefined : 'no x86_64 glibc on this host', 'the closure gate', () => {
  it('refuses a publish with unresolved dependencies, naming each and who needs it, and writes nothing', async () => {
    const tool = await buildStone(work, testMeta('tool', 1, 1, { depends: [...NEEDS, 'soname(libliba.so.1(x86_64))'] }));
    const app = await buildStone(work, testMeta('app', 1, 1, { depends: ['binary(tool)', 'soname(libliba.so.1(x86_64))'] }));
    const err = await importBuild(deps, importRequest(server, 'b1', [tool, app])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    const failure = err as ApplicationFailure;
    expect(failure.type).toBe(CLOSURE_UNRESOLVED);
    expect(failure.nonRetryable).toBe(true);
    // The build root answers the loader and libc; liba is missing.
    expect(failure.details?.[0] as ClosureReport).toEqual({ index: 'main', unresolved: [{ dependency: 'soname(libliba.so.1(x86_64))', neededBy: ['app', 'tool'] }] });
    expect(existsSync(join(repo.dir, 'moss-root-index.json'))).toBe(false);
    expect(existsSync(join(repo.dir, 'history'))).toBe(false);
  });

  it('adds the build root\'s loader and libc as the base package, reuses it, and makes a new one when the build root changes', async () => {
    const liba = await buildStone(work, testMeta('liba', 1, 1, { depends: ['soname(libc.so.6(x86_64))'], provides: ['soname(libliba.so.1(x86_64))'] }));
    await importBuild(deps, importRequest(server, 'b1', [liba]));
    const first = (await published()).find((e) => e.name === 'build-root')!;
    // libc needs the loader (DT_NEEDED), so the loader comes along with its soname.
    expect(first.provides).toEqual(expect.arrayContaining(['soname(libc.so.6(x86_64))', 'soname(ld-linux-x86-64.so.2(x86_64))']));
    expect(first.depends).toEqual([]);

    const tool = await buildStone(work, testMeta('tool', 1, 1, { depends: [...NEEDS, 'soname(libliba.so.1(x86_64))'] }));
    await importBuild(deps, importRequest(server, 'b2', [tool]));
    const second = (await published()).find((e) => e.name === 'build-root')!;
    expect(second.provides).toEqual(expect.arrayContaining(NEEDS));
    expect(second.version).not.toBe(first.version);

    // Another publish with the same needs and the same build root: the very same base package.
    const app = await buildStone(work, testMeta('app', 1, 1, { depends: ['binary(tool)'] }));
    await importBuild(deps, importRequest(server, 'b3', [app]));
    expect((await published()).find((e) => e.name === 'build-root')!.hash).toBe(second.hash);

    // The build root's libc changes (an update): the next publish carries a new base package.
    const libc = join(buildRoot, 'usr', 'lib', 'x86_64-linux-gnu', 'libc.so.6');
    await copyFile(realpathSync(HOST_LOADER), libc); // different bytes, still an x86_64 shared object
    await utimes(libc, new Date(), new Date(Date.now() + 5_000));
    const app2 = await buildStone(work, testMeta('app', 2, 1, { depends: ['binary(tool)'] }));
    await importBuild(deps, importRequest(server, 'b4', [app2]));
    const third = (await published()).find((e) => e.name === 'build-root')!;
    expect(third.hash).not.toBe(second.hash);
    expect((await published()).filter((e) => e.name === 'build-root')).toHaveLength(1);
  });

  it('packs the base package again when its pool file is gone (a prune removed it), never naming a missing file', async () => {
    const libaMeta = (release: number) => testMeta('liba', release, 1, { depends: ['soname(libc.so.6(x86_64))'] });
    await importBuild(deps, importRequest(server, 'b1', [await buildStone(work, libaMeta(1))]));
    const base = (await published()).find((e) => e.name === 'build-root')!;
    const file = join(repo.dir, 'history', '1', 'x86_64', base.uri);
    await rm(file);
    await importBuild(deps, importRequest(server, 'b2', [await buildStone(work, libaMeta(2))]));
    expect((await published()).find((e) => e.name === 'build-root')!.hash).toBe(base.hash);
    expect(existsSync(file)).toBe(true);
  });

  it('prunes: the dry run changes nothing; the real one keeps the newest, tagged and stream-named histories and their files only', async () => {
    for (let release = 1; release <= 5; release++) {
      await importBuild(deps, importRequest(server, `b${release}`, [await buildStone(work, testMeta('liba', release, 1, { depends: ['soname(libc.so.6(x86_64))'] }))]));
    }
    await tagHistory(repo, deps.locks, 'keep-me', '2');
    const pool = async () => (await readdir(join(repo.dir, 'pool', 'l', 'liba'))).sort();
    expect(await pool()).toHaveLength(5);
    const before = await readFile(join(repo.dir, 'moss-root-index.json'), 'utf8');

    const dry = await pruneRepository(repo, deps.locks, 2, true);
    expect(dry).toMatchObject({ kept: ['2', '4', '5'], removedHistories: ['1', '3'], dryRun: true });
    expect(dry.removedPoolFiles).toEqual(['pool/l/liba/liba-1.0-1-1-x86_64.stone', 'pool/l/liba/liba-1.0-3-1-x86_64.stone']);
    expect(await readFile(join(repo.dir, 'moss-root-index.json'), 'utf8')).toBe(before);
    expect(await pool()).toHaveLength(5);

    const real = await pruneRepository(repo, deps.locks, 2, false);
    expect(real.removedPoolFiles).toEqual(dry.removedPoolFiles);
    expect(Object.keys(parseRootIndex(await readFile(join(repo.dir, 'moss-root-index.json'), 'utf8')).history).sort()).toEqual(['2', '4', '5']);
    expect(await pool()).toEqual(['liba-1.0-2-1-x86_64.stone', 'liba-1.0-4-1-x86_64.stone', 'liba-1.0-5-1-x86_64.stone']);
    // Every kept history still names only files that exist (what a moss client reads stays valid).
    for (const id of ['2', '4', '5']) {
      for (const e of await repo.readHistory(id).then((h) => h.x86_64)) expect(existsSync(join(repo.dir, 'history', id, 'x86_64', e.uri))).toBe(true);
    }
    expect((await pruneRepository(repo, deps.locks, 2, false)).removedHistories).toEqual([]);
  });
});
