import type { PackageMeta } from '../formats/stone/meta';
import type { PackageFile } from '../formats/stone/package';

/**
 * Verification builds (issue 10): the outputs of a published build and of its rebuild on another builder, compared
 * file by file. Pure: the caller reads each .stone (core/formats/stone/package.ts describePackage) and passes its
 * meta and layout here.
 *
 * What is compared, per package (matched by name): each layout entry's path, kind, mode, uid/gid, symlink target
 * and content digest (XXH3-128 of the bytes), and the meta fields that say what the package is (version, release,
 * dependencies, providers, licences…). What is not: a stone has no timestamps in its layout; the build release
 * is the same number on both sides by construction; `/.build-id/<hash>` paths of debug files are normalised (the
 * hash is the content's, so a difference shows in the digest of the file itself). The builder and the build
 * time are not in the compared meta fields.
 */

export interface PackageOutput {
  meta: Pick<PackageMeta, 'name'> & Partial<PackageMeta>;
  files: readonly PackageFile[];
}

/** What differs in one file (or package), in words a person reads: `digest`, `mode 0644 → 0755`, `missing in the rebuild`. */
export interface FileDifference {
  package: string;
  /** Install path (`/usr/...`), or `(meta)` for a difference in the package's metadata, `(package)` for a package on one side only. */
  path: string;
  what: string[];
}

export type VerificationVerdict = 'identical' | 'different';

export interface OutputComparison {
  result: VerificationVerdict;
  packages: number;
  files: number;
  /** The first `limit` differences, in package then path order. */
  differences: FileDifference[];
  /** How many differences there are in all (more than `differences.length` when cut at the limit). */
  differenceCount: number;
}

/** Differences kept per comparison: enough to see what went wrong, small enough for a Temporal payload and a row. */
export const DEFAULT_DIFFERENCE_LIMIT = 100;

/** Meta fields compared; the rest (build release, source ref and path, URIs, hashes, sizes) belong to where and when it was built. */
const META_FIELDS = ['version', 'release', 'architecture', 'summary', 'description', 'homepage', 'sourceId', 'licenses', 'depends', 'provides', 'conflicts', 'buildDepends'] as const;

/** `/usr/lib/debug/.build-id/ab/cdef….debug` → `/usr/lib/debug/.build-id/<id>.debug` (and its folder `…/ab` → `…/<id>`). */
export function normalisePath(path: string): string {
  return path.replace(/\/\.build-id\/[0-9a-f]{2}(?:\/[0-9a-f]+)?(?=$|[./])/g, '/.build-id/<id>');
}

function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8)}`;
}

function describeEntry(f: PackageFile): string {
  return f.type === 'symlink' ? `symlink → ${f.linkTarget ?? ''}` : f.type;
}

function fileDifferences(a: PackageFile, b: PackageFile): string[] {
  const what: string[] = [];
  if (a.type !== b.type) what.push(`kind ${describeEntry(a)} → ${describeEntry(b)}`);
  if (a.mode !== b.mode) what.push(`mode ${octal(a.mode)} → ${octal(b.mode)}`);
  if (a.uid !== b.uid || a.gid !== b.gid) what.push(`owner ${a.uid}:${a.gid} → ${b.uid}:${b.gid}`);
  if (a.type === b.type && (a.linkTarget ?? '') !== (b.linkTarget ?? '')) what.push(`link target ${a.linkTarget ?? ''} → ${b.linkTarget ?? ''}`);
  if (a.type === b.type && (a.digest ?? '') !== (b.digest ?? '')) what.push(a.size === b.size ? 'content digest' : `content digest (size ${a.size} → ${b.size})`);
  return what;
}

function metaDifferences(a: PackageOutput['meta'], b: PackageOutput['meta']): string[] {
  const what: string[] = [];
  for (const field of META_FIELDS) {
    const x = JSON.stringify(a[field] ?? null);
    const y = JSON.stringify(b[field] ?? null);
    if (x !== y) what.push(`${field} ${x} → ${y}`);
  }
  return what;
}

/**
 * Entries by normalised path. Several build-id entries normalise to one path: they are told apart as `#2`, `#3`…
 * in the order of what they hold, so two builds with the same debug files match whatever their ids.
 */
function byPath(files: readonly PackageFile[]): Map<string, PackageFile> {
  const groups = new Map<string, PackageFile[]>();
  for (const f of files) {
    const key = normalisePath(f.path);
    (groups.get(key) ?? groups.set(key, []).get(key)!).push(f);
  }
  const out = new Map<string, PackageFile>();
  for (const [key, group] of groups) {
    const sorted = group.length === 1 ? group : [...group].sort((x, y) => compareStrings(`${x.type}${x.digest ?? ''}${x.linkTarget ?? ''}`, `${y.type}${y.digest ?? ''}${y.linkTarget ?? ''}`));
    sorted.forEach((f, i) => out.set(i === 0 ? key : `${key}#${i + 1}`, f));
  }
  return out;
}

const compareStrings = (x: string, y: string): number => (x < y ? -1 : x > y ? 1 : 0);

/**
 * The original build's packages against the rebuild's: `identical` when every package has the same meta (compared
 * fields) and the same layout entries; otherwise `different` with what differs, cut at `limit` entries.
 */
export function compareOutputs(original: readonly PackageOutput[], rebuild: readonly PackageOutput[], limit = DEFAULT_DIFFERENCE_LIMIT): OutputComparison {
  const all: FileDifference[] = [];
  const left = new Map(original.map((p) => [p.meta.name, p]));
  const right = new Map(rebuild.map((p) => [p.meta.name, p]));
  let files = 0;
  for (const name of [...new Set([...left.keys(), ...right.keys()])].sort(compareStrings)) {
    const a = left.get(name);
    const b = right.get(name);
    if (!a || !b) {
      all.push({ package: name, path: '(package)', what: [a ? 'missing in the rebuild' : 'only in the rebuild'] });
      continue;
    }
    const meta = metaDifferences(a.meta, b.meta);
    if (meta.length > 0) all.push({ package: name, path: '(meta)', what: meta });
    const fa = byPath(a.files);
    const fb = byPath(b.files);
    for (const path of [...new Set([...fa.keys(), ...fb.keys()])].sort(compareStrings)) {
      files++;
      const x = fa.get(path);
      const y = fb.get(path);
      if (!x || !y) {
        all.push({ package: name, path, what: [x ? 'missing in the rebuild' : 'only in the rebuild'] });
        continue;
      }
      const what = fileDifferences(x, y);
      if (what.length > 0) all.push({ package: name, path, what });
    }
  }
  return {
    result: all.length === 0 ? 'identical' : 'different',
    packages: new Set([...left.keys(), ...right.keys()]).size,
    files,
    differences: all.slice(0, limit),
    differenceCount: all.length,
  };
}

/**
 * Deterministic sampling of a repository's policy: a build is verified when the hash of its id falls under the
 * rate (so a retried record decides the same), or always when it emits one of the listed packages.
 */
export interface VerifyPolicy {
  /** 0..1: the share of published builds rebuilt and compared. */
  sampleRate?: number;
  /** Builds emitting any of these packages (or of these sources) are always verified. */
  packages?: string[];
}

/** FNV-1a of the build id, as a fraction in [0, 1). */
export function sampleFraction(buildId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < buildId.length; i++) {
    h ^= buildId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h / 0x1_0000_0000;
}

export function policySelects(policy: VerifyPolicy | null | undefined, build: { id: string; source: string; packages: readonly string[] }): boolean {
  if (!policy) return false;
  const named = new Set(policy.packages ?? []);
  if (named.has(build.source) || build.packages.some((p) => named.has(p))) return true;
  const rate = policy.sampleRate ?? 0;
  return rate > 0 && sampleFraction(build.id) < rate;
}

/**
 * Auto-suspension: a builder whose last `threshold` verifications (newest first) all found differences is
 * suspended. Skipped or failed verifications are not evidence either way and are left out by the caller.
 */
export function mismatchStreak(verdicts: readonly VerificationVerdict[], threshold: number): boolean {
  return threshold > 0 && verdicts.length >= threshold && verdicts.slice(0, threshold).every((v) => v === 'different');
}
