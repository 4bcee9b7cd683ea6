import { POLICY_ACTOR, type WavePolicyActivities } from '../../core/contracts/wave-policy';
import { IndexEventStore } from '../../db/index-event-store';
import type { Store } from '../../db/store';

/** A task status that means "built and published with its wave". */
const PUBLISHED = 'completed';

/**
 * The promote policy's read-model side (core/contracts/wave-policy.ts): whether a wave that just ended earns its
 * repository's `unstable` promote, and the record of the promote in the index's audit trail (index_events, as an
 * admin's promote is recorded, by `policy`).
 */
export function wavePolicyActivities(store: Store): WavePolicyActivities {
  const events = new IndexEventStore(store.orm);
  return {
    async wavePromotePlan(waveId) {
      const wave = await store.waves.getWave(waveId);
      const repo = (await store.listRepositories()).find((r) => r.id === wave.repository);
      if (repo?.promote !== 'unstable') return { indexes: [], reason: 'no promote policy' };
      if (wave.status !== 'published') return { indexes: [], reason: `the wave is ${wave.status}` };
      const tasks = await store.waves.tasksOf(waveId);
      const published = new Set(wave.publishedTasks);
      const notPublished = tasks.filter((t) => t.status !== PUBLISHED || !published.has(t.id)).map((t) => `${t.id} (${t.status})`);
      if (notPublished.length > 0) return { indexes: [], reason: `not every build was published: ${notPublished.slice(0, 5).join(', ')}` };
      if (wave.skipped.length > 0) return { indexes: [], reason: `builds were left out: ${wave.skipped.map((s) => s.taskId).slice(0, 5).join(', ')}` };
      // Its histories were written, so each passed vessel's closure check; an index it changed nothing in is left.
      return { indexes: [...new Set(wave.histories.map((h) => h.index))].sort() };
    },

    async recordPolicyPromote(waveId, index, outcome) {
      await events.record({
        index, command: 'promote', params: { to: 'unstable', from: 'volatile', wave: waveId }, by: POLICY_ACTOR,
        ...('error' in outcome ? { outcome: 'failed', detail: outcome.error.slice(0, 2000) } : { outcome: 'ok', streams: outcome.streams }),
      });
    },
  };
}
