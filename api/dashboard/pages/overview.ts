import { TASK_STATUSES, STATUS_MEANING } from '../../../core/task/state';
import type { BuilderRow, Store } from '../../../db/store';
import { status, taskTable } from '../components';
import { html, seg, type Html } from '../html';
import { live, page } from '../layout';

/** A builder heard from within this long counts as live (the hub's own builder timeout is 90 s). */
export const BUILDER_LIVE_MS = 90_000;

export function isLive(b: Pick<BuilderRow, 'lastSeen'>, now = Date.now()): boolean {
  return now - new Date(b.lastSeen).getTime() <= BUILDER_LIVE_MS;
}

/** The farm at a glance: the queue by state, builders busy and free, current waves, recent failures. */
export async function overviewPage(store: Store): Promise<Html> {
  const [counts, builders, failures, running] = await Promise.all([
    store.countTasksByStatus(),
    store.listBuilders(),
    store.listTasks({ status: ['failed'], limit: 10, offset: 0, count: false }),
    store.listTasks({ status: ['building'], limit: 200, offset: 0, count: false }),
  ]);
  const busyOf = busyCounter(running.items);
  const liveBuilders = builders.filter((b) => isLive(b));
  const slots = liveBuilders.reduce((n, b) => n + b.slots, 0);
  const busy = liveBuilders.reduce((n, b) => n + Math.min(busyOf(b.id), b.slots), 0);
  const body = html`
<section><h2>Queue</h2>
<ul class="counts">${TASK_STATUSES.map((s) => html`<li title="${STATUS_MEANING[s]}"><a href="/tasks?status=${s}">${status(s)} <strong data-count="${s}">${counts[s]}</strong></a></li>`)}</ul>
</section>
<section><h2>Builders</h2>
<p><strong data-slots-busy>${busy}</strong> of <strong data-slots>${slots}</strong> slots busy on ${liveBuilders.length} live builder${liveBuilders.length === 1 ? '' : 's'}${builders.length > liveBuilders.length ? html`, ${builders.length - liveBuilders.length} gone` : ''}.</p>
<ul class="builders">${builders.map((b) => html`<li class="${isLive(b) ? 'live' : 'gone'}"><a href="/builders#b-${seg(b.id)}">${b.id}</a> ${slotBar(isLive(b) ? busyOf(b.id) : 0, b.slots)}</li>`)}</ul>
</section>
<section><h2>Recent failures</h2>${taskTable(failures.items, { empty: 'No failed builds.' })}</section>`;
  return page('overview', 'Farm overview', html`${live('overview-live', '/', body, 3)}
<section id="waves" data-waves="/api/waves?limit=20"><h2>Waves</h2><p class="muted" data-waves-note>Reading the waves…</p><div data-waves-list></div></section>`);
}

export function slotBar(busy: number, slots: number): Html {
  const cells = Array.from({ length: Math.max(slots, 0) }, (_, i) => (i < busy ? html`<span class="slot busy"></span>` : html`<span class="slot"></span>`));
  return html`<span class="slots" title="${busy} of ${slots} slots busy">${cells}</span>`;
}

/**
 * Slots busy on each builder: its `building` tasks (recorded when it picks a build up, so exact), rather than the
 * busy count of its last heartbeat, which the hub records a round later.
 */
export function busyCounter(building: ReadonlyArray<{ builder?: string | null }>): (builder: string) => number {
  const counts = new Map<string, number>();
  for (const t of building) if (t.builder) counts.set(t.builder, (counts.get(t.builder) ?? 0) + 1);
  return (builder) => counts.get(builder) ?? 0;
}
