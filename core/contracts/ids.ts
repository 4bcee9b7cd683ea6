/**
 * Branded ids: a BuildId cannot be passed where a BuilderId is wanted. They are plain strings at run time, so
 * they travel in Temporal payloads and URLs unchanged.
 */
declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

export type BuildId = Brand<string, 'BuildId'>;
export type BuilderId = Brand<string, 'BuilderId'>;
export type ProjectId = Brand<string, 'ProjectId'>;
export type RepositoryId = Brand<string, 'RepositoryId'>;

const SAFE = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

function part(kind: string, value: string): string {
  if (!SAFE.test(value)) throw new Error(`${kind} "${value}" may hold only letters, digits and . _ + - (and not start with one of them)`);
  return value;
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
  return `build/${part('project', k.project)}/${part('repository', k.repository)}/${part('source', k.source)}-${part('version', k.version)}-${k.release}/${part('isa', k.isa)}` as BuildId;
}

export function parseBuildId(id: string): BuildKey | undefined {
  const m = /^build\/([^/]+)\/([^/]+)\/(.+)-([^-/]+)-(\d+)\/([^/]+)$/.exec(id);
  return m ? { project: m[1], repository: m[2], source: m[3], version: m[4], release: Number(m[5]), isa: m[6] } : undefined;
}

export function builderId(value: string): BuilderId {
  return part('builder id', value) as BuilderId;
}
