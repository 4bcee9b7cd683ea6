import { join } from 'node:path';
import { buildDirName } from '../../core/build/artefact-names';

/**
 * A builder's disk, below its data dir:
 *
 * ```
 * avalanche/artefact-secret          HMAC key of the artefact tokens (0600)
 * avalanche/clones/<url hash>/       a kept bare clone per recipe repository URL (kept-clones.ts)
 * avalanche/packages/<sha256>.stone  dependency packages kept by content hash (package-cache.ts)
 * avalanche/work/<build>/            one build's scratch space, removed by cleanupBuild
 *   checkout/<recipe path>/          the recipe's folder at the build's commit (only that folder)
 *   mason/                           bound read-write at /mason in the container (core/build/layout.ts)
 * avalanche/artefacts/<build>/       the files served over HTTP, removed by cleanupBuild
 * avalanche/logs/<build>.log         the build log; kept after clean-up so a failure can still be read
 * ```
 * `<build>` is the build id URL-encoded (build ids hold `/`).
 */
export interface BuildPaths {
  work: string;
  checkout: string;
  mason: string;
  artefacts: string;
  log: string;
}

export function avalancheRoot(dataDir: string): string {
  return join(dataDir, 'avalanche');
}

export function secretPath(dataDir: string): string {
  return join(avalancheRoot(dataDir), 'artefact-secret');
}

export function packageCacheRoot(dataDir: string): string {
  return join(avalancheRoot(dataDir), 'packages');
}

export function artefactsDir(dataDir: string, buildId: string): string {
  return join(avalancheRoot(dataDir), 'artefacts', buildDirName(buildId));
}

export function buildPaths(dataDir: string, buildId: string): BuildPaths {
  const root = avalancheRoot(dataDir);
  const dir = buildDirName(buildId);
  const work = join(root, 'work', dir);
  return {
    work,
    checkout: join(work, 'checkout'),
    mason: join(work, 'mason'),
    artefacts: artefactsDir(dataDir, buildId),
    log: join(root, 'logs', `${dir}.log`),
  };
}
