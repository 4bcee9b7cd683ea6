import { posix } from 'node:path';

/**
 * The one rule for every location summit or a builder fetches from: recipe upstreams, the builder's checkout of
 * a recipe repository, and repository URLs registered through the API.
 *
 * Allowed: network schemes (https, http; for git also ssh://, git:// and the scp-like `user@host:path`) and
 * local paths, but a local path only when it lies inside a folder the operator configured (checked here on the
 * path as written, and again on its real path by the caller, which can read the disk). Refused: every other
 * scheme (`ftp:`, `ext::`/`fd::` and other git remote helpers), anything git could read as an option (a leading
 * `-`, also as an ssh host or user), control characters, and credentials inside the URL (they would be stored,
 * logged and shown: use an SSH key or a credential helper on the host instead).
 */

export type SourceKind = 'archive' | 'git';

export type SourceLocation =
  | { kind: 'network'; scheme: 'https' | 'http' | 'ssh' | 'git'; url: string }
  | { kind: 'local'; path: string };

/** Where local paths may be read from, and the setting that configures it (named in refusals). */
export interface LocalRoots {
  roots: readonly string[];
  setting: string;
}

export class SourceUrlError extends Error {
  override readonly name = 'SourceUrlError';
}

const NETWORK_SCHEMES: Record<SourceKind, readonly string[]> = {
  archive: ['https', 'http'],
  git: ['https', 'http', 'ssh', 'git'],
};

/** `scheme://`: what git and WHATWG both take as a URL with a scheme. */
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;
/** `transport::address`: git's remote-helper syntax (ext::, fd::, and any git-remote-<name> on the PATH). */
const REMOTE_HELPER = /^([A-Za-z0-9][A-Za-z0-9+.-]*)::/;
/** git's scp-like syntax: `[user@]host:path`, a colon before any slash. */
const SCP_LIKE = /^(?:([^@/]+)@)?([^@/:[\]]+|\[[^\]]+\]):(.*)$/;

/**
 * Classify `url` (what: how the refusal names it, e.g. `upstream https://…`), or throw a SourceUrlError saying
 * why it is refused. Local paths come back for the caller to check with {@link checkLocalPath}.
 */
export function parseSourceUrl(url: string, kind: SourceKind, what: string): SourceLocation {
  if (url.length === 0) throw new SourceUrlError(`${what}: empty location`);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(url)) throw new SourceUrlError(`${what}: control characters are not allowed in a location`);
  if (url.startsWith('-')) throw new SourceUrlError(`${what}: starts with "-", which git and other tools would read as an option`);
  const allowed = NETWORK_SCHEMES[kind];
  const schemes = `${allowed.map((s) => `${s}://`).join(', ')}${kind === 'git' ? ' or user@host:path' : ''}`;

  const helper = REMOTE_HELPER.exec(url);
  if (helper) throw new SourceUrlError(`${what}: git remote helpers ("${helper[1]}::") are not allowed; use ${schemes}`);

  const scheme = SCHEME.exec(url)?.[1].toLowerCase();
  if (scheme === 'file') return { kind: 'local', path: fileUrlPath(url, what) };
  if (scheme !== undefined) {
    if (!allowed.includes(scheme)) throw new SourceUrlError(`${what}: the scheme "${scheme}:" is not allowed; use ${schemes}`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new SourceUrlError(`${what}: not a valid URL`);
    }
    if (!parsed.hostname) throw new SourceUrlError(`${what}: no host`);
    if (parsed.hostname.startsWith('-')) throw new SourceUrlError(`${what}: the host starts with "-", which ssh would read as an option`);
    if (parsed.username.startsWith('-')) throw new SourceUrlError(`${what}: the user starts with "-", which ssh would read as an option`);
    refuseCredentials(scheme, parsed.username, parsed.password, what);
    return { kind: 'network', scheme: scheme as 'https' | 'http' | 'ssh' | 'git', url };
  }

  if (url.startsWith('/')) {
    if (kind === 'archive') throw new SourceUrlError(`${what}: a plain path is not a URL; use ${schemes} (or file:// inside a configured folder)`);
    return { kind: 'local', path: posix.normalize(url) };
  }
  const scp = kind === 'git' ? SCP_LIKE.exec(url) : null;
  if (scp) {
    const [, user, host] = scp;
    if (host.startsWith('-') || user?.startsWith('-')) throw new SourceUrlError(`${what}: the host or user starts with "-", which ssh would read as an option`);
    if (user?.includes(':')) throw new SourceUrlError(`${what}: ${CREDENTIALS}`);
    return { kind: 'network', scheme: 'ssh', url };
  }
  throw new SourceUrlError(`${what}: not an absolute URL or path; use ${schemes}`);
}

const CREDENTIALS = 'credentials in the URL are not allowed (they would be stored and shown); use an SSH key or a git credential helper on the host';

function refuseCredentials(scheme: string, user: string, password: string, what: string): void {
  // ssh://git@host names an account whose key the host holds; over http(s) a lone user name is usually a token.
  if (password || (user && scheme !== 'ssh')) throw new SourceUrlError(`${what}: ${CREDENTIALS}`);
}

function fileUrlPath(url: string, what: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SourceUrlError(`${what}: not a valid file:// URL`);
  }
  if (parsed.hostname && parsed.hostname !== 'localhost') throw new SourceUrlError(`${what}: a file:// URL must not name a host`);
  let path: string;
  try {
    path = decodeURIComponent(parsed.pathname);
  } catch {
    throw new SourceUrlError(`${what}: bad percent-encoding in the path`);
  }
  if (path.includes('\0')) throw new SourceUrlError(`${what}: NUL in the path`);
  return posix.normalize(path);
}

/** True when `path` is `root` or below it (both absolute and normalised; no I/O, no symlinks followed). */
export function isInside(path: string, root: string): boolean {
  const r = posix.normalize(root).replace(/\/+$/, '') || '/';
  const p = posix.normalize(path);
  return r === '/' ? p.startsWith('/') : p === r || p.startsWith(`${r}/`);
}

/**
 * A local path is allowed only inside one of the configured folders. Callers check the path as written here,
 * then its real path (symlinks resolved) against the real roots the same way.
 */
export function checkLocalPath(path: string, local: LocalRoots, what: string): void {
  if (!posix.isAbsolute(path)) throw new SourceUrlError(`${what}: a local path must be absolute`);
  if (local.roots.length === 0) {
    throw new SourceUrlError(`${what}: local paths are not allowed here (no folder is configured in ${local.setting}); use a network URL`);
  }
  if (!local.roots.some((root) => isInside(path, root))) {
    throw new SourceUrlError(`${what}: ${path} is outside the folders configured in ${local.setting}`);
  }
}

/**
 * The URL as it may be logged or shown: user information replaced, except an ssh user name without a password
 * (`ssh://git@host`), which names an account, not a secret (the same line as {@link parseSourceUrl}).
 */
export function redactUrl(url: string): string {
  const scheme = SCHEME.exec(url);
  if (!scheme) return url;
  const rest = url.slice(scheme[0].length);
  const at = rest.search(/[/?#]/);
  const authority = at === -1 ? rest : rest.slice(0, at);
  const i = authority.lastIndexOf('@');
  if (i === -1) return url;
  if (scheme[1].toLowerCase() === 'ssh' && !authority.slice(0, i).includes(':')) return url;
  return `${scheme[0]}***@${authority.slice(i + 1)}${at === -1 ? '' : rest.slice(at)}`;
}

/**
 * The transports every git call may use: the network ones, and `file` (which also covers plain paths) only
 * when the location itself was a local path the rule allowed. Set as GIT_ALLOW_PROTOCOL, which overrides
 * `protocol.*.allow` and also binds submodules and http redirects.
 */
export function gitAllowProtocol(allowLocal: boolean): string {
  return ['https', 'http', 'ssh', 'git', ...(allowLocal ? ['file'] : [])].join(':');
}

/** What a builder allows itself to fetch, from its configuration (core/config.ts). */
export interface SourcePolicy {
  /** SUMMIT_LOCAL_SOURCES: folders upstreams may come from by local path or file://. */
  localSources: readonly string[];
  /** SUMMIT_REPOSITORY_ROOTS: folders recipe repositories may be cloned from by local path. */
  repositoryRoots: readonly string[];
  /** SUMMIT_MAX_UPSTREAM_SIZE in bytes. */
  maxUpstreamBytes: number;
  /** SUMMIT_UPSTREAM_TIMEOUT: connect and idle timeout of a download, in ms. */
  upstreamTimeoutMs: number;
}

export const LOCAL_SOURCES_SETTING = 'SUMMIT_LOCAL_SOURCES';
export const REPOSITORY_ROOTS_SETTING = 'SUMMIT_REPOSITORY_ROOTS';
