/**
 * Coalesced publishing on real files, real HTTP and real stones: a lone import is written at once; imports that
 * arrive while a write runs (or while the index lock is held) share the next history version and one move of
 * volatile; a cancelled import leaves while it waits; a refused build refuses only itself; retries and crashes
 * converge; and an index written incrementally (kept entries re-used, not re-encoded) is read by the real moss.
 * Assertions are on the order of writes (the publisher's beforeWrite hook) and the histories, never on time.
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
/** Long enough that no window ends by itself while a test gathers its builds; tests end it with flush(). */
const HELD_WINDOW_MS = 10 * 60_000;

let work: string;
let server: ArtefactServer;
let deps: VesselDeps;
let repo: Repository;
/** The builds of each write, in the order the writes ran (the publisher's beforeWrite hook). */
let writes: string[][];
/** While set, the next write waits for it before writing (a write held open, so builds arrive during it). */
let gate: Promise<void> | undefined;

/** Vessel deps over the test's folder that record every write and honour the gate. */
const depsWith = (windowMs = 0): VesselDeps =>
  vesselDeps(join(work, 'vessel'), {}, {
    windowMs,
    beforeWrite: async (_index, buildIds) => {
      writes.push([...buildIds]);
      const held = gate;
      gate = undefined;
      await held;
    },
  });

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'summit-publish-window-'));
  server = await startArtefactServer();
  writes = [];
  gate = undefined;
  deps = depsWith();
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

const settle = (p: Promise<ImportResult>): Promise<Settled> => p.then((result): Settled => ({ ok: true, result }), (error: unknown): Settled => ({ ok: false, error }));

/** A gate for the next write: it starts, then waits until open() is called. */
function holdNextWrite(): { open: () => void } {
  let open!: () => void;
  gate = new Promise<void>((resolve) => (open = resolve));
  return { open };
}

/**
 * Start the imports while the index lock is held (as an admin command holds it), wait until every one waits for
 * the publisher, release the lock, and settle them: they share the one write that follows.
 */
async function oneWrite(d: VesselDeps, requests: Array<Parameters<typeof importBuild>[1]>): Promise<Settled[]> {
  const publisher = d.publishers.for('main');
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const holding = new Promise<void>((resolve) => (locked = resolve));
  const holder = d.locks.withLock('main', async () => {
    locked();
    await released;
  });
  await holding;
  const settled = requests.map((req) => settle(importBuild(d, req)));
  let done = 0;
  for (const s of settled) void s.then(() => done++);
  // A build that fails before publishing (a bad download) never waits for the publisher: count it as arrived.
  await until(`${requests.length} builds wait for the publisher`, () => publisher.pending + done >= requests.length);
  release();
  await holder;
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

describe('coalesced publishing (group commit)', () => {
  it('publishes a lone build at once, in a write of its own: one build after another makes one history each', async () => {
    const first = await importBuild(deps, importRequest(server, 'b1', [await stone('alpha', 1)]));
    expect(writes).toEqual([['b1']]);
    const second = await importBuild(deps, importRequest(server, 'b2', [await stone('bravo', 1)]));
    expect(writes).toEqual([['b1'], ['b2']]);
    expect([first.historyId, second.historyId]).toEqual(['1', '2']);
    expect(await volatileNames()).toEqual(['alpha-1', 'bravo-1']);
    expect((await readIndex(await readFile(first.indexPath))).map((e) => e.name)).toEqual(['alpha']);
    expect(await readdir(deps.layout.stagingDir)).toEqual([]);
  });

  it('does not make a lone build on an idle index wait for the window, however long it is', async () => {
    // With a ten-minute window, an import that waited for it would not resolve within the test's timeout.
    const windowed = depsWith(HELD_WINDOW_MS);
    const lone = await importBuild(windowed, importRequest(server, 'lone', [await stone('alpha', 1)]));
    expect(lone.historyId).toBe('1');
    expect(writes).toEqual([['lone']]);
  });

  it('lets builds that arrive while a write runs wait, then publishes them together in the next write', async () => {
    const publisher = deps.publishers.for('main');
    const held = holdNextWrite();
    const a = settle(importBuild(deps, importRequest(server, 'a', [await stone('alpha', 1)])));
    await until('the first write has started', () => publisher.writing === 1);
    const b = settle(importBuild(deps, importRequest(server, 'b', [await stone('bravo', 1)])));
    const c = settle(importBuild(deps, importRequest(server, 'c', [await stone('charlie', 1)])));
    await until('two builds wait behind the running write', () => publisher.pending === 2);
    expect(writes).toEqual([['a']]);
    held.open();

    const [ra, rb, rc] = (await Promise.all([a, b, c])).map(ok);
    expect(writes).toEqual([['a'], ['b', 'c']]);
    expect([ra.historyId, rb.historyId, rc.historyId]).toEqual(['1', '2', '2']);
    expect((await listHistory(repo)).histories.map((h) => [h.id, h.packages.x86_64])).toEqual([['1', 1], ['2', 3]]);
    expect(await volatileNames()).toEqual(['alpha-1', 'bravo-1', 'charlie-1']);
  });

  it('publishes imports that arrive while the index is locked as one history, moving volatile once', async () => {
    const names = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];
    const stones = await Promise.all(names.map((n) => stone(n, 1)));
    const results = (await oneWrite(deps, stones.map((s, i) => importRequest(server, `b-${i}`, [s])))).map(ok);

    expect(writes).toHaveLength(1);
    expect(results.map((r) => r.historyId)).toEqual(['1', '1', '1', '1', '1']);
    const history = await listHistory(repo);
    expect(history.histories.map((h) => [h.id, h.packages.x86_64])).toEqual([['1', 5]]);
    expect(history.streams.volatile).toBe('1');
    expect((await volatileNames()).sort()).toEqual(names.map((n) => `${n}-1`));
    expect(await readdir(deps.layout.stagingDir)).toEqual([]);
  });

  it('with a window, lets builds arriving soon after a write wait for the rest of it and share one write', async () => {
    const windowed = depsWith(HELD_WINDOW_MS);
    const publisher = windowed.publishers.for('main');
    expect((await importBuild(windowed, importRequest(server, 'a', [await stone('alpha', 1)]))).historyId).toBe('1');
    const b = settle(importBuild(windowed, importRequest(server, 'b', [await stone('bravo', 1)])));
    const c = settle(importBuild(windowed, importRequest(server, 'c', [await stone('charlie', 1)])));
    await until('both builds wait for the window', () => publisher.pending === 2);
    expect(writes).toEqual([['a']]);
    await publisher.flush();
    expect((await Promise.all([b, c])).map((r) => ok(r).historyId)).toEqual(['2', '2']);
    expect(writes).toEqual([['a'], ['b', 'c']]);
  });

  it('refuses one build of a write without stopping the others: it alone fails, with its reason, and leaves nothing', async () => {
    await oneWrite(deps, [importRequest(server, 'first', [await stone('liba', 2)])]);
    const [good1, older, good2] = await oneWrite(deps, [
      importRequest(server, 'good-1', [await stone('alpha', 1)]),
      importRequest(server, 'older', [await stone('libb', 1), await stone('liba', 1, 'older bytes')]),
      importRequest(server, 'good-2', [await stone('bravo', 1)]),
    ]);
    expect(writes.map((w) => [...w].sort())).toEqual([['first'], ['good-1', 'good-2', 'older']]); // arrival order varies
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

  it('answers a retried import with the history that published it, also when it shares a write with new builds', async () => {
    const a = await stone('alpha', 1);
    const [first] = (await oneWrite(deps, [importRequest(server, 'a', [a])])).map(ok);
    const [again, bravo] = (await oneWrite(deps, [importRequest(server, 'a', [a]), importRequest(server, 'b', [await stone('bravo', 1)])])).map(ok);
    expect(again).toEqual(first);
    expect(bravo.historyId).toBe('2');
    expect((await listHistory(repo)).histories.map((h) => h.id)).toEqual(['1', '2']);
  });

  it('takes a cancelled import out while it waits for the next write; the others publish', async () => {
    const publisher = deps.publishers.for('main');
    const held = holdNextWrite();
    const a = importBuild(deps, importRequest(server, 'a', [await stone('alpha', 1)]));
    await until('the first write has started', () => publisher.writing === 1);
    const cancel = new AbortController();
    const cancelled = importBuild(deps, importRequest(server, 'c', [await stone('charlie', 1)]), { signal: cancel.signal }).then(() => undefined, (e: unknown) => e);
    const kept = importBuild(deps, importRequest(server, 'b', [await stone('bravo', 1)]));
    await until('both builds wait behind the running write', () => publisher.pending === 2);
    cancel.abort(new Error('activity cancelled'));
    expect(await cancelled).toEqual(new Error('activity cancelled'));
    expect(publisher.pending).toBe(1);
    held.open();
    expect([(await a).historyId, (await kept).historyId]).toEqual(['1', '2']);
    expect(writes).toEqual([['a'], ['b']]);
    expect(await volatileNames()).toEqual(['alpha-1', 'bravo-1']);
    expect(existsSync(join(repo.dir, 'pool/c/charlie'))).toBe(false);
  });

  it('converges when a write crashed after writing its history but before moving volatile', async () => {
    const reqs = [importRequest(server, 'a', [await stone('alpha', 1)]), importRequest(server, 'b', [await stone('bravo', 1)])];
    await oneWrite(deps, reqs);
    // As if the process died before step 3: the history folder and the pool files exist, the root index does not.
    await rm(repo.rootIndexPath);
    await rm(join(repo.dir, 'moss-root-index.json.zst'));
    const pool = (await readdir(join(repo.dir, 'pool/a/alpha'))).concat(await readdir(join(repo.dir, 'pool/b/bravo')));

    // A new vessel process (nothing kept in memory) runs both imports again, in one write.
    const restarted = depsWith();
    const retried = (await oneWrite(restarted, reqs)).map(ok);
    expect(retried.map((r) => r.historyId)).toEqual(['2', '2']); // history 1 is an unpublished leftover: never reused
    expect((await volatileNames()).sort()).toEqual(['alpha-1', 'bravo-1']);
    expect((await readdir(join(repo.dir, 'pool/a/alpha'))).concat(await readdir(join(repo.dir, 'pool/b/bravo')))).toEqual(pool);
  });
});

const MOSS = resolve(__dirname, '..', '..', 'shared', 'tools', 'moss');
const MOSS_CHECK = resolve(__dirname, '..', '..', 'shared', 'tools', 'moss-check');

describeWhenAvailable(existsSync(MOSS) && existsSync(MOSS_CHECK) ? undefined : `moss not found at ${MOSS}`, 'an index written incrementally', () => {
  it('is read by the real moss: every package listed, the newest installed', async () => {
    // Write 1 writes everything; write 2 re-uses kept entries; a restarted vessel re-uses the stored payloads
    // it read back (write 3) — the index moss reads mixes payloads from all three writes.
    await oneWrite(deps, [importRequest(server, 'w1-a', [await stone('alpha', 1)]), importRequest(server, 'w1-b', [await stone('bravo', 1)])]);
    await oneWrite(deps, [importRequest(server, 'w2-c', [await stone('charlie', 1)]), importRequest(server, 'w2-a', [await stone('alpha', 2)])]);
    const restarted = depsWith();
    const [last] = (await oneWrite(restarted, [importRequest(server, 'w3-d', [await stone('delta', 1)])])).map(ok);
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
