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
  const [counts, builders, failures] = await Promise.all([
    store.countTasksByStatus(),
    store.listBuilders(),
    store.listTasks({ status: ['failed'], limit: 10, offset: 0, count: false }),
  ]);
  const liveBuilders = builders.filter((b) => isLive(b));
  const slots = liveBuilders.reduce((n, b) => n + b.slots, 0);
  const busy = liveBuilders.reduce((n, b) => n + Math.min(b.busy, b.slots), 0);
  const body = html`
<section><h2>Queue</h2>
<ul class="counts">${TASK_STATUSES.map((s) => html`<li title="${STATUS_MEANING[s]}"><a href="/tasks?status=${s}">${status(s)} <strong data-count="${s}">${counts[s]}</strong></a></li>`)}</ul>
</section>
<section><h2>Builders</h2>
<p><strong data-slots-busy>${busy}</strong> of <strong data-slots>${slots}</strong> slots busy on ${liveBuilders.length} live builder${liveBuilders.length === 1 ? '' : 's'}${builders.length > liveBuilders.length ? html`, ${builders.length - liveBuilders.length} gone` : ''}.</p>
<ul class="builders">${builders.map((b) => html`<li class="${isLive(b) ? 'live' : 'gone'}"><a href="/builders#b-${seg(b.id)}">${b.id}</a> ${slotBar(isLive(b) ? b.busy : 0, b.slots)}</li>`)}</ul>
</section>
<section><h2>Recent failures</h2>${taskTable(failures.items, { empty: 'No failed builds.' })}</section>`;
  return page('overview', 'Farm overview', html`${live('overview-live', '/', body, 3)}
<section id="waves" data-waves="/api/waves?limit=20"><h2>Waves</h2><p class="muted" data-waves-note>Waves are shown when the API lists them (GET /api/waves).</p><div data-waves-list></div></section>`);
}

export function slotBar(busy: number, slots: number): Html {
  const cells = Array.from({ length: Math.max(slots, 0) }, (_, i) => (i < busy ? html`<span class="slot busy"></span>` : html`<span class="slot"></span>`));
  return html`<span class="slots" title="${busy} of ${slots} slots busy">${cells}</span>`;
}
