/**
 * Vessel's own check of who built what (issue 10), before anything is fetched: the build result's signature must
 * verify against the public key the builder registry holds for the builder the result names, and that builder must
 * be enrolled, not revoked and of a trust level the build's purpose allows NOW (an official build: trusted). Vessel
 * reads the registry itself (GET /api/builders/:id/standing on the API), never the builder's or the workflow's word.
 */
import type { ImportRequest } from '../../core/contracts/build';
import { signedWithoutServer, verifyBuildFacts } from '../../core/trust/build-signature';
import { importRefusal, type BuilderStanding } from '../../core/trust/standing';
import { importRefused } from './refusal';

/** Where vessel reads a builder's standing. */
export interface BuilderRegistryReader {
  standing(builderId: string): Promise<BuilderStanding>;
}

/** The registry through the API (SUMMIT_API_URL). An unreachable API is a retryable failure: the import waits for it. */
export function httpBuilderRegistry(apiUrl: string, timeoutMs = 10_000): BuilderRegistryReader {
  const base = apiUrl.replace(/\/+$/, '');
  return {
    async standing(builderId) {
      const response = await fetch(`${base}/api/builders/${encodeURIComponent(builderId)}/standing`, { signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) throw new Error(`the builder registry at ${base} answered ${response.status} for builder ${builderId}`);
      return (await response.json()) as BuilderStanding;
    },
  };
}

/** Refuses (IMPORT_REFUSED, file `(builder)`) a build whose builder may not have it imported; returns when it may. */
export async function checkBuilder(registry: BuilderRegistryReader, req: Pick<ImportRequest, 'buildId' | 'purpose' | 'build'>): Promise<void> {
  const purpose = req.purpose ?? 'official';
  const { builderId, signature, artefacts, artefactBaseUrl } = req.build;
  const refuse = (reason: string) => importRefused({ buildId: req.buildId, file: '(builder)', reason });
  const standing = await registry.standing(builderId);
  if (!standing.enrolled || !standing.publicKey) throw refuse(`builder ${builderId} is not enrolled in the builder registry; its ${purpose} build is not imported`);
  if (!signature) throw refuse(`the build result of builder ${builderId} (${standing.trust}) is not signed`);
  const facts = { buildId: req.buildId, builderId, artefactBaseUrl, artefacts };
  if (!verifyBuildFacts(standing.publicKey, facts, signature)) {
    if (signedWithoutServer(standing.publicKey, facts, signature)) {
      throw refuse(`the build result of builder ${builderId} (${standing.trust}) is signed in the format before its artefact server was signed (summit-build-result/1): its server ${artefactBaseUrl} is not vouched for; update the builder`);
    }
    throw refuse(`the build result's signature does not verify against the key registered for builder ${builderId} (${standing.trust}): not built by that builder, or altered (build id, artefact server, artefact names or digests)`);
  }
  const refusal = importRefusal(standing, purpose);
  if (refusal) throw refuse(refusal);
}
