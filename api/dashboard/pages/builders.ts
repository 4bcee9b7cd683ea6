import type { Store, TaskRow } from '../../../db/store';
import { taskLink } from '../components';
import { ago, bytes, html, raw, type Html } from '../html';
import { live, page } from '../layout';
import { isLive, slotBar } from './overview';

/** Fields a builder row may carry beyond the current schema (load, memory), shown when the API has them. */
type BuilderExtras = { load?: unknown; loadAverage?: unknown; memoryFree?: unknown; memoryTotal?: unknown; diskTotal?: unknown; draining?: unknown };

/** Every builder the hub heard from: ISA levels, slots, load, memory, disk, last heartbeat, current builds. */
export async function buildersPage(store: Store): Promise<Html> {
  const [builders, running] = await Promise.all([
    store.listBuilders(),
    store.listTasks({ status: ['building'], limit: 200, offset: 0, count: false }),
  ]);
  const byBuilder = new Map<string, TaskRow[]>();
  for (const t of running.items) if (t.builder) byBuilder.set(t.builder, [...(byBuilder.get(t.builder) ?? []), t]);
  const rows = builders.map((b) => {
    const extra = b as typeof b & BuilderExtras;
    const load = extra.loadAverage ?? extra.load;
    const memory = typeof extra.memoryFree === 'number' ? `${bytes(extra.memoryFree)} free${typeof extra.memoryTotal === 'number' ? ` of ${bytes(extra.memoryTotal)}` : ''}` : undefined;
    const current = byBuilder.get(b.id) ?? [];
    const alive = isLive(b);
    return html`<tr id="b-${b.id}" class="${alive ? 'live' : 'gone'}"><td><strong>${b.id}</strong><br><span class="muted">${b.host}</span></td>
<td>${alive ? (extra.draining === true ? 'draining' : 'live') : 'gone'}</td><td>${b.isaLevels.join(', ')}</td>
<td>${slotBar(alive ? current.length : 0, b.slots)} ${alive ? current.length : 0}/${b.slots}</td>
<td>${showLoad(load)}</td>
<td>${memory ?? raw('<span class="muted">—</span>')}</td><td>${bytes(b.diskFree)}</td><td>${ago(b.lastSeen)}</td>
<td>${current.length ? html`<ul class="plain">${current.map((t) => html`<li>${taskLink(t)}</li>`)}</ul>` : raw('<span class="muted">idle</span>')}</td></tr>`;
  });
  const body = builders.length
    ? html`<table class="builders"><thead><tr><th>builder</th><th>state</th><th>ISA levels</th><th>slots busy</th><th>load</th><th>memory</th><th>disk free</th><th>last heartbeat</th><th>current builds</th></tr></thead><tbody>${rows}</tbody></table>
<p class="muted">A builder is live while its heartbeats arrive (gone after 90 s without one). Load and memory are shown when the builders report them.</p>`
    : html`<p class="muted">No builder has reported yet.</p>`;
  return page('builders', 'Builders', live('builders-live', '/builders', body, 3));
}

/** A load average as a builder may report it: one number or the three of `uptime`. */
function showLoad(load: unknown): Html | string {
  const numbers = (Array.isArray(load) ? load : [load]).filter((n): n is number => typeof n === 'number' && Number.isFinite(n));
  return numbers.length ? numbers.map((n) => n.toFixed(2)).join(' ') : raw('<span class="muted">—</span>');
}
