import { STATUS_MEANING, type TaskStatus } from '../../../core/task/state';
import type { Store } from '../../../db/store';
import { definitionList, status, taskActions } from '../components';
import { ago, duration, html, raw, seg, type Html } from '../html';
import { live, page } from '../layout';
import type { DashboardOptions } from '../options';

// Statuses whose log may still grow (or is yet to start): the page follows it.
const RUNNING = new Set(['new', 'blocked', 'queued', 'building', 'publishing']);

/**
 * One task: its record, events, the reason of a failure with the log's last lines, the live log (dashboard.js
 * follows `GET /api/tasks/:id/log?follow=1`, Server-Sent Events, and falls back to polling `?tail=`), and its
 * build workflow in the Temporal UI.
 */
export async function taskPage(store: Store, options: DashboardOptions, id: string): Promise<Html> {
  const [task, events] = await Promise.all([store.getTask(id), store.taskEvents(id)]);
  const url = `/tasks/${seg(task.id)}`;
  const built = task.startedAt && task.builtAt ? new Date(task.builtAt).getTime() - new Date(task.startedAt).getTime() : undefined;
  const temporal = temporalWorkflowUrl(options, task.id);
  const summary = html`${definitionList([
    ['status', html`<span data-task-status="${task.status}">${status(task.status)}</span> <span class="muted">${STATUS_MEANING[task.status as TaskStatus] ?? ''}</span>`],
    ['build id', html`<code>${task.id}</code>`],
    ['package', html`${task.source} ${task.version}-${task.release}`],
    ['repository', html`<a href="/repositories/${seg(task.repository)}">${task.repository}</a> <span class="muted">project ${task.project}</span>`],
    ['commit', html`<code>${task.commit}</code> <span class="muted">${task.recipePath}</span>`],
    ['ISA level, index', `${task.isa}, ${task.index}`],
    ['builder', task.builder ? html`<a href="/builders#b-${seg(task.builder)}">${task.builder}</a>` : null],
    ['attempts', html`<span data-attempts>${task.attempts}</span>`],
    ['priority', task.priority],
    ['created', ago(task.createdAt)],
    ['started', ago(task.startedAt)],
    ['build time', duration(built)],
    ['finished', ago(task.finishedAt)],
    ['superseded by', task.supersededBy ? html`<a href="/tasks/${seg(task.supersededBy)}">${task.supersededBy}</a>` : null],
    ['published', task.published?.length ? html`<ul class="plain">${task.published.map((p) => html`<li><a href="/packages/${seg(task.index)}/${seg(p.name)}">${p.name}</a> <span class="muted">${p.uri}</span></li>`)}</ul>` : null],
    ['workflow', temporal ? html`<a href="${temporal}" rel="noopener noreferrer" target="_blank" data-temporal>open in the Temporal UI</a>` : raw('<span class="muted">no Temporal UI configured (SUMMIT_TEMPORAL_UI_URL)</span>')],
  ])}
${taskActions(task)}
${task.status === 'failed' || task.status === 'cancelled' || task.reason ? html`<section class="failure"><h2>${task.status === 'failed' ? 'Why it failed' : 'Reason'}</h2><pre class="reason" data-reason>${task.reason ?? '(no reason recorded)'}</pre>
${task.logTail ? html`<h3>Last lines of the log</h3><pre class="log tail" data-log-tail>${task.logTail}</pre>` : ''}</section>` : ''}
<section><h2>Events</h2><table class="events"><thead><tr><th>when</th><th>from</th><th>to</th><th>reason</th></tr></thead>
<tbody>${events.map((e) => html`<tr><td>${ago(e.at)}</td><td>${e.from ? status(e.from) : ''}</td><td>${status(e.to)}</td><td class="reason">${e.reason ?? ''}</td></tr>`)}</tbody></table></section>`;
  const logApi = `/api/tasks/${seg(task.id)}/log`;
  return page('tasks', `${task.source} ${task.version}-${task.release} (${task.isa})`, html`${live('task-live', url, summary, 3)}
<section class="log-section"><h2>Build log</h2>
<p class="muted"><span id="log-state" data-log-state>${RUNNING.has(task.status) ? 'waiting for the log…' : 'loading…'}</span> · <a href="${logApi}">plain text</a></p>
<pre id="log" class="log" data-log="${logApi}" data-running="${RUNNING.has(task.status) ? '1' : '0'}"></pre></section>`);
}

/** The build workflow (workflow id = build id) in the Temporal UI's list, found by its id. */
export function temporalWorkflowUrl(options: DashboardOptions, id: string): string | undefined {
  if (!options.temporalUiUrl) return undefined;
  const query = `WorkflowId="${id.replace(/["\\]/g, '\\$&')}"`;
  return `${options.temporalUiUrl}/namespaces/${encodeURIComponent(options.namespace)}/workflows?query=${encodeURIComponent(query)}`;
}
