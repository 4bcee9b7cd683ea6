import type { RefreshRequest } from '../../core/contracts/hub';
import type { Store } from '../../db/store';
import { IntakeResult, refreshRepository } from './intake';
import { planBuilds, PlanResult } from './planning';
import { recordActivities } from './records';
import type { Variant } from './variants';
import type { BuilderStatus } from '../../core/contracts/hub';

export interface SummitActivityDeps {
  store: Store;
  mirrorsDir: string;
  variants: readonly Variant[];
  packagesBaseUrl: string;
}

/** Everything the summit worker registers on the summit queue. */
export function createSummitActivities(deps: SummitActivityDeps) {
  return {
    refreshRepository: (req: RefreshRequest): Promise<IntakeResult> => refreshRepository(deps, req),
    planBuilds: (input: { builders: BuilderStatus[] }): Promise<PlanResult> => planBuilds(deps, input),
    listRepositoryIds: async (): Promise<string[]> => (await deps.store.listRepositories()).map((r) => r.id),
    ...recordActivities(deps.store),
  };
}

export type SummitActivities = ReturnType<typeof createSummitActivities>;
