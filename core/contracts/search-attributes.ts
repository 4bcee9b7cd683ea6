/**
 * Search attributes every build workflow carries, so operators can filter builds in the Temporal UI
 * (`BuildPackage = "nano" AND BuildStatus = "failed"`). The dev server registers them at start
 * (`--search-attribute NAME=Keyword`); a production namespace needs `temporal operator search-attribute create`.
 */
export const BUILD_SEARCH_ATTRIBUTES = {
  BuildPackage: 'Keyword',
  BuildIsa: 'Keyword',
  BuildBuilder: 'Keyword',
  BuildCommit: 'Keyword',
  BuildStatus: 'Keyword',
} as const;

export type BuildSearchAttribute = keyof typeof BUILD_SEARCH_ATTRIBUTES;
