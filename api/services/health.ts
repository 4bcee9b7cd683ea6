import type { Store } from '../../db/store';
import type { HubStatus, PipelineControl } from '../pipeline';

export interface Health {
  /** ok: everything answers; degraded: reads work but the hub does not take requests; down: no database. */
  status: 'ok' | 'degraded' | 'down';
  database: { ok: boolean; detail?: string };
  hub: HubStatus;
}

/** Long enough for a loaded database, short enough for a load balancer's probe (they commonly give up at 5 s). */
const CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(work: Promise<T>, what: string, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Both checks run at once and neither throws: a down dependency is reported, not turned into a 500. */
export async function checkHealth(store: Store, pipeline: PipelineControl, timeoutMs = CHECK_TIMEOUT_MS): Promise<Health> {
  const [database, hub] = await Promise.all([
    // The smallest table: a ping that proves the schema is there too, not only the connection.
    withTimeout(store.listBuilders(), 'the database', timeoutMs).then(
      () => ({ ok: true }),
      (err: Error) => ({ ok: false, detail: err.message }),
    ),
    withTimeout(pipeline.hubStatus(), 'Temporal', timeoutMs).catch(
      (err: Error): HubStatus => ({ ok: false, state: 'unreachable', detail: err.message }),
    ),
  ]);
  const status = !database.ok ? 'down' : hub.ok ? 'ok' : 'degraded';
  return { status, database, hub };
}
