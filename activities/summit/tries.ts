import { rm } from 'node:fs/promises';
import { ApplicationFailure } from '@temporalio/common';
import { INTAKE_GIT_REFUSED } from '../../core/contracts/hub';
import { buildId } from '../../core/contracts/ids';
import { TRY_PURPOSE, type SummitTryActivities, type TryInput } from '../../core/contracts/try';
import { needsTask } from '../../core/intake/tasks';
import type { Variant } from '../../core/variants';
import type { Store } from '../../db/store';
import { TryStore } from '../../db/try-store';
import { resolveCommit, syncMirror } from './git';
import { mirrorPath, readRecipesAt, readWith, DEFAULT_INTAKE_LIMITS, type IntakeLimits } from './intake';

export interface TryActivityDeps {
  store: Store;
  mirrorsDir: string;
  variants: readonly Variant[];
  intakeLimits?: IntakeLimits;
}

/**
 * Summit's activities of try-builds (core/contracts/try.ts). The try's intake reads its ref in a mirror of its
 * own (`<mirrors>/<key>.git`: never the main line's mirror, which the hub's intake may be fetching into at the
 * same time), keeps its recipes under its key, and makes a task, on the baseline ISA level and for the try's
 * index, for every recipe whose release is newer than what the main line has published of it: a try builds what
 * its ref changes, on top of the main line. Its tasks go into one wave of its key, recorded as `building` so the
 * hub leaves it to the try workflow, which starts it and waits for it.
 */
export function tryActivities(deps: TryActivityDeps): SummitTryActivities {
  const tries = new TryStore(deps.store.orm);
  const baseline = deps.variants[0];
  return {
    async tryIntake(input: TryInput) {
      const row = await tries.get(input.name, input.seq);
      const repo = await deps.store.getRepository(row.repository);
      const mirror = mirrorPath(deps.mirrorsDir, row.key);
      await syncMirror(repo.url, mirror);
      const commit = await resolveCommit(mirror, row.ref).catch((err: unknown) => {
        // The ref is not in the repository: a retry will not find it either.
        throw ApplicationFailure.nonRetryable(`repository "${repo.id}" has no ref "${row.ref}": ${err instanceof Error ? err.message : String(err)}`, INTAKE_GIT_REFUSED);
      });
      const limits = deps.intakeLimits ?? DEFAULT_INTAKE_LIMITS;
      const read = await readRecipesAt(mirror, commit, { limits });
      await deps.store.replaceRecipes(row.key, read.recipes, { commit, readWith: readWith(limits) });
      const published = await deps.store.publishedReleases(repo.id);
      const wanted = read.recipes
        .filter((r) => needsTask(r.release, published.get(`${r.source}/${baseline.isa}`) ?? 0))
        .map((r) => ({ recipe: r, id: buildId({ project: repo.project, repository: row.key, source: r.source, version: r.version, release: r.release, isa: baseline.isa }) }));
      // Idempotent: a retried intake makes only the tasks the first attempt did not.
      const existing = new Set((await deps.store.intakeTasks(row.key, wanted.map((w) => w.id))).map((t) => t.id));
      const create = wanted.filter((w) => !existing.has(w.id));
      // Created in the try's wave (one transaction), which its own workflow starts (never the hub: `building`).
      const opened = await deps.store.createTasks(create.map(({ recipe: r, id }) => ({
        task: { id, project: repo.project, repository: row.key, source: r.source, version: r.version, release: r.release, isa: baseline.isa, index: row.index, commit, recipePath: r.path },
        reason: `${TRY_PURPOSE}: ${r.source} ${r.version}-${r.release} of ${repo.id} ${row.ref} at ${commit.slice(0, 12)} (main line published release ${published.get(`${r.source}/${baseline.isa}`) ?? 'none'}), into ${row.index}`,
      })), { wave: { repository: row.key, commit, origin: TRY_PURPOSE, status: 'building' } });
      let waveId: string | null = null;
      if (wanted.length > 0) {
        const wave = opened ?? (await deps.store.waves.openWave(row.key, commit, TRY_PURPOSE, { status: 'building' }));
        await deps.store.waves.assign(wanted.map((w) => w.id), wave.id);
        if (wave.status === 'new') await deps.store.waves.update(wave.id, { status: 'building', startedAt: new Date() });
        waveId = wave.id;
      }
      await tries.update(row.name, row.seq, { commit, tasks: wanted.length, waveId });
      return { commit, tasks: wanted.length, waveId };
    },

    async recordTry(input, fields) {
      const { expired, ...rest } = fields;
      const row = await tries.update(input.name, input.seq, { ...rest, ...(expired ? { status: 'expired' as const, expiredAt: new Date() } : {}) });
      if (!expired) return;
      // Nothing of an expired try is built any more (a retried build would publish into an index that is gone), and
      // its own mirror goes with it.
      for (const t of await deps.store.intakeTasks(row.key, [])) {
        if (t.status === 'new' || t.status === 'blocked') await deps.store.moveTask(t.id, 'cancelled', `its try ${row.index} expired`, {}, { onlyFrom: ['new', 'blocked'] });
      }
      await rm(mirrorPath(deps.mirrorsDir, row.key), { recursive: true, force: true });
    },

    async tryWaveEnded(waveId) {
      const wave = await deps.store.waves.getWave(waveId);
      if (wave.status !== 'published' && wave.status !== 'cancelled') return null;
      return { status: wave.status, histories: wave.histories.map((h) => ({ index: h.index, historyId: h.historyId })) };
    },

    async tryExpiry(input) {
      const row = await tries.get(input.name, input.seq);
      return { expiresAt: row.expiresAt.toISOString(), expired: row.status === 'expired' };
    },

    async triesDue() {
      const due = await tries.due(new Date());
      const live = await tries.list({ limit: 10_000, live: true });
      return {
        due: due.map((t) => ({ name: t.name, seq: t.seq, index: t.index, expiresAt: t.expiresAt.toISOString() })),
        live: live.map((t) => t.index),
      };
    },
  };
}
