import { generateKeyPairSync } from 'node:crypto';
import type { TrustLevel } from '../../core/contracts/trust';
import { builderRegistryOf } from '../../db/builder-registry-store';
import type { Store } from '../../db/store';

/**
 * Enrols builders straight in the registry, as `POST /api/builders/enrol` would (a one-time token issued and spent,
 * a fresh Ed25519 public key): for tests whose builders are simulated (heartbeats or planning input only), so that
 * planning, which counts only enrolled builders (issue 10), gives them work.
 */
export async function enrolBuilders(store: Store, ids: readonly string[], trust: TrustLevel = 'trusted'): Promise<void> {
  const registry = builderRegistryOf(store);
  for (const id of ids) {
    const { token } = await registry.issue(trust, new Date(Date.now() + 3_600_000), 'test');
    const { publicKey } = generateKeyPairSync('ed25519');
    await registry.enrol(token, id, publicKey.export({ type: 'spki', format: 'der' }).toString('base64'));
  }
}
