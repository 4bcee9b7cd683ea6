import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MikroORM } from '@mikro-orm/core';
import { WaveTelling } from '../activities/summit/notify';
import { ESTIMATE_EVERY_MS, waveActivities } from '../activities/summit/waves';
import { WAVE_OPEN_TASK_STATUSES } from '../core/contracts/wave';
import type { TaskStatus } from '../core/task/state';
import { openDatabase } from '../db/orm';
import { Store, type NewTask } from '../db/store';
import { createTestDatabase, type TestDatabase } from './support/postgres';

/** The statuses a task passes through on its way to each one (the store's state machine). */
const PATH: Record<string, TaskStatus[]> = {
  new: [],
  queued: ['queued'],
  building: ['queued', 'building'],
  publishing: ['queued', 'building', 'publishing'],
  completed: ['queued', 'building', 'publishing', 'completed'],
  failed: ['queued', 'building', 'failed'],
  cancelled: ['cancelled'],
};

describe.each(['postgresql', 'embedded libsql'])('a wave\'s progress on %s', (driver) => {
  let orm: MikroORM;
  let store: Store;
  let pg: TestDatabase | undefined;
  let dir: string;
  let now = 1_800_000_000_000;
  let activities: ReturnType<typeof waveActivities>;
  let waveId: string;

  const task = (source: string, index = 'main'): NewTask => ({
    id: `build/serpent/recipes/${source}-1.0-1/x86_64${index === 'main' ? '' : `/${index}`}`, project: 'serpent', repository: 'recipes', source,
    version: '1.0', release: 1, isa: 'x86_64', index, commit: 'c0ffee', recipePath: `r/${source}`, wave: waveId,
  });
  const moveTo = async (id: string, to: keyof typeof PATH, from: keyof typeof PATH = 'new') => {
    for (const s of PATH[to].slice(PATH[from].length)) await store.setStatus(id, s, 'test', s === 'building' ? { startedAt: new Date(now), builder: 'b1' } : {});
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'summit-wave-progress-'));
    if (driver === 'postgresql') pg = await createTestDatabase('waveprogress');
    orm = await openDatabase({ url: pg?.url, dataDir: dir });
    store = new Store(orm);
    await store.addRepository({ id: 'recipes', project: 'serpent', url: '/srv/recipes.git' });
    waveId = (await store.waves.openWave('recipes', 'c0ffee', 'push')).id;
    await store.waves.addRemovals(waveId, [{ index: 'removed-only', source: 'gone', packages: ['gone'] }]);
    activities = waveActivities(store, { now: () => now });
  });

  afterAll(async () => {
    await orm?.close(true);
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts every status per index, exactly at every call, without reading the tasks themselves', async () => {
    const statuses: Array<[string, keyof typeof PATH, string?]> = [
      ['a', 'new'], ['b', 'queued'], ['c', 'building'], ['d', 'publishing'], ['e', 'completed'], ['f', 'failed'], ['g', 'cancelled'],
      ['h', 'new', 'main-x86_64_v3'], ['i', 'completed', 'main-x86_64_v3'],
    ];
    for (const [source, status, index] of statuses) {
      const t = task(source, index);
      await store.createTask(t, 'test');
      await moveTo(t.id, status);
    }
    const p = await activities.waveProgress(waveId, 'building');
    expect(p).toMatchObject({ waveId, status: 'building', total: 9, done: 2, failed: 1, dropped: 1, open: 5 });
    // Every index of the wave is a key, the one only a removal names too.
    expect(p.openByIndex).toEqual({ main: 4, 'main-x86_64_v3': 1, 'removed-only': 0 });
    expect(Object.keys(p.openByIndex ?? {})).toEqual(['main', 'main-x86_64_v3', 'removed-only']);
    // Builds with no past time count UNKNOWN_BUILD_SECONDS each (60 s, 1 s while publishing) over one slot (none live).
    expect(p.etaMs).toBe((60 * 4 + 1) * 1000);
    expect((await store.waves.getWave(waveId)).estimate).toEqual({ etaMs: p.etaMs, at: new Date(now).toISOString() });
  });

  it('works the estimate out again at most every ESTIMATE_EVERY_MS, while the counts follow every move', async () => {
    const written = (await store.waves.getWave(waveId)).estimate;
    await moveTo(task('a').id, 'completed');
    now += ESTIMATE_EVERY_MS - 1;
    const soon = await activities.waveProgress(waveId);
    expect(soon).toMatchObject({ done: 3, open: 4 });
    // Not worked out again: the last estimate, and the wave row as it was written.
    expect(soon.etaMs).toBe(written!.etaMs);
    expect((await store.waves.getWave(waveId)).estimate).toEqual(written);

    now += 1;
    const later = await activities.waveProgress(waveId);
    // b and h 60 s each, d publishing 1 s, c building for ESTIMATE_EVERY_MS already: 60 s less that.
    expect(later.etaMs).toBe((60 + 1 + 60) * 1000 + (60_000 - ESTIMATE_EVERY_MS));
    expect((await store.waves.getWave(waveId)).estimate).toEqual({ etaMs: later.etaMs, at: new Date(now).toISOString() });
  });

  it('says 0 as soon as nothing is open, and nothing once the wave has ended', async () => {
    for (const [source, from] of [['b', 'queued'], ['c', 'building'], ['d', 'publishing'], ['h', 'new']] as const) {
      await moveTo(task(source, source === 'h' ? 'main-x86_64_v3' : 'main').id, 'completed', from);
    }
    const done = await activities.waveProgress(waveId);
    expect(done).toMatchObject({ total: 9, done: 7, failed: 1, dropped: 1, open: 0, etaMs: 0 });
    expect(done.openByIndex).toEqual({ main: 0, 'main-x86_64_v3': 0, 'removed-only': 0 });
    expect((await store.waves.getWave(waveId)).estimate?.etaMs).toBe(0);
    const ended = await activities.waveProgress(waveId, 'published');
    expect(ended).toMatchObject({ status: 'published', etaMs: null });
    expect((await store.waves.getWave(waveId)).estimate?.etaMs).toBeNull();
  });

  /**
   * Which staged builds wake their wave (activities/summit/notify.ts WaveTelling), on the real count (countIn over
   * WAVE_OPEN_TASK_STATUSES) taken after each build's record, as recordStagedAndTell takes it.
   */
  it('is told by the last open build of an index at once, and by the others once per progress interval', async () => {
    const own = (await store.waves.openWave('recipes', 'beef', 'push')).id;
    const [a, b, c, v3] = [task('ta'), task('tb'), task('tc'), task('ta', 'main-x86_64_v3')].map((t) => ({ ...t, wave: own }));
    for (const t of [a, b, c, v3]) await store.createTask(t, 'test');
    let clock = 0;
    const counted: string[] = [];
    const telling = new WaveTelling({
      openIn: async (id, index) => {
        counted.push(index);
        return store.waves.countIn(id, index, WAVE_OPEN_TASK_STATUSES);
      },
      progressEveryMs: 5_000,
      clock: () => clock,
    });
    expect(await store.waves.countIn(own, 'main', WAVE_OPEN_TASK_STATUSES)).toBe(3);
    await moveTo(a.id, 'completed');
    // The wave has not heard from its builds yet: a progress tick, no count needed.
    expect(await telling.shouldTell(own, 'main')).toBe(true);
    expect(counted).toEqual([]);
    // b ends while c is still building: not the last, and within the interval.
    await moveTo(c.id, 'building');
    await moveTo(b.id, 'completed');
    clock += 4_999;
    expect(await telling.shouldTell(own, 'main')).toBe(false);
    // The interval is over: a progress tick, c still open.
    clock += 1;
    expect(await telling.shouldTell(own, 'main')).toBe(true);
    // c is the last open build of main: it tells at once, within the interval.
    await moveTo(c.id, 'completed', 'building');
    clock += 10;
    expect(await telling.shouldTell(own, 'main')).toBe(true);
    // The other index keeps its own count: its only build ends, and it tells too.
    await moveTo(v3.id, 'completed');
    clock += 10;
    expect(await telling.shouldTell(own, 'main-x86_64_v3')).toBe(true);
    expect(counted).toEqual(['main', 'main', 'main-x86_64_v3']);
  });

  it('is told when the count fails (the wave then looks for itself)', async () => {
    let clock = 0;
    const telling = new WaveTelling({ openIn: () => Promise.reject(new Error('database gone')), progressEveryMs: 5_000, clock: () => clock });
    expect(await telling.shouldTell('wave-x', 'main')).toBe(true);
    clock += 1;
    expect(await telling.shouldTell('wave-x', 'main')).toBe(true);
  });
});
