import type { ImportRequest } from '../../core/contracts/build';
import { ArtefactOrigins } from '../../core/security/artefact-origins';

/** What a release needs of an import request: the build, the builder's server and the build's release token. */
export type ReleaseRequest = { buildId: string; build: Pick<ImportRequest['build'], 'artefactBaseUrl' | 'releaseToken'> & { builderId: string } };

/** A builder that does not answer the release within this long is left to the build workflow's clean-up. */
const RELEASE_TIMEOUT_MS = 10_000;

/**
 * Tell the builder that holds a build's artefacts that vessel has them safely (staged or published): `DELETE
 * /builds/<id>` on its artefact server, with the build's release token (workers/avalanche/artefact-server.ts; the
 * read token cannot delete). True when the builder removed them; false without a release token (a builder older
 * than scoped tokens: nothing is sent) or on any failure (the builder gone, the token expired), which leaves the
 * clean-up to the build workflow's activity on the builder's queue. Never throws: the packages are vessel's
 * already, so a failed release must not fail their import. Nothing is sent to a server outside `origins`
 * (SUMMIT_ARTEFACT_ORIGINS; the import refuses such a build before this, so this only guards other callers).
 */
export async function releaseArtefacts(
  req: ReleaseRequest,
  warn?: (message: string, meta: Record<string, unknown>) => void,
  origins: ArtefactOrigins = ArtefactOrigins.ANY,
): Promise<boolean> {
  if (!req.build.releaseToken) return false;
  const problem = origins.problem(req.build.artefactBaseUrl);
  if (problem) {
    warn?.('artefacts not released: the builder names a server vessel may not reach', { buildId: req.buildId, builderId: req.build.builderId, problem });
    return false;
  }
  const url = `${req.build.artefactBaseUrl.replace(/\/+$/, '')}/builds/${encodeURIComponent(req.buildId)}`;
  try {
    const res = await fetch(url, {
      method: 'DELETE', headers: { authorization: `Bearer ${req.build.releaseToken}` }, redirect: 'error', signal: AbortSignal.timeout(RELEASE_TIMEOUT_MS),
    });
    await res.body?.cancel().catch(() => undefined);
    if (res.status === 204 || res.status === 200) return true;
    warn?.('builder did not release the artefacts; the build workflow cleans up', { buildId: req.buildId, builderId: req.build.builderId, status: res.status });
  } catch (err) {
    warn?.('builder did not release the artefacts; the build workflow cleans up', { buildId: req.buildId, builderId: req.build.builderId, error: err instanceof Error ? err.message : String(err) });
  }
  return false;
}
