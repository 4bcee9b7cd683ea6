/**
 * Who may build what (issue 10): a builder is enrolled with a trust level, and every build has a purpose.
 *
 * - `official`: a build of a registered repository's main line, published to its streams. Only trusted builders
 *   take it, and vessel imports it only from a trusted builder (checked on vessel's side, not on the builder's word).
 * - `try`: a build of a branch or pull-request ref into a throw-away `try/<name>` index; any enrolled builder.
 * - `verification`: a rebuild of a published build on a different builder, compared file by file; never published.
 */
export const TRUST_LEVELS = ['trusted', 'community'] as const;
export type TrustLevel = (typeof TRUST_LEVELS)[number];

export const BUILD_PURPOSES = ['official', 'try', 'verification'] as const;
export type BuildPurpose = (typeof BUILD_PURPOSES)[number];

/** The trust levels that may take a build of a purpose. */
export function trustFor(purpose: BuildPurpose): readonly TrustLevel[] {
  return purpose === 'official' ? ['trusted'] : TRUST_LEVELS;
}
