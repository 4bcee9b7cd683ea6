import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { compareOutputs, type PackageOutput } from '../../core/build/verification';
import { IMPORT_REFUSED } from '../../core/contracts/build';
import type { CompareRequest, CompareResult } from '../../core/contracts/verification';
import { describePackage } from '../../core/formats/stone/package';
import { withStoneFile } from '../../packaging/open-stone';
import { ArtefactOrigins } from '../../core/security/artefact-origins';
import { checkBuilder, type BuilderRegistryReader } from './builder-check';
import { fetchArtefacts } from './fetch';
import { repositoryDir, type VesselLayout } from './layout';

/**
 * Vessel's part of a verification build (core/contracts/verification.ts): the original's packages are read from
 * the pool where vessel imported them, the rebuild's fetched from its builder into a scratch folder of the staging
 * area (checked against their declared sha256 as any import, never imported), both read as stones and compared
 * (core/build/verification.ts). The scratch folder is removed whatever happens.
 */
export async function compareBuildOutputs(layout: VesselLayout, req: CompareRequest, origins: ArtefactOrigins = ArtefactOrigins.ANY, registry?: BuilderRegistryReader): Promise<CompareResult> {
  const ctx = Context.current();
  const problem = origins.problem(req.rebuild.artefactBaseUrl);
  if (problem) throw ApplicationFailure.nonRetryable(`verification rebuild ${req.buildId} by builder ${req.rebuild.builderId}: ${problem}`, IMPORT_REFUSED);
  // As for an import: the rebuild's result must be signed by the builder it names, enrolled and not revoked. A
  // mismatch counts against a builder (repeated ones drain it), so a forged result must not be able to name one.
  if (registry) await checkBuilder(registry, { buildId: req.buildId, purpose: 'verification', build: req.rebuild });
  const poolRoot = repositoryDir(layout, req.index);
  const original: PackageOutput[] = [];
  for (const p of req.published) {
    const path = resolve(poolRoot, p.uri);
    // The URI comes from summit's read model; it must name a file of this repository, nothing else on vessel's disk.
    if (!path.startsWith(poolRoot + sep)) throw ApplicationFailure.nonRetryable(`published ${p.name}: "${p.uri}" is outside repository ${req.index}`, IMPORT_REFUSED);
    original.push(await withStoneFile(path, async (r) => describePackage(r)));
  }
  const scratch = join(layout.stagingDir, `verify-${randomBytes(6).toString('hex')}`);
  try {
    const stones = req.rebuild.artefacts.filter((a) => a.kind === 'stone');
    const staged = await fetchArtefacts({ buildId: req.buildId, baseUrl: req.rebuild.artefactBaseUrl, token: req.rebuild.artefactToken }, stones, scratch, {
      signal: ctx.cancellationSignal,
      onProgress: (progress) => ctx.heartbeat(progress),
    });
    const rebuild: PackageOutput[] = [];
    for (const s of staged) rebuild.push(await withStoneFile(s.path, async (r) => describePackage(r)));
    const result = compareOutputs(original, rebuild);
    ctx.log.info('verification compared', { buildId: req.buildId, builderId: req.rebuild.builderId, result: result.result, differences: result.differenceCount });
    return result;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
