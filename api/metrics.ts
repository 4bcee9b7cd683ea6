import type { RequestHandler } from 'express';
// prom-client: the Prometheus project's own list of Node clients names it, it is maintained (15.x, typed) and it
// brings the process metrics (event loop lag, heap, GC, handles) that would be a chore to get right by hand.
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Store } from '../db/store';

/** A builder whose last heartbeat is older than this is counted as gone. */
export const BUILDER_LIVE_MS = 90_000;

/** Methods counted under their own name; anything else Node's parser accepts is `other`, so the label stays small. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * The API's Prometheus metrics, one registry per app (no global state, so two apps in one process, as in the
 * tests, do not share counts):
 * - the API process's default metrics, prefixed `summit_api_`;
 * - `summit_http_request_duration_seconds{method,route,status}`, where `route` is the declared express path
 *   (`/api/tasks/:id`), never the raw URL: a label per URL would let any client grow the registry without
 *   bound. Requests no route answered (404, a 405 from the method guard, a refusal at the edge) are `unmatched`;
 * - the read model's `summit_tasks{status}`, `summit_builders{state}` and `summit_builder_slots`, queried when
 *   Prometheus scrapes. A failing query fails the scrape (GET /metrics answers 503), nothing else.
 */
export class ApiMetrics {
  readonly registry = new Registry();
  private readonly duration: Histogram<'method' | 'route' | 'status'>;

  constructor(store: Store) {
    collectDefaultMetrics({ register: this.registry, prefix: 'summit_api_' });
    this.duration = new Histogram({
      name: 'summit_http_request_duration_seconds',
      help: 'Time from the request reaching express to the response being handed to the socket, by declared route',
      labelNames: ['method', 'route', 'status'],
      // The API answers reads from indexes in milliseconds; the tail is a slow database or a streamed log.
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    new Gauge({
      name: 'summit_tasks',
      help: 'Tasks in the read model by status',
      labelNames: ['status'],
      registers: [this.registry],
      async collect() {
        for (const [status, n] of Object.entries(await store.countTasksByStatus())) this.set({ status }, n);
      },
    });
    new Gauge({
      name: 'summit_builders',
      help: `Builders the hub has heard from: live when seen within the last ${BUILDER_LIVE_MS / 1000} s, gone otherwise`,
      labelNames: ['state'],
      registers: [this.registry],
      async collect() {
        const builders = await store.listBuilders();
        const live = builders.filter((b) => isLive(b.lastSeen)).length;
        this.set({ state: 'live' }, live);
        this.set({ state: 'gone' }, builders.length - live);
      },
    });
    new Gauge({
      name: 'summit_builder_slots',
      help: 'Build slots of the live builders, summed',
      registers: [this.registry],
      async collect() {
        const builders = await store.listBuilders();
        this.set(builders.filter((b) => isLive(b.lastSeen)).reduce((sum, b) => sum + b.slots, 0));
      },
    });
  }

  /** Times every request; wired right after the request id so that even a request refused at the edge counts. */
  readonly observe: RequestHandler = (req, res, next) => {
    const end = this.duration.startTimer();
    res.on('finish', () => {
      // Set by the router when a route answered; it stays on the request after the handler returns.
      const path: unknown = (req.route as { path?: unknown } | undefined)?.path;
      end({
        method: KNOWN_METHODS.has(req.method) ? req.method : 'other',
        route: typeof path === 'string' ? path : 'unmatched',
        status: String(res.statusCode),
      });
    });
    next();
  };

  /** The exposition text; rejects when a read model query fails. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}

function isLive(lastSeen: Date, now = Date.now()): boolean {
  return now - lastSeen.getTime() <= BUILDER_LIVE_MS;
}
