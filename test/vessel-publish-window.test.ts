/**
 * Coalesced publishing on real files, real HTTP and real stones: imports that finish within one window share one
 * history version and one move of volatile; a refused build in a window refuses only itself; retries and crashes
 * converge; and an index written incrementally (kept entries re-used, not re-encoded) is read by the real moss.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { IMPORT_REFUSED, type ImportResult } from '../core/contracts/build';
import { readIndex } from '../core/formats/repo-index';
import { parseRootIndex } from '../core/formats/root-index';
import { vesselDeps } from '../activities/vessel/activities';
import { importBuild, type VesselDeps } from '../activities/vessel/import-build';
import { repositoryDir } from '../activities/vessel/layout';
import { Repository } from '../activities/vessel/repository';
import { listHistory } from '../activities/vessel/stream-commands';
import { describeWhenAvailable } from './support/ci';
import { buildStone, importRequest, startArtefactServer, testMeta, type ArtefactServer, type BuiltStone } from './support/vessel-fixtures';

const execFileAsync = promisify(execFile);
/** Run a tool; a failure carries its output, which says why. */
const run = (file: string, args: string[]): Promise<{ stdout: string; stderr: string }> =>
  execFileAsync(file, args).catch((err: { message: string; stdout?: string; stderr?: string }) => {
    throw new Error(`${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
  });
/** Long enough that no window closes by itself while a test gathers its builds; tests close it with closeNow(). */
const HELD_WINDOW_MS = 10 * 60_000;

let work: string;
let server: ArtefactServer;
let deps: VesselDeps;
let repo: Repository;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'summit-publish-window-'));
  server = await startArtefactServer();
  deps = vesselDeps(join(work, 'vessel'), {}, { windowMs: HELD_WINDOW_MS });
  repo = new Repository('main', repositoryDir(deps.layout, 'main'));
});

afterEach(async () => {
  await server.close();
  await rm(work, { recursive: true, force: true });
});

const stone = (name: string, release: number, payload?: string): Promise<BuiltStone> => buildStone(work, testMeta(name, release), payload);

/** Wait for a condition (not for a time): checks every 10 ms, fails after 60 s. */
async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

type Settled = { ok: true; result: ImportResult } | { ok: false; error: unknown };

/** Start the imports, wait until all of them wait in the open window, close it, and settle them. */
async function oneWindow(d: VesselDeps, requests: Array<Parameters<typeof importBuild>[1]>): Promise<Settled[]> {
  const publisher = d.publishers.for('main');
  const settled = requests.map((req) => importBuild(d, req).then((result): Settled => ({ ok: true, result }), (error: unknown): Settled => ({ ok: false, error })));
  let done = 0;
  for (const s of settled) void s.then(() => done++);
  // A build that fails before publishing (a bad download) never joins the window: count it as arrived.
  await until(`${requests.length} builds wait in the window`, () => publisher.pending + done >= requests.length);
  await publisher.closeNow();
  return Promise.all(settled);
}

const ok = (s: Settled): ImportResult => {
  if (!s.ok) throw s.error;
  return s.result;
};

async function volatileNames(): Promise<string[]> {
  const root = parseRootIndex(await readFile(repo.rootIndexPath, 'utf8'));
  const id = root.streams.volatile.history;
  return (await readIndex(await readFile(repo.indexFile(id, 'x86_64')))).map((e) => `${e.name}-${e.release}`);
}

describe('coalesced publishing', () => {
  it('publishes imports that finish within one window as one history holding all of them, moving volatile once', async () => {
    const names = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];
    const stones = await Promise.all(names.map((n) => stone(n, 1)));
    const results = (await oneWindow(deps, stones.map((s, i) => importRequest(server, `b-${i}`, [s])))).map(ok);

    expect(results.map((r) => r.historyId)).toEqual(['1', '1', '1', '1', '1']);
    const history = await listHistory(repo);
    expect(history.histories.map((h) => [h.id, h.packages.x86_64])).toEqual([['1', 5]]);
    expect(history.streams.volatile).toBe('1');
    expect((await volatileNames()).sort()).toEqual(names.map((n) => `${n}-1`));
    expect(await readdir(deps.layout.stagingDir)).toEqual([]);
  });

  it('publishes imports of different windows as different histories, each building on the one before', async () => {
    // A short real window: each import waits for it to close by itself.
    const short = vesselDeps(deps.layout.root, {}, { windowMs: 50 });
    const first = await importBuild(short, importRequest(server, 'b1', [await stone('alpha', 1)]));
    const second = await importBuild(short, importRequest(server, 'b2', [await stone('bravo', 1)]));
    expect([first.historyId, second.historyId]).toEqual(['1', '2']);
    expect(await volatileNames()).toEqual(['alpha-1', 'bravo-1']);
    expect((await readIndex(await readFile(first.indexPath))).map((e) => e.name)).toEqual(['alpha']);
  });

  it('refuses one build of a window without stopping the others: it alone fails, with its reason, and leaves nothing', async () => {
    await oneWindow(deps, [importRequest(server, 'first', [await stone('liba', 2)])]);
    const [good1, older, good2] = await oneWindow(deps, [
      importRequest(server, 'good-1', [await stone('alpha', 1)]),
      importRequest(server, 'older', [await stone('libb', 1), await stone('liba', 1, 'older bytes')]),
      importRequest(server, 'good-2', [await stone('bravo', 1)]),
    ]);
    expect([ok(good1).historyId, ok(good2).historyId]).toEqual(['2', '2']);
    expect(older.ok).toBe(false);
    const failure = (older as { error: ApplicationFailure }).error;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: IMPORT_REFUSED, nonRetryable: true });
    expect(failure.details?.[0]).toMatchObject({ buildId: 'older', file: 'liba-1.0-1-1-x86_64.stone', reason: expect.stringMatching(/source release 1 is older than the published liba 1.0-2-1/) });
    expect((await volatileNames()).sort()).toEqual(['alpha-1', 'bravo-1', 'liba-2']);
    // The refused build's other package (libb, fine on its own) did not enter the pool or the index.
    expect(existsSync(join(repo.dir, 'pool/l/libb'))).toBe(false);
    expect(await readdir(deps.layout.stagingDir)).toEqual([]);
  });

  it('answers a retried import with the history that published it, also when it shares a window with new builds', async () => {
    const a = await stone('alpha', 1);
    const [first] = (await oneWindow(deps, [importRequest(server, 'a', [a])])).map(ok);
    const [again, bravo] = (await oneWindow(deps, [importRequest(server, 'a', [a]), importRequest(server, 'b', [await stone('bravo', 1)])])).map(ok);
    expect(again).toEqual(first);
    expect(bravo.historyId).toBe('2');
    expect((await listHistory(repo)).histories.map((h) => h.id)).toEqual(['1', '2']);
  });

  it('takes a cancelled import out of its window while the window is open; the others publish', async () => {
    const publisher = deps.publishers.for('main');
    const cancel = new AbortController();
    const cancelled = importBuild(deps, importRequest(server, 'c', [await stone('charlie', 1)]), { signal: cancel.signal }).then(() => undefined, (e: unknown) => e);
    const kept = importBuild(deps, importRequest(server, 'a', [await stone('alpha', 1)]));
    await until('both builds wait in the window', () => publisher.pending === 2);
    cancel.abort(new Error('activity cancelled'));
    expect(await cancelled).toEqual(new Error('activity cancelled'));
    expect(publisher.pending).toBe(1);
    await publisher.closeNow();
    expect((await kept).historyId).toBe('1');
    expect(await volatileNames()).toEqual(['alpha-1']);
  });

  it('converges when a window crashed after writing its history but before moving volatile', async () => {
    const reqs = [importRequest(server, 'a', [await stone('alpha', 1)]), importRequest(server, 'b', [await stone('bravo', 1)])];
    await oneWindow(deps, reqs);
    // As if the process died before step 3: the history folder and the pool files exist, the root index does not.
    await rm(repo.rootIndexPath);
    await rm(join(repo.dir, 'moss-root-index.json.zst'));
    const pool = (await readdir(join(repo.dir, 'pool/a/alpha'))).concat(await readdir(join(repo.dir, 'pool/b/bravo')));

    // A new vessel process (nothing kept in memory) runs both imports again, in one window.
    const restarted = vesselDeps(deps.layout.root, {}, { windowMs: HELD_WINDOW_MS });
    const retried = (await oneWindow(restarted, reqs)).map(ok);
    expect(retried.map((r) => r.historyId)).toEqual(['2', '2']); // history 1 is an unpublished leftover: never reused
    expect((await volatileNames()).sort()).toEqual(['alpha-1', 'bravo-1']);
    expect((await readdir(join(repo.dir, 'pool/a/alpha'))).concat(await readdir(join(repo.dir, 'pool/b/bravo')))).toEqual(pool);
  });
});

const MOSS = resolve(__dirname, '..', '..', 'shared', 'tools', 'moss');
const MOSS_CHECK = resolve(__dirname, '..', '..', 'shared', 'tools', 'moss-check');

describeWhenAvailable(existsSync(MOSS) && existsSync(MOSS_CHECK) ? undefined : `moss not found at ${MOSS}`, 'an index written incrementally', () => {
  it('is read by the real moss: every package listed, the newest installed', async () => {
    // Window 1 writes everything; window 2 re-uses kept entries; a restarted vessel re-uses the stored payloads
    // it read back (window 3) — the index moss reads mixes payloads from all three writes.
    await oneWindow(deps, [importRequest(server, 'w1-a', [await stone('alpha', 1)]), importRequest(server, 'w1-b', [await stone('bravo', 1)])]);
    await oneWindow(deps, [importRequest(server, 'w2-c', [await stone('charlie', 1)]), importRequest(server, 'w2-a', [await stone('alpha', 2)])]);
    const restarted = vesselDeps(deps.layout.root, {}, { windowMs: HELD_WINDOW_MS });
    const [last] = (await oneWindow(restarted, [importRequest(server, 'w3-d', [await stone('delta', 1)])])).map(ok);
    expect(last.historyId).toBe('3');

    const mossRoot = join(work, 'moss-root');
    await mkdir(mossRoot);
    await run(MOSS, ['-D', mossRoot, '-y', 'repo', 'add', 'summit', `file://${last.indexPath}`]);
    const { stdout } = await run(MOSS, ['-D', mossRoot, 'list', 'available']);
    for (const name of ['alpha', 'bravo', 'charlie', 'delta']) expect(stdout).toMatch(new RegExp(`\\b${name}\\b`));
    expect(stdout).toMatch(/alpha.*1\.0-2/);

    const check = await run(MOSS_CHECK, [join(repo.dir, 'moss-root-index.json'), 'delta']);
    expect(check.stdout.trim().split('\n').at(-1)).toMatch(/^moss: installed delta/);
  }, 180_000);
});
