import { parseDependency } from '../formats/dependency';
import type { PackageMeta } from '../formats/stone/meta';

/**
 * Base packages (issue 9, closure): what the build root gives every build — the C library, the program
 * interpreter and the other shared libraries the builds linked against — published as a package of the repository
 * itself, so that a repository is self-contained and moss can install from it alone into an empty root.
 *
 * One base package per architecture, `build-root`, holding exactly the build-root files that the repository's own
 * packages need (their unresolved `soname(…)` and `interpreter(…)` dependencies) and what those files need in turn
 * (their DT_NEEDED). Its version is a digest of its contents, so the same build root and the same needs give the
 * same package (nothing is republished), and a changed build root (a libc update) or a new need gives a new
 * version, which replaces the old one in the next history.
 *
 * The pure half: which dependencies a build root can answer, where each file goes in the package, the meta. The
 * I/O half (finding the files, reading their ELF facts, writing the .stone) is activities/vessel/base-packages.ts.
 */

export const BASE_PACKAGE = 'build-root';
export const BASE_SOURCE_ID = 'build-root';

/** A dependency a build root may answer: a shared library by soname, or a program interpreter by path. */
export type BaseNeed = { kind: 'soname'; soname: string; machine: string } | { kind: 'interpreter'; path: string; machine: string };

/** `soname(libc.so.6(x86_64))` → { soname: libc.so.6, machine: x86_64 }; undefined for anything else. */
export function baseNeedOf(dependency: string): BaseNeed | undefined {
  const dep = parseDependency(dependency);
  if (dep.kind !== 'soname' && dep.kind !== 'interpreter') return undefined;
  const m = /^(.+)\(([A-Za-z0-9_-]+)\)$/.exec(dep.name);
  if (!m) return undefined;
  if (dep.kind === 'soname') {
    // A soname below a sub-directory of /usr/lib (`soname(foo/libx.so.1(x86_64))`) is not a library search name.
    return m[1].includes('/') ? undefined : { kind: 'soname', soname: m[1], machine: m[2] };
  }
  return m[1].startsWith('/') && !m[1].split('/').includes('..') ? { kind: 'interpreter', path: m[1], machine: m[2] } : undefined;
}

export function needText(need: BaseNeed): string {
  return need.kind === 'soname' ? `soname(${need.soname}(${need.machine}))` : `interpreter(${need.path}(${need.machine}))`;
}

/**
 * Where an interpreter named by its absolute path is installed in the package, relative to the root: moss makes
 * `/lib`, `/lib64` links to `usr/lib` in every root it creates (and packages only hold files below /usr), so
 * `/lib64/ld-linux-x86-64.so.2` and `/lib/ld-linux.so.2` are installed as `usr/lib/<name>`; a path below /usr stays.
 */
export function interpreterInstallPath(path: string): string | undefined {
  const rel = path.replace(/^\/+/, '');
  const m = /^(?:lib|lib64)\/([^/]+)$/.exec(rel);
  if (m) return `usr/lib/${m[1]}`;
  return rel.startsWith('usr/') ? rel : undefined;
}

/** Where a shared library is installed: `usr/lib/<soname>`, on the loader's default search path in a moss root. */
export function libraryInstallPath(soname: string): string {
  return `usr/lib/${soname}`;
}

/** The build-root folders searched for a soname, in the loader's order (Debian multiarch first, then the plain ones). */
export function librarySearchDirs(machine: string): string[] {
  const triplet = `${machine}-linux-gnu`;
  return [`lib/${triplet}`, `usr/lib/${triplet}`, 'lib64', 'usr/lib64', 'lib', 'usr/lib'];
}

export interface BaseFile {
  /** Where it is installed, relative to the root (`usr/lib/libc.so.6`). */
  installPath: string;
  /** sha256 of its contents (the version digest is made of these). */
  sha256: string;
}

/**
 * The base package's meta. `provides` are the needs it answers (sorted), so the closure check resolves them; the
 * version is the first 16 hex digits of a digest over its files (`digest`, computed by the caller from
 * `contentKey`).
 */
export function baseMeta(architecture: string, provides: readonly string[], digest: string): PackageMeta {
  return {
    name: BASE_PACKAGE,
    version: digest.slice(0, 16),
    release: 1,
    buildRelease: 1,
    architecture,
    summary: 'What the build root provides: C library, program interpreter and shared libraries the builds linked against',
    description: 'Files of the build root the repository\'s packages run on, packaged by vessel so that the repository is self-contained.',
    homepage: 'https://github.com/serpent-os',
    sourceId: BASE_SOURCE_ID,
    licenses: ['LGPL-2.1-or-later'],
    depends: [],
    provides: [...new Set(provides)].sort(),
    conflicts: [],
    buildDepends: [],
  };
}

/** The text whose digest is the version: every file's install path and sha256, sorted. */
export function contentKey(files: readonly BaseFile[], provides: readonly string[]): string {
  const lines = [...files].sort((a, b) => (a.installPath < b.installPath ? -1 : 1)).map((f) => `${f.installPath} ${f.sha256}`);
  return [...lines, ...[...new Set(provides)].sort()].join('\n');
}

export function isBasePackage(entry: Pick<PackageMeta, 'sourceId'>): boolean {
  return entry.sourceId === BASE_SOURCE_ID;
}
