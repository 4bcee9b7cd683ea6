import { z } from 'zod';
import { TASK_STATUSES } from '../../../core/task/state';
import type { Store, TaskCursor } from '../../../db/store';
import { once, queryInt } from '../../routes/schemas';
import { pager, status, taskTable } from '../components';
import { html, raw, withQuery, type Html } from '../html';
import { live, page } from '../layout';

/**
 * The task list: filter by status (any of several) and repository, search by package (source) name or jump to a
 * build id, page by keyset cursor (newest first), as GET /api/tasks does; the list refreshes itself.
 */
const statuses = z.preprocess(
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- query values are strings or arrays of them
  (v) => (v === undefined ? undefined : [v].flat().flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter(Boolean)),
  z.array(z.enum(TASK_STATUSES)).max(TASK_STATUSES.length * 2).optional(),
);

const cursor = z.string().max(2048).transform((s, ctx): TaskCursor => {
  const decoded = decodeCursor(s);
  if (decoded) return decoded;
  ctx.addIssue({ code: 'custom', message: 'not a cursor of this page' });
  return z.NEVER;
});

export const tasksQuery = z.strictObject({
  status: statuses,
  repository: once(z.string().max(255)).optional(),
  q: once(z.string().max(1024)).optional(),
  cursor: once(cursor).optional(),
  limit: queryInt(1, 200).default(50),
});
export type TasksQuery = z.output<typeof tasksQuery>;

export function encodeCursor(c: TaskCursor): string {
  return Buffer.from(JSON.stringify([new Date(c.createdAt).getTime(), c.id])).toString('base64url');
}

function decodeCursor(s: string): TaskCursor | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(s)) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string' && v[1].length > 0 && v[1].length <= 1024) {
      return { createdAt: new Date(v[0] as number), id: v[1] };
    }
  } catch {
    // not JSON: undefined below
  }
  return undefined;
}

/** A search that names a build id goes to that task's page rather than to a list. */
export function searchTarget(q: string | undefined): string | undefined {
  return q && q.trim().startsWith('build/') ? `/tasks/${encodeURIComponent(q.trim())}` : undefined;
}

export async function tasksPage(store: Store, query: TasksQuery, url: string): Promise<Html> {
  const source = query.q?.trim() || undefined;
  const repository = query.repository || undefined;
  const [list, repositories] = await Promise.all([
    store.listTasks({ status: query.status, repository, source, limit: query.limit, offset: 0, after: query.cursor }),
    store.listRepositories(),
  ]);
  const base = { status: query.status?.join(','), repository, q: source, limit: query.limit === 50 ? undefined : query.limit };
  const next = list.next ? withQuery('/tasks', { ...base, cursor: encodeCursor(list.next) }) : undefined;
  const first = query.cursor ? withQuery('/tasks', base) : undefined;
  const chosen = new Set(query.status ?? []);
  const filters = html`<form class="filters" method="get" action="/tasks" role="search">
<fieldset><legend>status</legend>${TASK_STATUSES.map((s) => html`<label><input type="checkbox" name="status" value="${s}"${chosen.has(s) ? raw(' checked') : ''}> ${status(s)}</label>`)}</fieldset>
<label>repository <select name="repository"><option value="">any</option>${repositories.map((r) => html`<option value="${r.id}"${r.id === repository ? raw(' selected') : ''}>${r.id}</option>`)}</select></label>
<label>package or build id <input type="search" name="q" value="${source ?? ''}" placeholder="e.g. liba, or build/…"></label>
<button type="submit">Show</button> <a href="/tasks">clear</a>
</form>`;
  const body = html`<p class="summary"><strong data-total>${list.total ?? 0}</strong> task${list.total === 1 ? '' : 's'} match${list.total === 1 ? 'es' : ''}${query.cursor ? ' (a later page)' : ''}.</p>
${taskTable(list.items, { empty: 'No task matches.' })}
${pager(first, next)}`;
  return page('tasks', 'Tasks', html`${filters}${live('tasks-live', url, body, 4)}`);
}
