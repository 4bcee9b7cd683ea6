import type { TaskRow } from '../../db/store';
import { ago, html, raw, seg, withQuery, type Html } from './html';

/** Small pieces several pages share: status badges, the task table, the pager, admin buttons. */

export function status(s: string): Html {
  return html`<span class="status s-${s.replace(/[^a-z]/g, '')}">${s}</span>`;
}

export function taskLink(t: Pick<TaskRow, 'id' | 'source' | 'version' | 'release' | 'isa'>): Html {
  return html`<a href="/tasks/${seg(t.id)}" title="${t.id}">${t.source}</a> <span class="muted">${t.version}-${t.release} · ${t.isa}</span>`;
}

export function taskTable(tasks: readonly TaskRow[], opts: { empty?: string } = {}): Html {
  if (tasks.length === 0) return html`<p class="muted">${opts.empty ?? 'No tasks.'}</p>`;
  return html`<table class="tasks">
<thead><tr><th>package</th><th>status</th><th>repository</th><th>builder</th><th>attempts</th><th>created</th><th>reason</th></tr></thead>
<tbody>${tasks.map(
    (t) => html`<tr data-task="${t.id}"><td>${taskLink(t)}</td><td>${status(t.status)}</td><td><a href="/repositories/${seg(t.repository)}">${t.repository}</a></td>
<td>${t.builder ? html`<a href="/builders#b-${t.builder}">${t.builder}</a>` : raw('<span class="muted">—</span>')}</td><td>${t.attempts}</td><td>${ago(t.createdAt)}</td><td class="reason">${firstLine(t.reason)}</td></tr>`,
  )}</tbody></table>`;
}

export function firstLine(text: string | null | undefined, max = 160): string {
  if (!text) return '';
  const line = text.split('\n')[0];
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/** Retry and cancel for admins (shown once signed in; dashboard.js sends them with the bearer token). */
export function taskActions(t: Pick<TaskRow, 'id' | 'status' | 'priority'>): Html {
  const retry = t.status === 'failed' || t.status === 'cancelled';
  const cancel = ['new', 'blocked', 'queued', 'building', 'publishing'].includes(t.status);
  return html`<div class="admin actions">
${retry ? html`<button type="button" data-action="retry" data-url="/api/tasks/${seg(t.id)}/retry">Retry</button>` : ''}
${cancel ? html`<button type="button" data-action="cancel" data-url="/api/tasks/${seg(t.id)}/cancel" data-confirm="Cancel this build?">Cancel</button>` : ''}
<form class="inline" data-action="priority" data-url="/api/tasks/${seg(t.id)}/priority"><label>priority <input type="number" name="priority" step="1" value="${t.priority}"></label> <button type="submit">Set</button></form>
</div>`;
}

export function pager(prev: string | undefined, next: string | undefined): Html {
  return html`<nav class="pager">${prev ? html`<a href="${prev}" rel="first">« first page</a>` : ''} ${next ? html`<a href="${next}" rel="next">next page »</a>` : ''}</nav>`;
}

export function definitionList(rows: Array<[string, Html | string | number | null | undefined]>): Html {
  return html`<dl class="fields">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v === null || v === undefined || v === '' ? raw('<span class="muted">—</span>') : v}</dd>`)}</dl>`;
}

export { withQuery };
