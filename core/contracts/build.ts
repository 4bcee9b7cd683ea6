import type { BuildPurpose } from './trust';
import type { BuildId, BuilderId } from './ids';
import type { IsaLevel } from './queues';

/**
 * What travels between summit, avalanche and vessel. Only references and small facts: paths, URLs, sizes,
 * hashes. Logs and artefacts stay on the builder's disk and are fetched over HTTP.
 */

/**
 * Sent by avalanche's build activity to its build workflow the moment a builder picks the build up (each attempt):
 * the build is then `building` on that builder, and its duration runs from here. Best effort: a build whose
 * signal was lost is recorded as picked up when its result arrives.
 */
export const SIGNAL_BUILD_PICKED_UP = 'buildPickedUp';

export interface BuildPickup {
  builderId: BuilderId;
  /** When the builder took it (ISO time on the builder's clock). */
  at: string;
  /** Temporal's attempt number of the build activity: above 1 when another builder's attempt was lost. */
  attempt: number;
  /**
   * Where this attempt's log can be read while it runs, and collected once it ended: the builder's artefact
   * server (`${url}/logs/<encoded build id>`, workers/avalanche/artefact-server.ts) and a token of this build.
   * Absent from pickups recorded before live logs existed, and from the one a build result stands in for.
   */
  log?: { url: string; token: string };
}

/** Input of avalanche's build activity. */
export interface BuildRequest {
  buildId: BuildId;
  /** Where avalanche clones the recipe repository from (summit's bare mirror: a path or a git URL). */
  repoUrl: string;
  /** The exact commit to build. */
  commit: string;
  /** The recipe's folder inside the repository, e.g. `l/liba`. */
  recipePath: string;
  source: string;
  version: string;
  release: number;
  isa: IsaLevel;
  /**
   * The architecture of the ISA level in the farm's profile (core/profile.ts), stamped into the packages' meta.
   * Absent in requests recorded before profiles: the builder's own architecture (x86_64 then).
   */
  architecture?: string;
  /** Build release number to stamp into the packages (1 for the first build of a source release). */
  buildRelease: number;
  /**
   * Published packages the build root needs (providers of the recipe's build dependencies and their run-time
   * closure), resolved by summit: fetched and checked by sha256, then extracted into the build's sysroot.
   * `url` is file:// or http(s)://.
   */
  dependencies?: Array<{ name: string; url: string; sha256: string }>;
  /**
   * The repository's policy (its `networking` setting): whether a recipe saying `networking: true` may have the
   * network. The builder must allow it too (SUMMIT_BUILD_NETWORK; core/build/limits.ts networkDecision).
   * Optional because requests recorded before it existed carry none; absent means no.
   */
  networkAllowed?: boolean;
  /**
   * The build's critical path (seconds, from the dispatch): a builder with a backlog (SUMMIT_BUILDER_BACKLOG) starts
   * the builds it holds longest path first. Absent in requests from before it existed: 0.
   */
  criticalPath?: number;
}

export type ArtefactKind = 'stone' | 'manifest-bin' | 'manifest-jsonc' | 'log';

export interface Artefact {
  /** File name on the builder, e.g. `liba-1.0-1-1-x86_64.stone`. */
  name: string;
  kind: ArtefactKind;
  size: number;
  sha256: string;
}

/** Output of avalanche's build activity. */
export interface BuildResult {
  buildId: BuildId;
  builderId: BuilderId;
  /** Base URL of the builder's artefact server; files are at `${baseUrl}/builds/<encoded build id>/<name>`. */
  artefactBaseUrl: string;
  /** Short-lived bearer token bound to this build, for fetching its artefacts and following its log (scope `read`). */
  artefactToken: string;
  /**
   * Short-lived bearer token bound to this build that only deletes its artefacts on the builder (scope `release`,
   * core/build/tokens.ts): vessel's, once it has them. Summit never records it. Absent from builders older than
   * scoped tokens: vessel then leaves the clean-up to the build workflow.
   */
  releaseToken?: string;
  artefacts: Artefact[];
  /** Path of the build log on the builder's host; its sealed copy is served at `${artefactBaseUrl}/logs/<encoded id>.zst`. */
  logPath: string;
  startedAt: string;
  finishedAt: string;
  /**
   * The builder's Ed25519 signature (base64) over the build id, its builder id, its artefact server and each
   * artefact's name and sha256 (core/trust/build-signature.ts). Vessel verifies it against the registry's key for
   * that builder.
   */
  signature?: string;
}

/** The non-retryable ApplicationFailure type of a recipe that does not build; details hold BuildFailureDetails. */
export const BUILD_FAILED = 'BuildFailed';

export interface BuildFailureDetails {
  buildId: BuildId;
  builderId: BuilderId;
  /** The last lines of the log (at most 64 lines / 8 KiB): enough to see the compiler error. */
  logTail: string;
  logPath: string;
  exitCode: number | null;
  step: string;
  /** Why, in one line, when the builder knows more than the step and its exit code (a limit hit, a refused output). */
  reason?: string;
}

/** Input of vessel's import activity. */
export interface ImportRequest {
  buildId: BuildId;
  /** Repository profile/index to publish into, e.g. `main` (baseline) or `main-v3x`. */
  index: string;
  architecture: string;
  build: Pick<BuildResult, 'builderId' | 'artefactBaseUrl' | 'artefactToken' | 'releaseToken' | 'artefacts' | 'signature'>;
  /**
   * Why it was built (absent: official). Vessel imports an official build only from a builder the registry holds
   * as trusted now, and any build only with a signature it verifies (activities/vessel/builder-check.ts).
   */
  purpose?: BuildPurpose;
}

export interface PublishedPackage {
  name: string;
  version: string;
  release: number;
  buildRelease: number;
  /**
   * Where the file lives relative to the repository (index) root, e.g. `pool/l/liba/liba-1.0-1-1-x86_64.stone`:
   * `<packages base URL>/<index>/<uri>` fetches it. (Inside stone.index, PackageURI is relative to the index's own
   * folder instead, `../../../pool/...`, as moss resolves it.)
   */
  uri: string;
  sha256: string;
  size: number;
}

export interface ImportResult {
  buildId: BuildId;
  index: string;
  historyId: string;
  /** Path of the published stone.index (history version) on vessel's disk. */
  indexPath: string;
  published: PublishedPackage[];
  /**
   * Vessel deleted the build's artefacts on the builder (`DELETE /builds/<id>` with the build's artefact token) once
   * they were safely staged or published: the build workflow then needs no clean-up activity. Absent or false
   * (an older vessel or builder, the builder unreachable): the workflow cleans up on the builder's own queue.
   */
  released?: boolean;
}

/** The non-retryable ApplicationFailure type of an artefact vessel refuses (hash mismatch, release rule). */
export const IMPORT_REFUSED = 'ImportRefused';

export interface ImportRefusal {
  buildId: BuildId;
  /** The artefact refused, by name. */
  file: string;
  reason: string;
}
