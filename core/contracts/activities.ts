import type { BuildRequest, BuildResult, ImportRequest, ImportResult } from './build';

/**
 * The activities each role registers, by name. Workflows call them through proxyActivities with these types
 * only; the implementations live in activities/avalanche and activities/vessel.
 */
export interface AvalancheActivities {
  /** Runs on the ISA queue: checkout, nspawn build, packing. Non-retryable BUILD_FAILED when the recipe fails. */
  buildRecipe(req: BuildRequest): Promise<BuildResult>;
  /** Runs on the queue of the builder that holds the artefacts. Idempotent. */
  cleanupBuild(buildId: string): Promise<void>;
}

export interface VesselActivities {
  /** Fetch, verify, import into the pool, publish a new index history. Non-retryable IMPORT_REFUSED on refusal. */
  importArtefacts(req: ImportRequest): Promise<ImportResult>;
}
