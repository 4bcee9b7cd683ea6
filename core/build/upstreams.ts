import { isSha256Hex } from '../formats/hash';
import type { ArchiveUpstream, GitUpstream, Upstream } from '../formats/recipe-types';
import { checkLocalPath, LOCAL_SOURCES_SETTING, parseSourceUrl, redactUrl, SourceUrlError, type LocalRoots } from '../security/source-url';

/**
 * How the builder turns a recipe's `upstreams:` into files, decided here without I/O:
 *
 * - archive upstreams are fetched on the host into `%(sourcedir)/<rename or URL basename>` and their sha256
 *   checked. `https://`/`http://` are downloaded, `file:///abs/path` is copied, but only from inside the folders
 *   the operator configured (SUMMIT_LOCAL_SOURCES, core/security/source-url.ts: never a host file elsewhere;
 *   files shipped in the recipe folder are at hand as %(pkgdir)). Tar archives (`.tar`, `.tar.gz`/`.tgz`, `.tar.xz`/`.txz`,
 *   `.tar.bz2`/`.tbz2`, `.tar.zst`) with `unpack` on (the default) are then unpacked into `%(workdir)` (or
 *   `%(workdir)/<unpackdir>`), dropping `stripdirs` leading directories (default 1: a tarball's top folder);
 *   other files stay in `%(sourcedir)` for the recipe to use.
 * - `git|<url>: <ref>` upstreams are cloned on the host and checked out at `ref` into `%(workdir)` (or
 *   `%(workdir)/<clonedir>`) from https, http, ssh or git URLs, or a local path or `file://` URL inside the
 *   configured folders (that works with the network off).
 * A location the rule refuses is the recipe's fault (UpstreamError), named in the refusal.
 * Nothing is fetched inside the container, which has no network.
 */
export type UpstreamPlan = ArchivePlan | GitPlan;

export interface ArchivePlan {
  kind: 'archive';
  source: { type: 'http'; url: string } | { type: 'file'; path: string };
  /** File name in %(sourcedir). */
  fileName: string;
  sha256: string;
  /** Unpack into this folder relative to %(workdir) ('' for the workdir itself), or undefined to keep as is. */
  unpackInto?: string;
  stripDirs: number;
}

export interface GitPlan {
  kind: 'git';
  url: string;
  /** Set when the URL is a local path or file:// URL (inside SUMMIT_LOCAL_SOURCES as written): its path. */
  localPath?: string;
  ref: string;
  /** Folder relative to %(workdir) ('' for the workdir itself). */
  cloneInto: string;
}

export class UpstreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamError';
  }
}

const TAR = /\.(?:tar|tar\.gz|tgz|tar\.xz|txz|tar\.bz2|tbz2|tar\.zst|tar\.zstd)$/;

export function isTarArchive(fileName: string): boolean {
  return TAR.test(fileName);
}

const NO_LOCAL_SOURCES: LocalRoots = { roots: [], setting: LOCAL_SOURCES_SETTING };

/** `local`: the folders upstreams may be read from on the builder's disk (none by default). */
export function planUpstreams(upstreams: readonly Upstream[], local: LocalRoots = NO_LOCAL_SOURCES): UpstreamPlan[] {
  const plans = upstreams.map((u) => (u.kind === 'git' ? planGit(u, local) : planArchive(u, local)));
  const names = new Set<string>();
  for (const p of plans) {
    if (p.kind !== 'archive') continue;
    if (names.has(p.fileName)) throw new UpstreamError(`two upstreams are both named "${p.fileName}": give one a rename`);
    names.add(p.fileName);
  }
  return plans;
}

/** The location rule, its refusal turned into the recipe's fault. */
function allowedLocation(url: string, kind: 'archive' | 'git', local: LocalRoots, what: string): ReturnType<typeof parseSourceUrl> {
  try {
    const location = parseSourceUrl(url, kind, what);
    if (location.kind === 'local') checkLocalPath(location.path, local, what);
    return location;
  } catch (err) {
    if (err instanceof SourceUrlError) throw new UpstreamError(err.message);
    throw err;
  }
}

function planArchive(u: ArchiveUpstream, local: LocalRoots): ArchivePlan {
  const what = `upstream ${redactUrl(u.url)}`;
  if (!isSha256Hex(u.hash.toLowerCase())) throw new UpstreamError(`${what}: hash "${u.hash}" is not a sha256 in hex`);
  const location = allowedLocation(u.url, 'archive', local, what);
  const source: ArchivePlan['source'] = location.kind === 'local' ? { type: 'file', path: location.path } : { type: 'http', url: u.url };
  const pathPart = location.kind === 'local' ? location.path : new URL(u.url).pathname;
  const fileName = u.rename ?? safeDecode(pathPart.split('/').filter(Boolean).pop() ?? '');
  if (!fileName || fileName === '.' || fileName === '..' || fileName.includes('/') || fileName.includes('\0')) {
    throw new UpstreamError(`${what}: cannot name the downloaded file "${fileName}"; add a rename`);
  }
  const unpack = u.unpack && isTarArchive(fileName);
  return {
    kind: 'archive',
    source,
    fileName,
    sha256: u.hash.toLowerCase(),
    unpackInto: unpack ? relativeInside(u.unpackDir ?? '', `${what}: unpackdir`) : undefined,
    stripDirs: u.stripDirs ?? 1,
  };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function planGit(u: GitUpstream, local: LocalRoots): GitPlan {
  const what = `git upstream ${redactUrl(u.url)}`;
  const location = allowedLocation(u.url, 'git', local, what);
  if (!u.ref) throw new UpstreamError(`${what}: no ref to check out`);
  // A ref is handed to `git checkout` after `--detach`: one starting with "-" would be read as an option.
  if (u.ref.startsWith('-')) throw new UpstreamError(`${what}: ref "${u.ref}" starts with "-"`);
  return {
    kind: 'git', url: u.url, ref: u.ref, cloneInto: relativeInside(u.cloneDir ?? '', `${what}: clonedir`),
    ...(location.kind === 'local' ? { localPath: location.path } : {}),
  };
}

/** A relative path normalised, refusing absolute paths and any that climb out with `..`. */
export function relativeInside(path: string, what: string): string {
  if (path.startsWith('/')) throw new UpstreamError(`${what}: "${path}" must be relative`);
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') throw new UpstreamError(`${what}: "${path}" may not contain ..`);
    out.push(part);
  }
  return out.join('/');
}
