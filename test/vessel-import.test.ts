/**
 * Vessel's import, end to end on real files and real HTTP: real stones from package-writer, fetched from a
 * token-checking server on 127.0.0.1, verified, published into a repository folder, and read back with our
 * stone.index and root index readers. (test/vessel-worker.test.ts runs the same activity through Temporal.)
 */
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { IMPORT_REFUSED, type ImportRefusal } from '../core/contracts/build';
import { readIndex } from '../core/formats/repo-index';
import { decompressRootIndex, parseRootIndex, resolveIndexPath } from '../core/formats/root-index';
import { vesselDeps } from '../activities/vessel/activities';
import { importBuild, type VesselDeps } from '../activities/vessel/import-build';
import { stagingDirFor } from '../activities/vessel/staging';
import { repositoryDir } from '../activities/vessel/layout';
import { Repository, sha256File } from '../activities/vessel/repository';
import { rollbackStream } from '../activities/vessel/stream-commands';
import { buildStone, importRequest, sha256, startArtefactServer, testMeta, type ArtefactServer, type BuiltStone } from './support/vessel-fixtures';

let work: string;
let server: ArtefactServer;
let deps: VesselDeps;
let repoDir: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'summit-vessel-'));
  server = await startArtefactServer();
  deps = vesselDeps(join(work, 'vessel'));
  repoDir = repositoryDir(deps.layout, 'main');
});

afterEach(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});

const stone = (name: string, release: number, buildRelease = 1, payload?: string): Promise<BuiltStone> =>
  buildStone(work, testMeta(name, release, buildRelease), payload);

async function refusalOf(promise: Promise<unknown>): Promise<ImportRefusal & { message: string }> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApplicationFailure);
  const failure = err as ApplicationFailure;
  expect(failure.type).toBe(IMPORT_REFUSED);
  expect(failure.nonRetryable).toBe(true);
  return { ...(failure.details?.[0] as ImportRefusal), message: failure.message };
}

/** Every file under the repository folder with its sha256: "nothing changed" means this is equal. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out[relative(dir, p)] = await sha256File(p);
    }
  };
  await walk(dir);
  return out;
}

/** What a moss client does: root index → stream → stone.index → PackageURI → file. */
async function resolveThroughRoot(stream: string): Promise<Array<{ name: string; release: number; file: string; hash: string; size: number }>> {
  const root = parseRootIndex(await readFile(join(repoDir, 'moss-root-index.json'), 'utf8'));
  expect(decompressRootIndex(await readFile(join(repoDir, 'moss-root-index.json.zst')))).toBe(await readFile(join(repoDir, 'moss-root-index.json'), 'utf8'));
  const indexPath = join(repoDir, resolveIndexPath(root, stream, 'x86_64')!);
  const entries = await readIndex(await readFile(indexPath), indexPath);
  return entries.map((e) => ({ name: e.name, release: e.release, file: join(dirname(indexPath), e.uri), hash: e.hash, size: e.size }));
}

describe('vessel import', () => {
  it('publishes a first build as history 1 with PackageURI, sha256 PackageHash and PackageSize, resolvable through the root index', async () => {
    const liba = await stone('liba', 1);
    const devel = await buildStone(work, testMeta('liba-devel', 1, 1, { sourceId: 'liba' }));
    const result = await importBuild(deps, importRequest(server, 'build/p/r/liba-1.0-1/x86_64', [liba, devel]));

    expect(result).toMatchObject({ buildId: 'build/p/r/liba-1.0-1/x86_64', index: 'main', historyId: '1', indexPath: join(repoDir, 'history/1/x86_64/stone.index') });
    expect(result.published).toEqual([
      { name: 'liba', version: '1.0', release: 1, buildRelease: 1, uri: 'pool/l/liba/liba-1.0-1-1-x86_64.stone', sha256: liba.artefact.sha256, size: liba.artefact.size },
      { name: 'liba-devel', version: '1.0', release: 1, buildRelease: 1, uri: 'pool/l/liba/liba-devel-1.0-1-1-x86_64.stone', sha256: devel.artefact.sha256, size: devel.artefact.size },
    ]);
    const entries = await readIndex(await readFile(result.indexPath));
    // In the stone.index, PackageURI is relative to the index's folder, as moss resolves it.
    expect(entries.map((e) => [e.name, e.sourceId, e.uri, e.hash, e.size])).toEqual(result.published.map((p) => [p.name, 'liba', `../../../${p.uri}`, p.sha256, p.size]));
    // In the result, uri is relative to the repository root: <packages base URL>/<index>/<uri>, as summit builds it.
    for (const p of result.published) expect(await readFile(join(deps.layout.reposDir, 'main', p.uri))).toEqual(p.name === 'liba' ? liba.bytes : devel.bytes);

    const resolved = await resolveThroughRoot('volatile');
    for (const [i, s] of [liba, devel].entries()) {
      expect(resolved[i].file).toBe(join(repoDir, 'pool/l/liba', s.artefact.name));
      expect(await readFile(resolved[i].file)).toEqual(s.bytes);
      expect(resolved[i].hash).toBe(sha256(s.bytes));
    }
    // Nothing is left behind in staging.
    expect(await readdir(deps.layout.stagingDir)).toEqual([]);
  });

  it('publishes a higher release as history 2: volatile moves, history 1 and its files stay as they were', async () => {
    await importBuild(deps, importRequest(server, 'b1', [await stone('liba', 1)]));
    await importBuild(deps, importRequest(server, 'z1', [await stone('zed', 4)]));
    const before = await snapshot(join(repoDir, 'history/2'));

    const result = await importBuild(deps, importRequest(server, 'b2', [await stone('liba', 2)]));
    expect(result.historyId).toBe('3');
    expect((await resolveThroughRoot('volatile')).map((e) => [e.name, e.release])).toEqual([['liba', 2], ['zed', 4]]);
    expect(await snapshot(join(repoDir, 'history/2'))).toEqual(before);
    expect((await readIndex(await readFile(join(repoDir, 'history/1/x86_64/stone.index')))).map((e) => [e.name, e.release])).toEqual([['liba', 1]]);
    expect(Object.keys(await snapshot(join(repoDir, 'pool'))).sort()).toEqual([
      'l/liba/liba-1.0-1-1-x86_64.stone', 'l/liba/liba-1.0-2-1-x86_64.stone', 'z/zed/zed-1.0-4-1-x86_64.stone',
    ]);
    // A same-release rebuild with a higher build release is accepted too.
    expect((await importBuild(deps, importRequest(server, 'b2-rebuild', [await stone('liba', 2, 2)]))).historyId).toBe('4');
  });

  it.each([
    ['an older source release', 1, 1, /liba-1.0-1-1-x86_64.stone: source release 1 is older than the published liba 1.0-2-1/],
    ['an equal release and build release (another file)', 2, 1, /liba-1.0-2-1-x86_64.stone: release 2 build release 1 equals the published liba 1.0-2-1 .* but the file differs/],
  ])('refuses %s with a clear reason and changes nothing', async (_title, release, buildRelease, reason) => {
    await importBuild(deps, importRequest(server, 'first', [await stone('liba', 2)]));
    const before = await snapshot(repoDir);
    const refusal = await refusalOf(importBuild(deps, importRequest(server, 'second', [await stone('liba', release, buildRelease, 'other bytes')])));
    expect(refusal).toMatchObject({ buildId: 'second', file: `liba-1.0-${release}-${buildRelease}-x86_64.stone`, reason: expect.stringMatching(reason) });
    expect(await snapshot(repoDir)).toEqual(before);
    expect(await readdir(deps.layout.stagingDir)).toEqual([]);
  });

  it('refuses an artefact corrupted after its sha256 was declared, naming the file and both hashes; the index does not change', async () => {
    await importBuild(deps, importRequest(server, 'first', [await stone('liba', 1)]));
    const before = await snapshot(repoDir);
    const bad = await stone('libb', 1);
    const corrupted = Buffer.from(bad.bytes);
    corrupted[corrupted.length - 10] ^= 0xff;
    const req = importRequest(server, 'corrupt', [bad]);
    server.serve('corrupt', bad.artefact.name, { bytes: corrupted });

    const refusal = await refusalOf(importBuild(deps, req));
    expect(refusal.file).toBe('libb-1.0-1-1-x86_64.stone');
    expect(refusal.reason).toBe(`libb-1.0-1-1-x86_64.stone: sha256 mismatch: expected ${bad.artefact.sha256}, actual ${sha256(corrupted)}`);
    expect(refusal.message).toBe(refusal.reason);
    expect(await snapshot(repoDir)).toEqual(before);
    expect(await readdir(deps.layout.stagingDir)).toEqual([]);
  });

  it('refuses a package the builder broke before hashing it: its stone checksum does not verify', async () => {
    const bad = await stone('libb', 1);
    const broken = Buffer.from(bad.bytes);
    broken[broken.length - 10] ^= 0xff;
    const req = importRequest(server, 'broken', []);
    server.serve('broken', bad.artefact.name, { bytes: broken });
    req.build.artefacts = [{ ...bad.artefact, sha256: sha256(broken) }];
    const refusal = await refusalOf(importBuild(deps, req));
    expect(refusal.reason).toMatch(/^libb-1.0-1-1-x86_64.stone: not a valid stone package: checksum mismatch/);
    expect(await snapshot(repoDir)).toEqual({});
  });

  it('refuses a package whose meta does not match its file name, or whose architecture is not the import\'s', async () => {
    const s = await stone('liba', 1);
    const renamed = { ...s.artefact, name: 'liba-1.0-9-1-x86_64.stone' };
    server.serve('renamed', renamed.name, { bytes: s.bytes });
    const req = importRequest(server, 'renamed', []);
    req.build.artefacts = [renamed];
    expect((await refusalOf(importBuild(deps, req))).reason).toBe('liba-1.0-9-1-x86_64.stone: file name does not match the package\'s meta, which names liba-1.0-1-1-x86_64.stone');

    const arm = await buildStone(work, testMeta('liba', 1, 1, { architecture: 'aarch64' }));
    expect((await refusalOf(importBuild(deps, importRequest(server, 'arm', [arm])))).reason).toMatch(/architecture aarch64 does not match the import's x86_64/);
  });

  it.each([
    ['with a Content-Length larger than declared', { chunked: false }, /size mismatch: declared \d+ bytes, the builder serves \d+/],
    ['streamed without a Content-Length, stopping past the declared size', { chunked: true }, /size mismatch: declared \d+ bytes, the builder sent more/],
  ])('bounds a download to the declared size: a builder serving more %s is refused', async (_title, mode, reason) => {
    const s = await stone('liba', 1);
    const req = importRequest(server, 'big', [s]);
    server.serve('big', s.artefact.name, { bytes: s.bytes, trailing: Buffer.alloc(200_000, 1), ...mode });
    expect((await refusalOf(importBuild(deps, req))).reason).toMatch(reason);
    expect(await readdir(deps.layout.stagingDir)).toEqual([]);
  });

  it('treats a refused token as retryable (ArtefactAccessDenied), not as a refusal', async () => {
    const req = importRequest(server, 'b', [await stone('liba', 1)]);
    req.build.artefactToken = 'wrong';
    const err = await importBuild(deps, req).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('ArtefactAccessDenied');
    expect((err as ApplicationFailure).nonRetryable).toBe(false);
    expect((err as Error).message).toMatch(/refused vessel's token \(HTTP 401\)/);
    expect(server.requests.at(-1)).toMatchObject({ authorized: false });
  });

  it('treats a connection cut halfway as a plain retryable error and leaves no partial file', async () => {
    const s = await stone('liba', 1);
    const req = importRequest(server, 'cut', [s]);
    server.serve('cut', s.artefact.name, { bytes: s.bytes, cutAfter: Math.floor(s.bytes.length / 2) });
    const err = await importBuild(deps, req).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect(await readdir(stagingDirFor(deps.layout, 'cut'))).toEqual([]);
    // The next attempt succeeds once the builder serves the file whole.
    server.serve('cut', s.artefact.name, { bytes: s.bytes });
    expect((await importBuild(deps, req)).historyId).toBe('1');
  });

  it('gives up on a builder that stops sending (a retryable error) and leaves no partial file', async () => {
    const s = await stone('liba', 1);
    const req = importRequest(server, 'stall', [s]);
    server.serve('stall', s.artefact.name, { bytes: s.bytes, stallAfter: 4096 });
    const err = await importBuild(deps, req, { idleTimeoutMs: 300 }).then(() => undefined, (e: unknown) => e);
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect((err as Error).message).toMatch(/no data for 300 ms after 4096 bytes/);
    expect(await readdir(stagingDirFor(deps.layout, 'stall'))).toEqual([]);
  });

  it('fetches a build\'s files at once: a refused file stops the others, even one that stalls, and leaves nothing staged', async () => {
    const stalled = await stone('liba', 1);
    const bad = await stone('libb', 1);
    const good = await stone('libc', 1);
    const req = importRequest(server, 'mixed', [stalled, bad, good]);
    // Fetched one after another, the first file would hold the import for the whole idle timeout (ten minutes).
    server.serve('mixed', stalled.artefact.name, { bytes: stalled.bytes, stallAfter: 4096 });
    const corrupted = Buffer.from(bad.bytes);
    corrupted[corrupted.length - 10] ^= 0xff;
    server.serve('mixed', bad.artefact.name, { bytes: corrupted });

    const refusal = await refusalOf(importBuild(deps, req, { idleTimeoutMs: 10 * 60_000 }));
    expect(refusal.file).toBe(bad.artefact.name);
    expect(refusal.reason).toMatch(/sha256 mismatch/);
    expect(server.requests.map((r) => r.path.split('/').at(-1)).sort()).toEqual([stalled, bad, good].map((s) => s.artefact.name).sort());
    expect(await readdir(deps.layout.stagingDir)).toEqual([]);
    expect(await snapshot(repoDir)).toEqual({});
  });

  it('checks a staged file re-used from an earlier attempt on disk as it checks a fetched one: a broken stone is refused', async () => {
    const s = await stone('liba', 1);
    const broken = Buffer.from(s.bytes);
    broken[broken.length - 10] ^= 0xff;
    const req = importRequest(server, 'reused', []);
    req.build.artefacts = [{ ...s.artefact, sha256: sha256(broken) }];
    // The earlier attempt left the file whole in staging: this attempt re-hashes it and fetches nothing.
    const staging = stagingDirFor(deps.layout, 'reused');
    await mkdir(staging, { recursive: true });
    await writeFile(join(staging, s.artefact.name), broken);

    const refusal = await refusalOf(importBuild(deps, req));
    expect(refusal.reason).toMatch(/^liba-1.0-1-1-x86_64.stone: not a valid stone package: checksum mismatch/);
    expect(server.requests).toEqual([]);
    expect(await snapshot(repoDir)).toEqual({});
  });

  it('removes staging folders nobody retried for a day, reading the staging folder at most once an hour', async () => {
    const old = async (name: string): Promise<string> => {
      const dir = join(deps.layout.stagingDir, name);
      await mkdir(dir, { recursive: true });
      const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60_000);
      await utimes(dir, twoDaysAgo, twoDaysAgo);
      return dir;
    };
    await old('abandoned-1');
    const recent = join(deps.layout.stagingDir, 'recent');
    await mkdir(recent);
    await importBuild(deps, importRequest(server, 'a', [await stone('liba', 1)]));
    expect(await readdir(deps.layout.stagingDir)).toEqual(['recent']);

    // Within the hour the next import does not look again: a folder that went stale meanwhile waits for the next sweep.
    await old('abandoned-2');
    await importBuild(deps, importRequest(server, 'b', [await stone('libb', 1)]));
    expect((await readdir(deps.layout.stagingDir)).sort()).toEqual(['abandoned-2', 'recent']);
  });

  it('reports fetch progress in bytes, ending with each file complete', async () => {
    const a = await stone('liba', 1);
    const b = await stone('libb', 1);
    const progress: Array<{ file: string; bytes: number; size: number }> = [];
    await importBuild(deps, importRequest(server, 'p', [a, b]), { onProgress: (p) => progress.push(p) });
    // The files are fetched at once: each file's own reports end with it complete, whatever their interleaving.
    for (const s of [a, b]) expect(progress.filter((p) => p.file === s.artefact.name).at(-1)).toEqual({ file: s.artefact.name, bytes: s.artefact.size, size: s.artefact.size });
    expect(progress.every((p) => p.bytes <= p.size)).toBe(true);
  });

  it('is idempotent: the same build again publishes nothing new and returns the same history', async () => {
    const req = importRequest(server, 'b', [await stone('liba', 1), await stone('libb', 1)]);
    const first = await importBuild(deps, req);
    const before = await snapshot(repoDir);
    const again = await importBuild(deps, req);
    expect(again).toEqual(first);
    expect(await snapshot(repoDir)).toEqual(before);
  });

  it('converges after a crash at any step of an earlier attempt', async () => {
    const a = await stone('liba', 1);
    const req = importRequest(server, 'b', [a]);
    // An attempt that fetched, moved the file into the pool and wrote history 1, then died before the root index.
    await importBuild(deps, req);
    await rm(join(repoDir, 'moss-root-index.json'));
    await rm(join(repoDir, 'moss-root-index.json.zst'));
    // …and an attempt that fetched the file into staging and died before publishing.
    const staging = stagingDirFor(deps.layout, 'b');
    await mkdir(staging, { recursive: true });
    await writeFile(join(staging, a.artefact.name), a.bytes);
    const fetchesBefore = server.requests.length;

    const result = await importBuild(deps, req);
    expect(server.requests.length).toBe(fetchesBefore); // the staged file was re-hashed and re-used
    expect(result.historyId).toBe('2'); // history 1 is an unpublished leftover: its id is not reused
    expect((await resolveThroughRoot('volatile')).map((e) => [e.name, e.hash])).toEqual([['liba', a.artefact.sha256]]);

    // A crash between the root index and its zstd copy: the next run of the same import repairs the copy.
    const stale = await readFile(join(repoDir, 'moss-root-index.json.zst'));
    await importBuild(deps, importRequest(server, 'c', [await stone('libc', 1)]));
    await writeFile(join(repoDir, 'moss-root-index.json.zst'), stale);
    await importBuild(deps, importRequest(server, 'c', [await stone('libc', 1)]));
    await resolveThroughRoot('volatile'); // checks the .zst equals the .json
  });

  it('does not overwrite a published file with a different one at the same pool path', async () => {
    await importBuild(deps, importRequest(server, 'b1', [await stone('liba', 1)]));
    await importBuild(deps, importRequest(server, 'b2', [await stone('liba', 2)]));
    // Roll volatile back to history 1, then try to publish a *different* liba 1.0-2-1: history 2 lists the first.
    await rollbackStream(new Repository('main', repoDir), deps.locks, 'volatile', '1');
    const before = await snapshot(repoDir);
    const refusal = await refusalOf(importBuild(deps, importRequest(server, 'b2-again', [await stone('liba', 2, 1, 'different')])));
    expect(refusal.reason).toMatch(/the pool already holds a different pool\/l\/liba\/liba-1.0-2-1-x86_64.stone .* published in history 2/);
    expect(await snapshot(repoDir)).toEqual(before);
  });

  it('keeps indexes apart: an x86_64-v3x variant (avalanche\'s -v3x file name, x86_64 meta) publishes into main-v3x', async () => {
    await importBuild(deps, importRequest(server, 'b', [await stone('liba', 1)]));
    const variant = await stone('liba', 1, 1, 'v3 bytes');
    variant.artefact = { ...variant.artefact, name: 'liba-1.0-1-1-x86_64-v3x.stone' };
    const v3 = await importBuild(deps, importRequest(server, 'b-v3', [variant], { index: 'main-v3x' }));
    const v3Dir = repositoryDir(deps.layout, 'main-v3x');
    expect(v3).toMatchObject({ historyId: '1', indexPath: join(v3Dir, 'history/1/x86_64/stone.index') });
    expect(v3.published[0].uri).toBe('pool/l/liba/liba-1.0-1-1-x86_64-v3x.stone');
    expect(await readFile(join(v3Dir, 'pool/l/liba/liba-1.0-1-1-x86_64-v3x.stone'))).toEqual(variant.bytes);
    expect((await resolveThroughRoot('volatile')).map((e) => e.hash)).not.toContain(variant.artefact.sha256);
  });
});
