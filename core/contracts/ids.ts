/**
 * Branded ids: a BuildId cannot be passed where a BuilderId is wanted. They are plain strings at run time, so
 * they travel in Temporal payloads and URLs unchanged.
 *
 * The build id is the task id: summit keeps one task per build, keyed by this one value, which is also the
 * build workflow's id. Its type is BuildId everywhere. Its field is named `taskId` where summit's read model,
 * hub and API speak of tasks (the API's documented JSON fields, and workflow payloads already in running and
 * recorded histories: Dispatch, BuildOutcome, the buildFinished signal, TaskCommand), and `buildId` where
 * avalanche and vessel speak of the build they run or import (BuildRequest, BuildResult, ImportRequest). Do not
 * rename a payload field without a workflow patch; new code picks the name of the side it is on.
 */
import { safeNameProblem } from './names';

declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type BuildId = Brand<string, 'BuildId'>;
export type BuilderId = Brand<string, 'BuilderId'>;
export type ProjectId = Brand<string, 'ProjectId'>;
export type RepositoryId = Brand<string, 'RepositoryId'>;

function part(kind: string, value: string): string {
  const problem = safeNameProblem(kind, value);
  if (problem) throw new Error(problem);
  return value;
}

function releasePart(release: number): string {
  if (!Number.isSafeInteger(release) || release < 1) throw new Error(`release ${release} must be a whole number of 1 or more`);
  return String(release);
}

export interface BuildKey {
  project: string;
  repository: string;
  source: string;
  version: string;
  release: number;
  /** Architecture or ISA level, e.g. x86_64 or x86_64-v3x. */
  isa: string;
}

/**
 * One build id per project / repository / source-version-release / ISA level. It is also the Temporal workflow
 * id of the build, so the same build can never run twice at once.
 */
export function buildId(k: BuildKey): BuildId {
  return `build/${part('project', k.project)}/${part('repository', k.repository)}/${part('source', k.source)}-${part('version', k.version)}-${releasePart(k.release)}/${part('isa', k.isa)}` as BuildId;
}

export function parseBuildId(id: string): BuildKey | undefined {
  const m = /^build\/([^/]+)\/([^/]+)\/(.+)-([^-/]+)-(\d+)\/([^/]+)$/.exec(id);
  return m ? { project: m[1], repository: m[2], source: m[3], version: m[4], release: Number(m[5]), isa: m[6] } : undefined;
}

export function builderId(value: string): BuilderId {
  return part('builder id', value) as BuilderId;
}
