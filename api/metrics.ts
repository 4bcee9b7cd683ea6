import type { RequestHandler } from 'express';
// prom-client: the Prometheus project's own list of Node clients names it, it is maintained (15.x, typed) and it
// brings the process metrics (event loop lag, heap, GC, handles) that would be a chore to get right by hand.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ISA_LEVELS } from '../core/contracts/queues';
import { REFUSAL_KINDS, taskOutcome } from '../core/metrics/outcomes';
import { QUEUED_STATUSES } from '../db/metrics-queries';
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
 * - the read model's `summit_tasks{status}`, `summit_builders{state}`, `summit_builder_slots` (and `_busy`,
 *   `_free`) and `summit_queue_depth{isa,status}`, queried when Prometheus scrapes. A failing query fails the
 *   scrape (GET /metrics answers 503), nothing else;
 * - `summit_build_duration_seconds{isa,outcome}`, `summit_publish_duration_seconds{outcome}` and
 *   `summit_publish_refusals_total{reason}`: each scrape first observes the tasks that ended since the last one
 *   (core/metrics/outcomes.ts), from when this API started, as counters do (a restart starts them over).
 *   The mark is the newest `finishedAt` seen, so the API's clock never decides what is missed.
 */
export class ApiMetrics {
  readonly registry = new Registry();
  private readonly duration: Histogram<'method' | 'route' | 'status'>;
  private readonly buildDuration: Histogram<'isa' | 'outcome'>;
  private readonly publishDuration: Histogram<'outcome'>;
  private readonly refusals: Counter<'reason'>;
  /** The newest finishedAt observed; tasks that end later are observed by the next scrape. */
  private mark = new Date();
  /** One observation pass at a time: two scrapes at once must not count a task twice. */
  private observing: Promise<void> = Promise.resolve();

  /** `isaLevels`: the farm profile's levels, each shown in `summit_queue_depth` even with nothing waiting. */
  constructor(private readonly store: Store, isaLevels: readonly string[] = ISA_LEVELS) {
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
    for (const state of ['busy', 'free'] as const) {
      new Gauge({
        name: `summit_builder_slots_${state}`,
        help: `Build slots of the live builders that are ${state}, as their last heartbeat said`,
        registers: [this.registry],
        async collect() {
          const live = (await store.listBuilders()).filter((b) => isLive(b.lastSeen));
          const busy = live.reduce((sum, b) => sum + Math.min(b.busy, b.slots), 0);
          this.set(state === 'busy' ? busy : live.reduce((sum, b) => sum + b.slots, 0) - busy);
        },
      });
    }
    new Gauge({
      name: 'summit_queue_depth',
      help: 'Tasks waiting for a builder, per ISA level: new (waiting for a slot or a dependency) and queued (handed to Temporal, not picked up)',
      labelNames: ['isa', 'status'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const isa of isaLevels) for (const status of QUEUED_STATUSES) this.set({ isa, status }, 0);
        for (const row of await store.metrics.queueDepth()) this.set({ isa: row.isa, status: row.status }, row.n);
      },
    });
    this.buildDuration = new Histogram({
      name: 'summit_build_duration_seconds',
      help: 'From a builder picking a build up to its artefacts being ready (outcome built) or to its failure (outcome failed)',
      labelNames: ['isa', 'outcome'],
      // Recipes build in seconds (a script) to hours (a toolchain).
      buckets: [5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14_400],
      registers: [this.registry],
    });
    this.publishDuration = new Histogram({
      name: 'summit_publish_duration_seconds',
      help: 'From a build being ready to vessel publishing it (published), refusing it (refused) or failing otherwise (failed)',
      labelNames: ['outcome'],
      buckets: [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800],
      registers: [this.registry],
    });
    this.refusals = new Counter({
      name: 'summit_publish_refusals_total',
      help: `Builds whose artefacts vessel refused, by reason (${REFUSAL_KINDS.join(', ')})`,
      labelNames: ['reason'],
      registers: [this.registry],
    });
    for (const reason of REFUSAL_KINDS) this.refusals.inc({ reason }, 0);
  }

  /** Observes the tasks that ended since the last pass (see the class comment). */
  private observeFinished(): Promise<void> {
    const pass = this.observing.then(async () => {
      for (;;) {
        const rows = await this.store.metrics.finishedSince(this.mark);
        for (const row of rows) {
          const o = taskOutcome(row);
          if (o.build) this.buildDuration.observe({ isa: row.isa, outcome: o.build.outcome }, o.build.seconds);
          if (o.publish) this.publishDuration.observe({ outcome: o.publish.outcome }, o.publish.seconds);
          if (o.refusal) this.refusals.inc({ reason: o.refusal });
          if (row.finishedAt && row.finishedAt > this.mark) this.mark = row.finishedAt;
        }
        if (rows.length < 5_000) return;
      }
    });
    this.observing = pass.catch(() => undefined);
    return pass;
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
    await this.observeFinished();
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}

function isLive(lastSeen: Date, now = Date.now()): boolean {
  return now - lastSeen.getTime() <= BUILDER_LIVE_MS;
}
