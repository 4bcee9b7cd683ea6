import type { ImportRequest, ImportResult } from './build';

/**
 * What the vessel worker (VESSEL_QUEUE) can be asked to do. Workflows proxy these as types only.
 *
 * Suggested activity options for importArtefacts: a heartbeat timeout of about a minute (it heartbeats the bytes
 * fetched, and while it waits for the repository's lock), a start-to-close timeout sized for the largest build
 * (tens of minutes), and the default retry policy: everything it throws is retryable except IMPORT_REFUSED.
 */
export interface VesselActivities {
  /** Fetch, verify and publish a build's packages as a new history version; idempotent (see activities/vessel). */
  importArtefacts(req: ImportRequest): Promise<ImportResult>;
  /** Point a stream (volatile or unstable) at an existing history version. */
  rollbackStream(index: string, stream: string, historyId: string): Promise<RepositoryHistory>;
  /** Name a history version; moving an existing tag needs `replace`. */
  tagHistory(index: string, tag: string, historyId: string, replace?: boolean): Promise<RepositoryHistory>;
  /** `to` (default unstable) takes the history `from` (default volatile) points at. */
  promote(index: string, to?: string, from?: string): Promise<RepositoryHistory>;
  listHistory(index: string): Promise<RepositoryHistory>;
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
