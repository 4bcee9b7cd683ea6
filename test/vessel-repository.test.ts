/**
 * Vessel's repository over time: concurrent imports into one index (in one process and across "processes" that
 * share only the lock file), the stream and tag commands, and the HTTP server a moss client would read.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { readIndex } from '../core/formats/repo-index';
import { parseRootIndex, resolveIndexPath } from '../core/formats/root-index';
import { StreamCommandError } from '../core/repo/streams';
import { vesselDeps } from '../activities/vessel/activities';
import { importBuild, type VesselDeps } from '../activities/vessel/import-build';
import { repositoryDir } from '../activities/vessel/layout';
import { Repository } from '../activities/vessel/repository';
import { startRepositoryServer } from '../workers/vessel/repository-server';
import { listHistory, promote, rollbackStream, tagHistory } from '../activities/vessel/stream-commands';
import { buildStone, importRequest, sha256, startArtefactServer, testMeta, type ArtefactServer } from './support/vessel-fixtures';

let work: string;
let server: ArtefactServer;
let deps: VesselDeps;
let repo: Repository;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'summit-vessel-repo-'));
  server = await startArtefactServer();
  deps = vesselDeps(join(work, 'vessel'));
  repo = new Repository('main', repositoryDir(deps.layout, 'main'));
});

afterEach(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});

async function publish(name: string, release: number, d: VesselDeps = deps): Promise<string> {
  const s = await buildStone(work, testMeta(name, release));
  return (await importBuild(d, importRequest(server, `build-${name}-${release}`, [s]))).historyId;
}

async function published(streamOrTag: string): Promise<string[]> {
  const root = parseRootIndex(await readFile(repo.rootIndexPath, 'utf8'));
  const file = join(repo.dir, resolveIndexPath(root, streamOrTag, 'x86_64')!);
  return (await readIndex(await readFile(file))).map((e) => `${e.name}-${e.release}`);
}

describe('concurrent imports into one index', () => {
  const names = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'];

  it.each([
    ['in one process (the in-process mutex)', () => [deps]],
    ['from three vessel instances sharing the data folder (the lock file)', () => [deps, vesselDeps(deps.layout.root), vesselDeps(deps.layout.root)]],
  ])('serialize %s: every import lands in a history that builds on the one before it, no lost update', async (_title, instances) => {
    const all = instances();
    const stones = await Promise.all(names.map((n) => buildStone(work, testMeta(n, 1))));
    const results = await Promise.all(stones.map((s, i) => importBuild(all[i % all.length], importRequest(server, `b-${i}`, [s]))));

    expect((await published('volatile')).sort()).toEqual(names.map((n) => `${n}-1`));
    // Imports that finish together may share a history (coalesced publishing): each result names one holding
    // its package, and each history holds more packages than the one before it.
    for (const [i, r] of results.entries()) {
      expect((await readIndex(await readFile(r.indexPath))).map((e) => e.name)).toContain(names[i]);
    }
    const history = await listHistory(repo);
    const counts = history.histories.map((h) => h.packages.x86_64);
    expect(counts.at(-1)).toBe(6);
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeGreaterThan(counts[i - 1]);
    expect(history.histories.map((h) => h.id)).toEqual(counts.map((_, i) => String(i + 1)));
  });

  it('waits for a lock another live process holds, and breaks the lock of one that died', async () => {
    const lockFile = join(deps.layout.locksDir, 'main.lock');
    await mkdir(deps.layout.locksDir, { recursive: true });
    // A live holder (this very process stands in for another vessel on this host).
    await writeFile(lockFile, JSON.stringify({ pid: process.pid, host: hostname(), token: 'other', since: new Date().toISOString() }));
    // Released later by the "other process"; the publish may only finish after that.
    let released = false;
    setTimeout(() => {
      released = true;
      void rm(lockFile);
    }, 600);
    await publish('alpha', 1);
    expect(released).toBe(true);

    // A dead holder: a process that has exited.
    const child = spawn(process.execPath, ['-e', '']);
    const deadPid = await new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid!)));
    await writeFile(lockFile, JSON.stringify({ pid: deadPid, host: hostname(), token: 'dead', since: new Date().toISOString() }));
    // Nobody releases it: with a lock timeout far below the live case's wait, only breaking the dead lock lets this through.
    const impatient = vesselDeps(deps.layout.root, { timeoutMs: 300 });
    await expect(publish('bravo', 1, impatient)).resolves.toBeDefined();
  });

  it('gives up with a retryable error naming the holder when a lock from another host is never released', async () => {
    const impatient = vesselDeps(deps.layout.root, { timeoutMs: 300 });
    await mkdir(deps.layout.locksDir, { recursive: true });
    await writeFile(join(deps.layout.locksDir, 'main.lock'), JSON.stringify({ pid: 1, host: 'elsewhere', token: 't', since: '2025-01-01T00:00:00Z' }));
    const err = await publish('alpha', 1, impatient).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect((err as Error).message).toMatch(/timed out waiting for the repository lock .*main.lock, held by pid 1 on elsewhere since 2025-01-01/);
  });
});

describe('streams and tags', () => {
  it('promotes, tags and rolls back; volatile keeps following new imports from where it was rolled back to', async () => {
    await publish('alpha', 1);
    await publish('bravo', 1);
    await publish('alpha', 2);
    expect(await published('volatile')).toEqual(['alpha-2', 'bravo-1']);

    let history = await promote(repo, deps.locks);
    expect(history.streams).toEqual({ volatile: '3', unstable: '3' });
    history = await tagHistory(repo, deps.locks, 'before-bravo', '1');
    expect(history.tags).toEqual({ 'before-bravo': '1' });
    expect(await published('before-bravo')).toEqual(['alpha-1']);

    // A new import moves volatile only; unstable and the tag stay.
    await publish('charlie', 1);
    expect((await listHistory(repo)).streams).toEqual({ volatile: '4', unstable: '3' });

    // Roll volatile back to history 1: moss sees history 1 again, and the next import builds on it.
    await rollbackStream(repo, deps.locks, 'volatile', '1');
    expect(await published('volatile')).toEqual(['alpha-1']);
    expect(await publish('delta', 1)).toBe('5');
    expect(await published('volatile')).toEqual(['alpha-1', 'delta-1']);
    expect(await published('unstable')).toEqual(['alpha-2', 'bravo-1']);

    // Unstable moves back and forth only on command.
    await rollbackStream(repo, deps.locks, 'unstable', '2');
    expect(await published('unstable')).toEqual(['alpha-1', 'bravo-1']);

    history = await listHistory(repo);
    expect(history.histories.map((h) => [h.id, h.format, h.packages.x86_64])).toEqual([['1', 'v0', 1], ['2', 'v0', 2], ['3', 'v0', 2], ['4', 'v0', 3], ['5', 'v0', 2]]);
    expect(history.streams).toEqual({ volatile: '5', unstable: '2' });
  });

  it('refuses commands that cannot apply and leaves the root index untouched', async () => {
    await publish('alpha', 1);
    const before = await readFile(repo.rootIndexPath, 'utf8');
    await expect(rollbackStream(repo, deps.locks, 'volatile', '7')).rejects.toThrow(StreamCommandError);
    await expect(rollbackStream(repo, deps.locks, 'stable', '1')).rejects.toThrow(/"stable" is not a stream/);
    await expect(promote(repo, deps.locks, 'volatile', 'unstable')).rejects.toThrow(/points at no history/);
    expect(await readFile(repo.rootIndexPath, 'utf8')).toBe(before);
    await tagHistory(repo, deps.locks, 'v1', '1');
    await publish('alpha', 2);
    await expect(tagHistory(repo, deps.locks, 'v1', '2')).rejects.toThrow(/already names history 1/);
    expect((await tagHistory(repo, deps.locks, 'v1', '2', true)).tags).toEqual({ v1: '2' });
  });
});

describe('the repository server', () => {
  it('serves what a moss client reads: root index, then the stream\'s stone.index, then each package by its URI', async () => {
    const s = await buildStone(work, testMeta('alpha', 1));
    await importBuild(deps, importRequest(server, 'b', [s]));
    const http = await startRepositoryServer(deps.layout.reposDir, 0, '127.0.0.1');
    try {
      const base = `${http.url}/main/`;
      const root = parseRootIndex(await (await fetch(`${base}moss-root-index.json`)).text());
      expect((await fetch(`${base}moss-root-index.json.zst`)).status).toBe(200);
      const indexUrl = new URL(resolveIndexPath(root, 'volatile', 'x86_64')!, base);
      const entries = await readIndex(new Uint8Array(await (await fetch(indexUrl)).arrayBuffer()));
      const stone = await fetch(new URL(entries[0].uri, indexUrl));
      expect(stone.status).toBe(200);
      expect(Number(stone.headers.get('content-length'))).toBe(entries[0].size);
      expect(sha256(new Uint8Array(await stone.arrayBuffer()))).toBe(entries[0].hash);

      for (const path of ['/main/../vessel', '/main/%2e%2e/locks', '/main/.hidden', '/main/history', '/main/pool/a%2Fb', '/nothing']) {
        expect([path, (await fetch(`${http.url}${path}`)).status]).toEqual([path, 404]);
      }
      expect((await fetch(`${base}moss-root-index.json`, { method: 'POST' })).status).toBe(405);
    } finally {
      await http.close();
    }
    expect(dirname(repo.dir)).toBe(deps.layout.reposDir);
  });
});
