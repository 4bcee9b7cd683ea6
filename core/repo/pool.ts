import { isSafeName, MAX_SEGMENT_LENGTH, SAFE_NAME_CHARACTERS } from '../contracts/names';
import type { PackageMeta } from '../formats/stone/meta';

/**
 * Where a package lives in a repository (FORMATS.md §6), the way AerynOS vessel lays it out
 * (`crates/vessel/src/channel/version.rs`, `Entry::relative_path`):
 *
 *   pool/<prefix>/<source id, lower-cased>/<name>-<version>-<release>-<build release>-<arch>.stone
 *
 * where the prefix is the first letter of the lower-cased source id, or its first four letters (`lib` + the next
 * one) when it starts with `lib` and is longer than four characters: `libzip` → `libz`, but `libz` → `l`.
 * The prefix comes from the *source* id, not the package name, so all sub-packages of a recipe share a folder.
 */

/** The file name vessel gives a package, and the name avalanche must have given its artefact. */
export function stoneFileName(meta: Pick<PackageMeta, 'name' | 'version' | 'release' | 'buildRelease' | 'architecture'>): string {
  return `${meta.name}-${meta.version}-${meta.release}-${meta.buildRelease}-${meta.architecture}.stone`;
}

export function poolPrefix(sourceId: string): string {
  const id = sourceId.toLowerCase();
  return id.length > 4 && id.startsWith('lib') ? id.slice(0, 4) : id.slice(0, 1);
}

type NamedMeta = Pick<PackageMeta, 'name' | 'version' | 'release' | 'buildRelease' | 'architecture'>;

/**
 * Does an artefact's file name name this package? Boulder's exact name, or that name with an ISA level after the
 * architecture: avalanche names the x86_64-v3x variant `liba-1.0-1-1-x86_64-v3x.stone` while its meta keeps
 * Architecture `x86_64` (moss on x86_64 accepts nothing else; see core/build/artefact-names.ts).
 */
export function fileNameMatches(file: string, meta: NamedMeta): boolean {
  const exact = stoneFileName(meta);
  if (file === exact) return true;
  const stem = `${exact.slice(0, -'.stone'.length)}-`;
  return file.startsWith(stem) && file.endsWith('.stone') && /^[A-Za-z0-9]+$/.test(file.slice(stem.length, -'.stone'.length));
}

/**
 * Path of a package relative to the repository root. The file keeps the artefact's name (`file`, which must
 * satisfy fileNameMatches) — for the baseline exactly the name AerynOS vessel derives from the meta.
 */
export function poolPath(meta: NamedMeta & Pick<PackageMeta, 'sourceId'>, file: string = stoneFileName(meta)): string {
  const sourceId = meta.sourceId.toLowerCase();
  return `pool/${poolPrefix(sourceId)}/${sourceId}/${file}`;
}

/** Where the stone.index of a history version lives, relative to the repository root. */
export function historyIndexPath(historyId: string, arch: string): string {
  return `history/${historyId}/${arch}/stone.index`;
}

/**
 * The PackageURI written into a history's stone.index. moss resolves it against the index's own URL, so it climbs
 * from `history/<id>/<arch>/` back to the repository root, as the real vessel's `../../..` does.
 */
export function indexUri(poolRelativePath: string): string {
  return `../../../${poolRelativePath}`;
}

/** The inverse of indexUri: a PackageURI of one of our indexes, relative to the repository root again. */
export function repositoryPathOfUri(uri: string): string {
  return uri.startsWith('../../../') ? uri.slice('../../../'.length) : uri;
}

/**
 * A value that becomes one path segment (source id, file name, architecture): no separators, no `.`/`..`, nothing
 * a shell or URL would treat specially. Build ids and names come from builders, so they are checked, not trusted.
 */
export function isSafeSegment(value: string): boolean {
  return isSafeName(value, MAX_SEGMENT_LENGTH);
}

/** Why a package's meta cannot be placed in the pool, or undefined when it can. */
export function poolPathProblem(meta: Pick<PackageMeta, 'name' | 'version' | 'architecture' | 'sourceId'>): string | undefined {
  for (const [field, value] of [['source id', meta.sourceId], ['name', meta.name], ['version', meta.version], ['architecture', meta.architecture]] as const) {
    if (!isSafeSegment(value)) return `${field} "${value}" cannot be part of a pool path (${SAFE_NAME_CHARACTERS} only)`;
  }
  return undefined;
}
