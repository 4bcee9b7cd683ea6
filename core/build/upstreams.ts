import type { ArchiveUpstream, GitUpstream, Upstream } from '../formats/recipe-types';

/**
 * How the builder turns a recipe's `upstreams:` into files, decided here without I/O:
 *
 * - archive upstreams are fetched on the host into `%(sourcedir)/<rename or URL basename>` and their sha256
 *   checked. `https://`/`http://` are downloaded, `file:///abs/path` is copied (the recipe parser, like
 *   boulder, accepts only absolute URLs; files shipped in the recipe folder are at hand as %(pkgdir)). Tar archives (`.tar`, `.tar.gz`/`.tgz`, `.tar.xz`/`.txz`,
 *   `.tar.bz2`/`.tbz2`, `.tar.zst`) with `unpack` on (the default) are then unpacked into `%(workdir)` (or
 *   `%(workdir)/<unpackdir>`), dropping `stripdirs` leading directories (default 1: a tarball's top folder);
 *   other files stay in `%(sourcedir)` for the recipe to use.
 * - `git|<url>: <ref>` upstreams are cloned on the host and checked out at `ref` into `%(workdir)` (or
 *   `%(workdir)/<clonedir>`). A local path or `file://` URL works with the network off.
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

export function planUpstreams(upstreams: readonly Upstream[]): UpstreamPlan[] {
  const plans = upstreams.map((u) => (u.kind === 'git' ? planGit(u) : planArchive(u)));
  const names = new Set<string>();
  for (const p of plans) {
    if (p.kind !== 'archive') continue;
    if (names.has(p.fileName)) throw new UpstreamError(`two upstreams are both named "${p.fileName}": give one a rename`);
    names.add(p.fileName);
  }
  return plans;
}

function planArchive(u: ArchiveUpstream): ArchivePlan {
  if (!/^[0-9a-f]{64}$/i.test(u.hash)) throw new UpstreamError(`upstream ${u.url}: hash "${u.hash}" is not a sha256 in hex`);
  let source: ArchivePlan['source'];
  let pathPart: string;
  if (/^https?:\/\//i.test(u.url)) {
    source = { type: 'http', url: u.url };
    pathPart = new URL(u.url).pathname;
  } else if (u.url.startsWith('file://')) {
    const path = decodeURIComponent(new URL(u.url).pathname);
    source = { type: 'file', path };
    pathPart = path;
  } else {
    throw new UpstreamError(`upstream ${u.url}: only http(s):// and file:// URLs are supported`);
  }
  const fileName = u.rename ?? decodeURIComponent(pathPart.split('/').filter(Boolean).pop() ?? '');
  if (!fileName || fileName === '.' || fileName === '..' || fileName.includes('/')) {
    throw new UpstreamError(`upstream ${u.url}: cannot name the downloaded file "${fileName}"; add a rename`);
  }
  const unpack = u.unpack && isTarArchive(fileName);
  return {
    kind: 'archive',
    source,
    fileName,
    sha256: u.hash.toLowerCase(),
    unpackInto: unpack ? relativeInside(u.unpackDir ?? '', `upstream ${u.url}: unpackdir`) : undefined,
    stripDirs: u.stripDirs ?? 1,
  };
}

function planGit(u: GitUpstream): GitPlan {
  if (!u.ref) throw new UpstreamError(`git upstream ${u.url}: no ref to check out`);
  return { kind: 'git', url: u.url, ref: u.ref, cloneInto: relativeInside(u.cloneDir ?? '', `git upstream ${u.url}: clonedir`) };
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
