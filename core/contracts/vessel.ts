/**
 * The vessel worker's admin commands on a repository (index), beside `VesselActivities.importArtefacts`
 * (core/contracts/activities.ts); the worker on VESSEL_QUEUE registers both. Workflows proxy them as types only.
 * A command that cannot apply fails with the non-retryable STREAM_COMMAND_REFUSED.
 */
export interface VesselAdminActivities {
  /** Point a stream (volatile or unstable) at an existing history version. */
  rollbackStream(index: string, stream: string, historyId: string): Promise<RepositoryHistory>;
  /** Name a history version; moving an existing tag needs `replace`. */
  tagHistory(index: string, tag: string, historyId: string, replace?: boolean): Promise<RepositoryHistory>;
  /** `to` (default unstable) takes the history `from` (default volatile) points at. */
  promote(index: string, to?: string, from?: string): Promise<RepositoryHistory>;
  listHistory(index: string): Promise<RepositoryHistory>;
  /** Keep the newest `keep` histories plus those a stream or tag names; delete the rest and the pool files only they list. */
  pruneIndex(index: string, keep: number, dryRun: boolean): Promise<PruneResult>;
}

/** What a prune removed (or, with dryRun, would remove). */
export interface PruneResult {
  index: string;
  dryRun: boolean;
  keep: number;
  /** History ids kept, oldest first. */
  kept: string[];
  /** History ids removed (a folder the root index did not name included), oldest first. */
  removedHistories: string[];
  /** Pool files removed, repository-relative (`pool/l/liba/liba-1.0.0-1-1-x86_64.stone`). */
  removedPoolFiles: string[];
  tookMs: number;
}

export interface HistoryVersion {
  id: string;
  format: string;
  /** Packages published in this version, per architecture. */
  packages: Record<string, number>;
  /** When the version was written (its folder's modification time), ISO 8601. */
  createdAt: string;
}

export interface RepositoryHistory {
  index: string;
  /** Oldest first. */
  histories: HistoryVersion[];
  /** Stream name → history id. */
  streams: Record<string, string>;
  /** Tag → history id. */
  tags: Record<string, string>;
}

/**
 * The retryable ApplicationFailure type of a builder refusing vessel's token (HTTP 401/403). Retryable because the
 * artefacts are not at fault: the token may have expired or the builder restarted; a workflow that can mint a new
 * token may list this type in its retry policy's nonRetryableErrorTypes and handle it itself.
 */
export const ARTEFACT_ACCESS_DENIED = 'ArtefactAccessDenied';

/** The non-retryable ApplicationFailure type of an admin command that cannot apply (unknown history, bad tag). */
export const STREAM_COMMAND_REFUSED = 'StreamCommandRefused';

/**
 * The non-retryable ApplicationFailure type of a publish that would leave a runtime dependency unresolved (issue 9,
 * closure): the history is not written; the failure's first detail is a ClosureReport. A wave that receives it waits
 * (showing the report) until the dependency is provided, rather than publishing a repository moss cannot install from.
 */
export const CLOSURE_UNRESOLVED = 'ClosureUnresolved';

export interface ClosureReport {
  index: string;
  /** Each runtime dependency nothing in the repository (or a declared base repository) provides, with who needs it. */
  unresolved: Array<{ dependency: string; neededBy: string[] }>;
  /** What the declared base repositories resolved, each base with its dependencies (core/repo/base-resolution.ts). */
  resolvedByBase?: Array<{ base: string; dependencies: string[] }>;
}

/**
 * One admin command on a published repository, as the API sends it to the index-admin workflow
 * (workflows/index-admin.ts), which runs it as the vessel activity of the same name on VESSEL_QUEUE. `by` is who
 * asked (the API token's name), kept in the workflow's input so the Temporal UI shows it too.
 */
export type IndexCommand =
  | { kind: 'history'; index: string; by: string }
  | { kind: 'promote'; index: string; by: string; to?: string; from?: string }
  | { kind: 'tag'; index: string; by: string; tag: string; historyId: string; replace?: boolean }
  | { kind: 'rollback'; index: string; by: string; stream: string; historyId: string }
  | { kind: 'prune'; index: string; by: string; keep: number; dryRun: boolean };

export type IndexCommandResult = { kind: 'history'; history: RepositoryHistory } | { kind: 'prune'; prune: PruneResult; history: RepositoryHistory };

/** Workflow type name of the index-admin workflow (started by name from the API, which imports no workflow code). */
export const INDEX_ADMIN_WORKFLOW = 'indexAdminWorkflow';
