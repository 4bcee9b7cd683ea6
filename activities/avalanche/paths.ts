import { join } from 'node:path';
import { buildDirName } from '../../core/build/artefact-names';

/**
 * A builder's disk, below its data dir:
 *
 * ```
 * avalanche/artefact-secret          HMAC key of the artefact tokens (0600)
 * avalanche/work/<build>/            one build's scratch space, removed by cleanupBuild
 *   checkout/                        the recipe repository at the build's commit
 *   mason/                           bound read-write at /mason in the container (core/build/layout.ts)
 *   downloads/                       dependency packages as fetched
 * avalanche/artefacts/<build>/       the files served over HTTP, removed by cleanupBuild
 * avalanche/logs/<build>.log         the build log; kept after clean-up so a failure can still be read
 * ```
 * `<build>` is the build id URL-encoded (build ids hold `/`).
 */
export interface BuildPaths {
  work: string;
  checkout: string;
  mason: string;
  downloads: string;
  artefacts: string;
  log: string;
}

export function avalancheRoot(dataDir: string): string {
  return join(dataDir, 'avalanche');
}

export function secretPath(dataDir: string): string {
  return join(avalancheRoot(dataDir), 'artefact-secret');
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
    downloads: join(work, 'downloads'),
    artefacts: artefactsDir(dataDir, buildId),
    log: join(root, 'logs', `${dir}.log`),
  };
}
