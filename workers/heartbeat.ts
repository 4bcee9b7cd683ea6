import type { Client } from '@temporalio/client';
import { BuilderStatus, HUB_WORKFLOW_ID, SIGNAL_BUILDER_HEARTBEAT } from '../core/contracts/hub';

/**
 * A builder tells the hub it is alive, and with what capacity, every `everyMs`. The hub forgets builders it has
 * not heard from for three periods, so their capacity stops counting (their running builds are retried
 * elsewhere by Temporal's heartbeat timeout, not by this).
 */
export function startBuilderHeartbeat(client: Client, status: () => Promise<BuilderStatus>, everyMs = 10_000, warn: (m: string) => void = console.warn): { stop(): void } {
  let failing = false;
  const beat = async (): Promise<void> => {
    try {
      await client.workflow.getHandle(HUB_WORKFLOW_ID).signal(SIGNAL_BUILDER_HEARTBEAT, await status());
      if (failing) warn('avalanche: the hub hears this builder again');
      failing = false;
    } catch (err) {
      if (!failing) warn(`avalanche: cannot reach the hub (${err instanceof Error ? err.message : String(err)}); retrying every ${everyMs / 1000} s`);
      failing = true;
    }
  };
  void beat();
  const timer = setInterval(() => void beat(), everyMs);
  return { stop: () => clearInterval(timer) };
}
