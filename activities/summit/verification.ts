import { mismatchStreak, policySelects } from '../../core/build/verification';
import type { BuildId } from '../../core/contracts/ids';
import type { Dispatch } from '../../core/contracts/summit';
import type { VerificationInput, VerificationOutcome, VerificationPlan, VerificationSummitActivities } from '../../core/contracts/verification';
import { adminStoreOf } from '../../db/admin-store';
import type { Store } from '../../db/store';
import { verificationStoreOf } from '../../db/verification-store';
import type { RecordLog } from './records';
import { builderRegistryOf } from '../../db/builder-registry-store';
import { buildersFor } from '../../core/trust/standing';

/** A builder heard from within this long may be chosen to verify (the hub's own builder timeout, as waves use). */
const LIVE_BUILDER_MS = 90_000;

export interface VerificationDeps {
  store: Store;
  /** Starts verification workflows and reads a build's dispatch back from Temporal (workers/verification-starter.ts). */
  verifications?: {
    start(input: VerificationInput): Promise<boolean>;
    originalDispatch(buildId: string): Promise<Dispatch | undefined>;
  };
  /** SUMMIT_VERIFY_SUSPEND_AFTER: mismatches in a row that drain a builder (0: never). */
  suspendAfter?: number;
}

/**
 * Summit's side of verification builds: choosing the verifier, recording the result, suspending a builder whose
 * builds keep differing, and starting the verifications a repository's policy asks for once builds are published.
 */
export function verificationActivities(deps: VerificationDeps, log: () => RecordLog = () => console): VerificationSummitActivities & { afterPublish(buildIds: readonly string[]): Promise<void> } {
  const verifications = verificationStoreOf(deps.store.orm);
  const admin = adminStoreOf(deps.store);

  /**
   * A live, enrolled (not revoked) builder of the build's ISA level other than the one that built it, not drained:
   * community builders first (verification is what they are for, core/contracts/trust.ts), then the least busy, then
   * by id (the same choice on a retry while nothing changed).
   */
  async function chooseVerifier(isa: string, original: string | null): Promise<string | undefined> {
    const holds = await admin.holds();
    const registry = await builderRegistryOf(deps.store).levels();
    const since = Date.now() - LIVE_BUILDER_MS;
    const candidates = buildersFor((await deps.store.listBuilders()).filter((b) => b.id !== original && b.lastSeen.getTime() >= since
      && b.isaLevels.includes(isa as never) && !holds.has(`builder:${b.id}`)), registry, 'verification');
    const community = (id: string): number => (registry.get(id)?.trust === 'community' ? 0 : 1);
    candidates.sort((a, b) => community(a.id) - community(b.id) || a.busy / a.slots - b.busy / b.slots || (a.id < b.id ? -1 : 1));
    return candidates[0]?.id;
  }

  return {
    async prepareVerification(input: VerificationInput): Promise<VerificationPlan> {
      const task = await deps.store.getTask(input.buildId);
      const base = { buildId: input.buildId, n: input.n, repository: task.repository, by: input.by, originalBuilder: task.builder ?? null };
      const skip = async (why: string): Promise<VerificationPlan> => {
        await verifications.begin({ ...base, verifier: null });
        return { skipped: why };
      };
      if (task.status !== 'completed' || !task.published?.length) return skip(`the build is ${task.status}, not published`);
      const verifier = await chooseVerifier(task.isa, task.builder ?? null);
      if (!verifier) return skip('no other builder');
      const dispatch = await deps.verifications?.originalDispatch(input.buildId);
      if (!dispatch) return skip('the dispatch of the original build is no longer in Temporal');
      await verifications.begin({ ...base, verifier });
      return {
        verifier, originalBuilder: task.builder ?? '', index: task.index, published: task.published,
        request: {
          buildId: input.buildId, repoUrl: dispatch.repoUrl, commit: dispatch.commit, recipePath: dispatch.recipePath, source: dispatch.source,
          version: dispatch.version, release: dispatch.release, isa: dispatch.isa, buildRelease: dispatch.buildRelease,
          dependencies: dispatch.dependencies, networkAllowed: dispatch.networkAllowed, purpose: 'verification',
        },
      };
    },

    async recordVerification(input: VerificationInput, outcome: VerificationOutcome): Promise<{ suspended?: string }> {
      const row = await verifications.finish(input.buildId, input.n, outcome);
      const threshold = deps.suspendAfter ?? 3;
      const builder = row.originalBuilder;
      if (!builder || outcome.result !== 'different' || threshold === 0) return {};
      const recent = await verifications.comparedOf(builder, threshold);
      if (!mismatchStreak(recent.map((r) => r.result as 'identical' | 'different'), threshold)) return {};
      const reason = `${threshold} verification builds in a row differ: ${recent.map((r) => r.buildId).join(', ')}`;
      const { changed } = await admin.hold({ kind: 'builder', id: builder }, 'verification', reason, 'drain');
      if (changed) log().warn('builder drained: its builds keep differing from their rebuilds', { builderId: builder, reason });
      return changed ? { suspended: builder } : {};
    },

    /**
     * After builds are published: those their repository's policy selects get verification 1 (best effort: a start
     * that fails is logged, never fails the publish record it follows).
     */
    async afterPublish(buildIds: readonly string[]): Promise<void> {
      if (!deps.verifications || buildIds.length === 0) return;
      const policies = new Map((await deps.store.listRepositories()).map((r) => [r.id, r.verify ?? null]));
      // No repository asks for verification builds (the usual case): no task needs reading.
      if (![...policies.values()].some(Boolean)) return;
      for (const id of buildIds) {
        try {
          const task = await deps.store.findTask(id);
          if (!task || !policies.get(task.repository)) continue;
          if (!policySelects(policies.get(task.repository), { id, source: task.source, packages: (task.published ?? []).map((p) => p.name) })) continue;
          if ((await verifications.nextNumber(id)) > 1) continue;
          if (await deps.verifications.start({ buildId: id as BuildId, n: 1, by: 'policy' })) log().info('verification build started', { buildId: id });
        } catch (err) {
          log().warn('verification build not started', { buildId: id, error: err instanceof Error ? err.message : String(err) });
        }
      }
    },
  };
}
