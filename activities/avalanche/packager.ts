import { constants } from 'node:fs';
import { lstat, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { analysePackage, isPkgconfigFile, type AnalysedFile } from '../../core/build/analysis';
import { manifestFileNames, PACKAGE_ARCHITECTURE, stoneFileName } from '../../core/build/artefact-names';
import { ElfFormatError, isElf, readElfDynamic } from '../../core/build/elf';
import { splitPackages, type SplitEntry } from '../../core/build/package-split';
import { pkgconfigRequires } from '../../core/build/pkgconfig';
import type { IsaLevel } from '../../core/contracts/queues';
import { manifestJsonc, writeManifest, type BuildManifest } from '../../core/formats/manifest';
import { formatDependency } from '../../core/formats/dependency';
import { recipeDependencies, type Recipe } from '../../core/formats/recipe';
import type { PackageMeta } from '../../core/formats/stone/meta';
import { scanInstallRoot, type RootEntry } from '../../packaging/install-root';
import { writePackageFromRoot } from '../../packaging/package-writer';

/**
 * Install root → `.stone` packages and the build manifest: split by path rules, analyse each package's
 * files for provides and depends, write one stone per package and `manifest.<isa>.bin` + `.jsonc`
 * (core/build/package-split.ts, analysis.ts and artefact-names.ts hold the rules).
 */
export interface PackInput {
  recipe: Recipe;
  /** The host folder that was %(installroot). */
  installRoot: string;
  outDir: string;
  isa: IsaLevel;
  /** The packages' Architecture (the level's architecture in the profile); default x86_64. */
  architecture?: string;
  buildRelease: number;
}

export interface PackedPackage {
  file: string;
  meta: PackageMeta;
  /** Install paths of its files and symlinks. */
  files: string[];
}

export interface PackResult {
  packages: PackedPackage[];
  manifestBin: string;
  manifestJsonc: string;
  /** Install-root entries left out of every package, with the reason (logged). */
  ignored: Array<{ path: string; reason: string }>;
}

/** The recipe built but produced nothing packable, or something no package can hold: the recipe's fault. */
export class PackagingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PackagingError';
  }
}

type Entry = SplitEntry & { root: RootEntry };

export async function packInstallRoot(input: PackInput): Promise<PackResult> {
  const { recipe } = input;
  const usr = join(input.installRoot, 'usr');
  // The install root is the container's work: read it as found, following no link (a `usr` pointing at the
  // host's / would otherwise be packed). lstat says what a name is; the scan below descends only real folders.
  const root = await lstat(input.installRoot).catch(() => undefined);
  if (!root?.isDirectory()) throw new PackagingError('%(installroot) is not a folder any more: the build replaced it');
  const usrStat = await lstat(usr).catch(() => undefined);
  if (usrStat?.isSymbolicLink()) throw new PackagingError('%(installroot)/usr is a symbolic link; it must be a folder');
  if (!usrStat?.isDirectory()) {
    throw new PackagingError('the install step put nothing below %(installroot)/usr: there is nothing to package');
  }
  const scanned = await scanInstallRoot(input.installRoot).catch((err: Error) => {
    throw new PackagingError(err.message);
  });
  const entries: Entry[] = scanned.map((e) => ({ path: `/${e.relPath}`, type: e.type, mode: e.mode, root: e }));
  const { packages, ignored } = splitPackages(recipe, entries);
  if (packages.length === 0) throw new PackagingError('no installed file below /usr falls to any package');

  const { name: sourceId, version, release, homepage, license } = recipe.source;
  const buildDepends = recipeDependencies(recipe).buildDepends.map(formatDependency);
  const packed: PackedPackage[] = [];
  const analysed: Record<string, string[]> = {};
  for (const { plan, entries: pkgEntries } of packages) {
    const files = await Promise.all(pkgEntries.map((e) => analysedFile(usr, e)));
    const analysis = analysePackage(plan, files);
    analysed[plan.name] = analysis.analysedDepends;
    const meta: PackageMeta = {
      name: plan.name, version, release, buildRelease: input.buildRelease, architecture: input.architecture ?? PACKAGE_ARCHITECTURE,
      summary: plan.summary, description: plan.description, homepage, sourceId, licenses: [...license].sort(),
      depends: analysis.depends, provides: analysis.provides, conflicts: plan.conflicts, buildDepends: [],
    };
    const file = join(input.outDir, stoneFileName(meta, input.isa));
    // Layout targets are relative to /usr: the writer's root is <installroot>/usr.
    const rootEntries = pkgEntries.map((e) => ({ ...e.root, relPath: e.root.relPath.slice('usr/'.length) }));
    await writePackageFromRoot(usr, meta, file, rootEntries);
    packed.push({ file, meta, files: pkgEntries.filter((e) => e.type !== 'directory').map((e) => e.path) });
  }

  const manifest: BuildManifest = {
    sourceName: sourceId, sourceVersion: version, sourceRelease: release, architecture: input.architecture ?? PACKAGE_ARCHITECTURE,
    packages: packed.map((p) => ({ ...p.meta, buildRelease: 0, buildDepends })),
  };
  const names = manifestFileNames(input.isa);
  const manifestBin = join(input.outDir, names.bin);
  const manifestJsoncPath = join(input.outDir, names.jsonc);
  await writeFile(manifestBin, await writeManifest(manifest));
  // The .jsonc report lists only what the analysis found, as boulder's does (README, compatibility notes).
  const report = { ...manifest, packages: manifest.packages.map((p) => ({ ...p, depends: analysed[p.name] })) };
  await writeFile(manifestJsoncPath, manifestJsonc(report, Object.fromEntries(packed.map((p) => [p.meta.name, p.files]))));
  return { packages: packed, manifestBin, manifestJsonc: manifestJsoncPath, ignored };
}

/** What the analysis needs of one file: ELF dynamic facts, pkg-config requirements. Other files are not read. */
async function analysedFile(usr: string, entry: Entry): Promise<AnalysedFile> {
  const out: AnalysedFile = { path: entry.path, type: entry.type };
  if (entry.type !== 'regular') return out;
  const host = join(usr, entry.root.relPath.slice('usr/'.length));
  if (isPkgconfigFile(entry.path)) {
    out.pkgconfigRequires = pkgconfigRequires((await readNoFollow(host)).toString('utf8'));
    return out;
  }
  if (entry.root.size >= 64 && (await startsWithElfMagic(host))) {
    try {
      out.elf = readElfDynamic(await readNoFollow(host));
    } catch (err) {
      // Not a well-formed ELF64 file (a 32-bit object, a truncated test fixture): boulder skips those too.
      if (!(err instanceof ElfFormatError)) throw err;
    }
  }
  return out;
}

/** The scan saw a regular file here; O_NOFOLLOW makes sure it is still not a link when opened. */
async function readNoFollow(path: string): Promise<Buffer> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

async function startsWithElfMagic(path: string): Promise<boolean> {
  const fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const head = Buffer.alloc(4);
    await fh.read(head, 0, 4, 0);
    return isElf(head);
  } finally {
    await fh.close();
  }
}
