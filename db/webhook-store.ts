import { MikroORM, UniqueConstraintViolationException } from '@mikro-orm/core';
import { WebhookDelivery, WebhookSecret } from './entities';

/** Deliveries are remembered this long; a forge retries a failed delivery within hours, not weeks. */
const DELIVERY_MEMORY_MS = 30 * 24 * 3600_000;

/**
 * Webhook secrets (sealed: the store never sees one in clear) and the deliveries already taken. The sealing is
 * the caller's (core/security/secret-box.ts), so this module holds only rows.
 */
export class WebhookStore {
  constructor(private readonly orm: MikroORM) {}

  private em() {
    return this.orm.em.fork();
  }

  async setSecret(repository: string, sealed: string, by: string): Promise<void> {
    const em = this.em();
    const row = await em.findOne(WebhookSecret, { repository });
    if (row) {
      row.sealed = sealed;
      row.createdBy = by;
    } else {
      em.create(WebhookSecret, { repository, sealed, createdBy: by });
    }
    await em.flush();
  }

  /** True when there was one to remove. */
  async removeSecret(repository: string): Promise<boolean> {
    return (await this.em().nativeDelete(WebhookSecret, { repository })) > 0;
  }

  /** The sealed secrets of these repositories (those that have one). */
  async sealedSecrets(repositories: readonly string[]): Promise<Array<{ repository: string; sealed: string }>> {
    if (repositories.length === 0) return [];
    const rows = await this.em().find(WebhookSecret, { repository: { $in: [...repositories] } });
    return rows.map((r) => ({ repository: r.repository, sealed: r.sealed }));
  }

  /**
   * Records a delivery under all its keys (its id, its body's digest) in one transaction; false when any was
   * taken before, so a replay is refused whichever key it repeats. Older rows are pruned on the way.
   */
  async recordDelivery(keys: readonly string[], now: Date = new Date()): Promise<boolean> {
    const em = this.em();
    try {
      await em.transactional(async (tx) => {
        for (const key of keys) tx.create(WebhookDelivery, { key, at: now });
        await tx.flush();
      });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) return false;
      throw err;
    }
    await this.em().nativeDelete(WebhookDelivery, { at: { $lt: new Date(now.getTime() - DELIVERY_MEMORY_MS) } });
    return true;
  }
}
