/**
 * Search attributes every build workflow carries, so operators can filter builds in the Temporal UI
 * (`BuildPackage = "nano" AND BuildStatus = "failed"`). The dev server registers them at start
 * (`--search-attribute NAME=Keyword`); a production namespace needs `temporal operator search-attribute create`.
 */
export const BUILD_SEARCH_ATTRIBUTES = {
  BuildPackage: 'Keyword',
  BuildIsa: 'Keyword',
  /** The ISA level's architecture in the farm's profile (core/profile.ts): `BuildArchitecture = "aarch64"`. */
  BuildArchitecture: 'Keyword',
  BuildBuilder: 'Keyword',
  BuildCommit: 'Keyword',
  BuildStatus: 'Keyword',
  /** The wave (core/contracts/wave.ts) the build belongs to: `BuildWave = "wave-demo-0123456789ab"`. */
  BuildWave: 'Keyword',
} as const;

export type BuildSearchAttribute = keyof typeof BUILD_SEARCH_ATTRIBUTES;
