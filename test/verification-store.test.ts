/**
 * Verification builds in the read model, on both drivers: the rows (db/verification-store.ts), the repository
 * policy column, and summit's record and choice (activities/summit/verification.ts) against a real database:
 * the verifier is another live, undrained builder of the ISA level; repeated mismatches of one builder's builds
 * drain it, by `verification`, once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MikroORM } from '@mikro-orm/core';
import { verificationActivities } from '../activities/summit/verification';
import type { BuildId } from '../core/contracts/ids';
import type { VerificationOutcome } from '../core/contracts/verification';
import { adminStoreOf } from '../db/admin-store';
import { openDatabase } from '../db/orm';
import { Store } from '../db/store';
import { verificationStoreOf } from '../db/verification-store';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { enrolBuilders } from './helpers/enrol';

const quiet = { warn: () => undefined, info: () => undefined };
const task = (source: string) => ({
  id: `build/p/recipes/${source}-1.0-1/x86_64`, project: 'p', repository: 'recipes', source, version: '1.0',
  release: 1, isa: 'x86_64', index: 'main', commit: 'c0ffee', recipePath: source,
});
const different: VerificationOutcome = { result: 'different', verifier: 'b', comparison: { result: 'different', packages: 1, files: 2, differenceCount: 1, differences: [{ package: 'x', path: '/usr/x', what: ['content digest'] }] } };
const identical: VerificationOutcome = { result: 'identical', verifier: 'b', comparison: { result: 'identical', packages: 1, files: 2, differenceCount: 0, differences: [] } };

describe.each(['postgresql', 'embedded libsql'])('verification records on %s', (driver) => {
  let orm: MikroORM;
  let store: Store;
  let pg: TestDatabase | undefined;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'summit-verify-db-'));
    if (driver === 'postgresql') pg = await createTestDatabase('verifystore');
    orm = await openDatabase({ url: pg?.url, dataDir: dir });
    store = new Store(orm);
    await store.addRepository({ id: 'recipes', project: 'p', url: '/srv/recipes.git', verify: { sampleRate: 0.5, packages: ['gcc'] } });
    for (const id of ['a', 'b', 'c']) await store.upsertBuilder({ id, host: 'h', isaLevels: ['x86_64'], slots: 1, busy: id === 'b' ? 1 : 0, diskFree: 1, lastSeen: new Date() });
    // Verifiers are chosen among enrolled builders (issue 10); `a`, the original builder, need not be.
    await enrolBuilders(store, ['b', 'c']);
    for (const s of ['one', 'two', 'three']) {
      await store.createTask(task(s), 'new');
      for (const step of ['queued', 'building', 'publishing'] as const) await store.setStatus(task(s).id, step, step);
      await store.setStatus(task(s).id, 'completed', 'published', { builder: 'a', published: [{ name: s, uri: `pool/${s}.stone`, sha256: '0'.repeat(64), size: 1 }] });
    }
    await store.createTask(task('open'), 'new');
  });

  afterAll(async () => {
    await orm?.close(true);
    await pg?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the repository policy as given', async () => {
    expect((await store.getRepository('recipes')).verify).toEqual({ sampleRate: 0.5, packages: ['gcc'] });
  });

  it('skips a build not published, and one with no other builder', async () => {
    const acts = verificationActivities({ store }, () => quiet);
    expect(await acts.prepareVerification({ buildId: task('open').id as BuildId, n: 1, by: 'admin:x' })).toEqual({ skipped: 'the build is new, not published' });
    // b and c are live and undrained, but no starter here reads the dispatch back: skipped with that reason, after choosing.
    expect(await acts.prepareVerification({ buildId: task('one').id as BuildId, n: 1, by: 'policy' })).toEqual({ skipped: 'the dispatch of the original build is no longer in Temporal' });
    await adminStoreOf(store).hold({ kind: 'builder', id: 'b' }, 'admin', null, 'drain');
    await adminStoreOf(store).hold({ kind: 'builder', id: 'c' }, 'admin', null, 'drain');
    expect(await acts.prepareVerification({ buildId: task('two').id as BuildId, n: 1, by: 'policy' })).toEqual({ skipped: 'no other builder' });
    const rows = verificationStoreOf(orm);
    expect((await rows.forBuild(task('two').id)).map((v) => ({ result: v.result, originalBuilder: v.originalBuilder, verifier: v.verifier }))).toEqual([{ result: 'running', originalBuilder: 'a', verifier: null }]);
    expect(await rows.nextNumber(task('two').id)).toBe(2);
    expect(await rows.nextNumber(task('three').id)).toBe(1);
  });

  it('records results, lists them newest first by result and builder, and drains a builder after N mismatches in a row, once', async () => {
    const acts = verificationActivities({ store, suspendAfter: 3 }, () => quiet);
    const rows = verificationStoreOf(orm);
    const run = async (source: string, n: number, outcome: VerificationOutcome) => {
      await rows.begin({ buildId: task(source).id, n, repository: 'recipes', by: 'policy', originalBuilder: 'a', verifier: 'b' });
      return acts.recordVerification({ buildId: task(source).id as BuildId, n, by: 'policy' }, outcome);
    };
    expect(await run('three', 1, different)).toEqual({});
    expect(await run('three', 2, different)).toEqual({});
    expect(await run('three', 3, identical)).toEqual({});
    expect(await run('three', 4, different)).toEqual({});
    expect(await run('three', 5, different)).toEqual({});
    expect((await adminStoreOf(store).holds()).has('builder:a')).toBe(false);
    expect(await run('three', 6, different)).toEqual({ suspended: 'a' });
    // A retried record drains nothing twice.
    expect(await acts.recordVerification({ buildId: task('three').id as BuildId, n: 6, by: 'policy' }, different)).toEqual({});
    const hold = (await adminStoreOf(store).holds()).get('builder:a');
    expect(hold).toMatchObject({ by: 'verification', reason: `3 verification builds in a row differ: ${task('three').id}, ${task('three').id}, ${task('three').id}` });
    expect((await adminStoreOf(store).events({ kind: 'builder', id: 'a' }, 10)).map((e) => [e.action, e.by])).toEqual([['drain', 'verification']]);

    const listed = await rows.list({ result: 'different', limit: 10 });
    expect(listed.map((v) => v.n)).toEqual([6, 5, 4, 2, 1]);
    expect(listed[0]).toMatchObject({ differenceCount: 1, differences: [{ package: 'x', path: '/usr/x', what: ['content digest'] }], packages: 1, files: 2 });
    expect((await rows.list({ builder: 'b', limit: 2 })).map((v) => v.n)).toEqual([6, 5]);
    expect(await rows.list({ builder: 'nobody', limit: 10 })).toEqual([]);
  });
});
