import { join } from 'node:path';
import type { BuildRequest } from '../../core/contracts/build';
import { extractPackage } from '../../packaging/extract';
import { withStoneFile } from '../../packaging/open-stone';
import type { BuildLog } from './build-log';
import { fetchSourceOf } from './fetch';
import type { PackageCache } from './package-cache';

/**
 * The build's dependencies: already-published packages, taken from this builder's package cache (fetched and
 * verified on the host the first time, their sha256 checked again at every use: package-cache.ts) and extracted
 * into `<mason>/deps` (the container's /mason/deps/usr/...). The build root itself stays read-only and untouched;
 * the step scripts point CPATH, LIBRARY_PATH, LD_LIBRARY_PATH, PKG_CONFIG_PATH and PATH there
 * (core/build/step-script.ts). Each package's content checksum and every file's hash are checked on extraction.
 * Their URLs come from summit (SUMMIT_PACKAGES_URL), not from the recipe, so the upstream location rule does not
 * apply; the download's idle timeout does (fetch.ts).
 */
export type BuildDependency = NonNullable<BuildRequest['dependencies']>[number];

export async function installDependencies(deps: readonly BuildDependency[], cache: PackageCache, mason: string, log: BuildLog, signal?: AbortSignal): Promise<void> {
  if (deps.length === 0) return;
  const sysroot = join(mason, 'deps');
  for (const dep of deps) {
    const source = fetchSourceOf(dep.url);
    await log.marker(`dependency ${dep.name} from ${dep.url}`);
    const result = await cache.with(source, dep.sha256, `dependency ${dep.name} (${dep.url})`, log, signal,
      (file) => withStoneFile(file, (reader) => extractPackage(reader, sysroot)));
    await log.write(`    ${result.files} files, ${result.symlinks} symlinks, ${result.directories} directories\n`);
  }
}
