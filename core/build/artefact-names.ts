import { isSafeName, MAX_SEGMENT_LENGTH } from '../contracts/names';
import type { IsaLevel } from '../contracts/queues';

/**
 * Names of what a build leaves behind.
 *
 * Architecture vs ISA level: the stone meta's Architecture is `x86_64` for both levels, as boulder writes it
 * (its emitter stamps the host architecture, whatever the build target), because moss on an x86_64 machine
 * accepts only that. The level is a variant published to its own index (FORMATS.md §7). The file name ends
 * with the level instead of the architecture (`liba-1.0-1-1-x86_64-v3x.stone`), so both variants of a
 * package can sit side by side in one pool and a file says what it holds; for the baseline the name is
 * exactly boulder's. The manifests follow the same rule (`manifest.x86_64.bin`, `manifest.x86_64-v3x.bin`).
 */
export const PACKAGE_ARCHITECTURE = 'x86_64';

export const BUILD_LOG_NAME = 'build.log';

export function stoneFileName(pkg: { name: string; version: string; release: number; buildRelease: number }, isa: IsaLevel): string {
  return `${pkg.name}-${pkg.version}-${pkg.release}-${pkg.buildRelease}-${isa}.stone`;
}

export function manifestFileNames(isa: IsaLevel): { bin: string; jsonc: string } {
  return { bin: `manifest.${isa}.bin`, jsonc: `manifest.${isa}.jsonc` };
}

/** Artefact file names are plain names: no separators, no leading dot, so none can leave its folder. */
export function isSafeArtefactName(name: string): boolean {
  return isSafeName(name, MAX_SEGMENT_LENGTH);
}

/**
 * The folder name of a build on the builder's disk: its id URL-encoded (build ids hold `/`). Injective, so two
 * builds never share a folder; `.` and `..` are refused.
 */
export function buildDirName(buildId: string): string {
  const name = encodeURIComponent(buildId);
  if (name === '' || name === '.' || name === '..' || name.length > 255) throw new Error(`build id "${buildId}" cannot name a folder`);
  return name;
}
