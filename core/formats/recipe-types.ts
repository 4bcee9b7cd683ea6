/**
 * A boulder recipe (`stone.yaml`) as our code sees it, after parsing.
 *
 * Naming: camelCase TypeScript names, grouped the way boulder's own `stone_recipe::Recipe` groups them
 * (source, build, package, options), so a reader of the Rust code finds the same structure. The YAML key each
 * field comes from is given where the names differ. Defaults are filled in with boulder's values, so consumers
 * never need to know that `strip` defaults to true.
 */
export interface Recipe {
  source: RecipeSource;
  /** Root build steps and dependencies; used for every build target without its own profile. */
  build: BuildSteps;
  /** Metadata of the root package, which is named after the recipe (`source.name`). */
  package: PackageDefinition;
  options: BuildOptions;
  /** `profiles:` — per-target replacements of the build steps, e.g. `emul32` or `x86_64`. */
  profiles: Profile[];
  /** `packages:` — sub-packages, in recipe order. Names may hold macros such as `%(name)-devel`. */
  subPackages: SubPackage[];
  upstreams: Upstream[];
  tuning: TuningEntry[];
}

export interface RecipeSource {
  name: string;
  /** Exactly as written: `0.010` stays "0.010" although YAML would read the number 0.01. */
  version: string;
  /** Whole number, at least 1 (boulder refuses 0). Bumped on every change to the recipe. */
  release: number;
  homepage: string;
  /** SPDX ids; a single `license: MIT` becomes one entry. */
  license: string[];
}

/** Shell steps with `%macros`, and the dependencies needed to run them. */
export interface BuildSteps {
  setup?: string;
  build?: string;
  install?: string;
  check?: string;
  /** PGO workload. */
  workload?: string;
  environment?: string;
  /** `builddeps:` — provider strings such as `pkgconfig(zlib)`, `binary(perl)` or a package name. */
  buildDeps: string[];
  /** `checkdeps:` */
  checkDeps: string[];
}

export interface PackageDefinition {
  summary?: string;
  description?: string;
  /** `rundeps:` */
  runDeps: string[];
  /** `rundeps-exclude:` — automatic dependencies to drop. */
  runDepsExclude: string[];
  /** `provides-exclude:` — automatic provides to drop. */
  providesExclude: string[];
  paths: PathRule[];
  conflicts: string[];
}

/** One `paths:` entry: a pattern (`/usr/lib/*.so`) and, from the `{ path: kind }` form, its kind. */
export interface PathRule {
  path: string;
  kind: PathKind;
}

export const PATH_KINDS = ['any', 'exe', 'symlink', 'special'] as const;
export type PathKind = (typeof PATH_KINDS)[number];

export const TOOLCHAINS = ['llvm', 'gnu'] as const;
export type Toolchain = (typeof TOOLCHAINS)[number];

export interface BuildOptions {
  /** Default llvm. */
  toolchain: Toolchain;
  cspgo: boolean;
  samplepgo: boolean;
  /** Default true. */
  debug: boolean;
  /** Default true. */
  strip: boolean;
  networking: boolean;
  compressman: boolean;
  /** Default true. */
  lastrip: boolean;
  mold: boolean;
  /** Also build 32-bit (emul32) packages. */
  emul32: boolean;
  /** Explicit build targets; empty means "native, plus emul32 when `emul32` is set". */
  architectures: string[];
}

export interface Profile {
  /** The build target the profile applies to, e.g. `emul32`, `x86_64`. */
  target: string;
  build: BuildSteps;
}

export interface SubPackage {
  /** As written, macros unexpanded: `%(name)-devel`. */
  name: string;
  package: PackageDefinition;
}

export type Upstream = ArchiveUpstream | GitUpstream;

/** `- <url>: <sha256>` or `- <url>: { hash, rename, stripdirs, unpack, unpackdir }`. */
export interface ArchiveUpstream {
  kind: 'archive';
  url: string;
  /** sha256 of the download, as written. */
  hash: string;
  rename?: string;
  /** `stripdirs:` — leading directories to strip when unpacking (0–255). */
  stripDirs?: number;
  /** Default true. */
  unpack: boolean;
  /** `unpackdir:` */
  unpackDir?: string;
}

/** `- git|<url>: <ref>` or `- git|<url>: { ref, clonedir, staging }`. `url` is without the `git|` prefix. */
export interface GitUpstream {
  kind: 'git';
  url: string;
  /** Commit (or tag) to check out. */
  ref: string;
  /** `clonedir:` */
  cloneDir?: string;
  /** Default true. */
  staging: boolean;
}

/**
 * One `tuning:` entry. `- lto` and `- lto: true` enable a group, `- lto: false` disables it, and
 * `- lto: full` enables it with that option.
 */
export interface TuningEntry {
  key: string;
  value: boolean | string;
}
