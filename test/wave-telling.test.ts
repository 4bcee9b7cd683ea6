/**
 * Which staged builds wake their wave (activities/summit/notify.ts WaveTelling) on a real database: the last open
 * build of an index always does (the wave publishes that index then), the others at most once per progress
 * interval. The count is the real one (db/wave-store.ts countIn over WAVE_OPEN_STATUSES), taken after each
 * build's record, as recordStagedAndTell takes it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MikroORM } from '@mikro-orm/core';
import { WaveTelling } from '../activities/summit/notify';
import { WAVE_OPEN_STATUSES } from '../activities/summit/waves';
import type { TaskStatus } from '../core/task/state';
import { openDatabase } from '../db/orm';
import { Store, type NewTask } from '../db/store';
import { createTestDatabase, type TestDatabase } from './support/postgres';

describe.each(['postgresql', 'embedded libsql'])('a wave told by its staged builds on %s', (driver) => {
  let orm: MikroORM;
  let store: Store;
  let pg: TestDatabase | undefined;
  let dir: string;

  const task = (source: string, index: string): NewTask => ({
    id: `build/serpent/recipes/${source}-1.0-1/${index === 'main' ? 'x86_64' : 'x86_64_v3x'}`, project: 'serpent', repository: 'recipes', source,
    version: '1.0', release: 1, isa: index === 'main' ? 'x86_64' : 'x86_64_v3x', index, commit: 'c0ffee', recipePath: `r/${source}`,
  });
  /** From where it is, through the state machine, as the hub, the builder and the records move it. */
  const stage = async (t: NewTask, until: TaskStatus = 'completed') => {
    const steps: TaskStatus[] = ['new', 'queued', 'building', 'publishing', 'completed'];
    const from = steps.indexOf((await store.getTask(t.id)).status as TaskStatus);
    for (const to of steps.slice(from + 1, steps.indexOf(until) + 1)) await store.setStatus(t.id, to, 'test');
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'summit-wave-telling-'));
    if (driver === 'postgresql') pg = await createTestDatabase('wavetelling');
    orm = await openDatabase({ url: pg?.url, dataDir: dir });
    store = new Store(orm);
    await store.addRepository({ id: 'recipes', project: 'serpent', url: '/srv/recipes.git' });
  });

  afterAll(async () => {
    await orm?.close(true);
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tells for the last open build of an index at once, and otherwise once per progress interval', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map((s) => task(s, 'main'));
    const v3 = task('a', 'main-v3x');
    const wave = (await store.createTasks([a, b, c, v3].map((t) => ({ task: t, reason: 'test' })), { wave: { repository: 'recipes', commit: 'c0ffee', origin: 'push' } }))!;
    let now = 1_000_000;
    const counted: string[] = [];
    const telling = new WaveTelling({
      openIn: async (waveId, index) => {
        counted.push(index);
        return store.waves.countIn(waveId, index, WAVE_OPEN_STATUSES);
      },
      progressEveryMs: 5_000,
      clock: () => now,
    });

    expect(await store.waves.countIn(wave.id, 'main', WAVE_OPEN_STATUSES)).toBe(3);
    await stage(a);
    // The wave has not heard from its builds yet: a progress tick, no count needed.
    expect(await telling.shouldTell(wave.id, 'main')).toBe(true);
    expect(counted).toEqual([]);
    // b ends while c is still building: not the last, and within the interval.
    await stage(c, 'building');
    await stage(b);
    now += 4_999;
    expect(await telling.shouldTell(wave.id, 'main')).toBe(false);
    expect(counted).toEqual(['main']);
    // The interval is over: a progress tick, c still open.
    now += 1;
    expect(await telling.shouldTell(wave.id, 'main')).toBe(true);
    // c is the last open build of main: told at once, within the interval.
    await stage(c);
    now += 10;
    expect(await telling.shouldTell(wave.id, 'main')).toBe(true);
    // The other index keeps its own count: its only build ends, and it tells too.
    await stage(v3);
    now += 10;
    expect(await telling.shouldTell(wave.id, 'main-v3x')).toBe(true);
    expect(counted).toEqual(['main', 'main', 'main-v3x']);
  });

  it('tells when the count fails (the wave looks for itself)', async () => {
    let now = 0;
    const telling = new WaveTelling({ openIn: () => Promise.reject(new Error('database gone')), progressEveryMs: 5_000, clock: () => now });
    expect(await telling.shouldTell('wave-x', 'main')).toBe(true);
    now += 1;
    expect(await telling.shouldTell('wave-x', 'main')).toBe(true);
  });
});
