import type { TaskStatus } from '../core/task/state';
import type { TaskRow } from './entities';

export interface TaskFilter {
  status?: TaskStatus[];
  repository?: string;
  source?: string;
  limit: number;
  offset: number;
  /** Keyset paging: only tasks after this one in the list's order (createdAt desc, id desc). */
  after?: TaskCursor;
}

/** Where a page of the task list ended: its last task's creation time and id. */
export interface TaskCursor {
  createdAt: Date;
  id: string;
}

/**
 * The task list's SQL (GET /api/tasks, Store.listTasks/listTasksJson/countTasks), written for both databases:
 * double-quoted identifiers, `?` placeholders (knex turns them into `$n` for PostgreSQL), row values.
 *
 * - A page reads one range of an index: `(created_at, id)` for the whole list, `(status|repository|source,
 *   created_at, id)` after a filter (db/entities.ts). The keyset condition is a row-value comparison,
 *   `("created_at", "id") < (?, ?)`, which both databases serve as a range of the same index.
 * - Several statuses read one such range per status (each at most offset + limit + 1 rows) merged by UNION ALL,
 *   instead of `status IN (…)`, which would read every matching row and sort them. The branches carry only the
 *   order's keys; the page's rows are then read by id, so the select list (the JSON of a task) is made only for
 *   the rows sent.
 * - A page asks for limit + 1 rows: the extra one says there is a next page.
 */

/** Every field of a task, in the entity's order: the list's items keep the shape of GET /api/tasks/:id's task. */
const TASK_FIELDS = [
  'id', 'project', 'repository', 'source', 'version', 'release', 'isa', 'index', 'commit', 'recipePath', 'status', 'attempts', 'builder',
  'priority', 'logPath', 'logTail', 'reason', 'supersededBy', 'published', 'createdAt', 'startedAt', 'builtAt', 'finishedAt', 'updatedAt', 'wave', 'dispatchKey',
] as const satisfies ReadonlyArray<keyof TaskRow>;
const DATE_FIELDS = new Set<string>(['createdAt', 'startedAt', 'builtAt', 'finishedAt', 'updatedAt']);
const columnOf = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const TASK_COLUMNS = TASK_FIELDS.map((f) => [f, columnOf(f)] as const);
export const TASK_COLUMNS_SQL = TASK_COLUMNS.map(([, c]) => `"${c}"`).join(', ');

export type Dialect = 'sqlite' | 'postgresql';
export type Query = [sql: string, args: unknown[]];

/** A datetime as a driver returns it (SQLite: milliseconds since the epoch; PostgreSQL: Date) as a Date. */
export function toDate(v: unknown): Date | null {
  return v === null || v === undefined ? null : v instanceof Date ? v : new Date(typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : (v as number | string));
}

/** A raw row of TASK_COLUMNS_SQL as a task: camelCase, Dates, `published` (SQLite: JSON text) as its array. */
export function taskFromRow(row: Record<string, unknown>): TaskRow {
  const task: Record<string, unknown> = {};
  for (const [field, column] of TASK_COLUMNS) {
    const v = row[column];
    if (DATE_FIELDS.has(field)) task[field] = toDate(v);
    else if (field === 'published') task[field] = typeof v === 'string' ? (JSON.parse(v) as unknown) : (v ?? null);
    else task[field] = v;
  }
  return task as TaskRow;
}

/**
 * One task as a JSON object, in SQL: what JSON.stringify of the task gives (the same keys in the same order,
 * dates as ISO 8601 in UTC with milliseconds). json_object on SQLite, json_build_object on PostgreSQL.
 */
export function taskJsonSql(dialect: Dialect): string {
  const pg = dialect === 'postgresql';
  const value = (field: string, column: string) => {
    if (DATE_FIELDS.has(field)) {
      return pg ? `to_char("${column}" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')` : `strftime('%Y-%m-%dT%H:%M:%fZ', "${column}" / 1000.0, 'unixepoch')`;
    }
    // SQLite keeps JSON columns as text: json() makes it a value again rather than a string.
    if (field === 'published' && !pg) return `json("${column}")`;
    return `"${column}"`;
  };
  const pairs = TASK_COLUMNS.map(([field, column]) => `'${field}', ${value(field, column)}`).join(', ');
  return pg ? `json_build_object(${pairs})::text` : `json_object(${pairs})`;
}

/**
 * One page of the task list with `select` as the select list (it must include "created_at" and "id", the
 * order); `after` is the cursor's creation time as the driver stores it.
 */
export function taskPageQuery(filter: TaskFilter, select: string, after: unknown): Query {
  const statuses = [...new Set(filter.status ?? [])];
  const rest: string[] = [];
  const restArgs: unknown[] = [];
  const and = (sql: string, ...args: unknown[]) => {
    rest.push(sql);
    restArgs.push(...args);
  };
  if (filter.repository) and('"repository" = ?', filter.repository);
  if (filter.source) and('"source" = ?', filter.source);
  if (filter.after) and('("created_at", "id") < (?, ?)', after, filter.after.id);
  const take = filter.limit + 1;
  const branch = (columns: string, status: string | undefined) => {
    const where = status === undefined ? rest : ['"status" = ?', ...rest];
    return `SELECT ${columns} FROM "tasks"${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY "created_at" DESC, "id" DESC`;
  };
  if (statuses.length <= 1) return [`${branch(select, statuses[0])} LIMIT ? OFFSET ?`, [...statuses, ...restArgs, take, filter.offset]];
  // SQLite takes no ORDER BY/LIMIT on a compound's members: each branch is a subquery of its own. The branches
  // and their merge carry only the order's keys (read from the filter's index alone); the select list is made
  // for the page's rows only, found again by id.
  const union = statuses.map((_, i) => `SELECT * FROM (${branch('"created_at", "id"', '?')} LIMIT ?) AS s${i}`).join(' UNION ALL ');
  const page = `SELECT "id" FROM (${union}) AS u ORDER BY "created_at" DESC, "id" DESC LIMIT ? OFFSET ?`;
  return [
    `SELECT ${select} FROM "tasks" WHERE "id" IN (${page}) ORDER BY "created_at" DESC, "id" DESC`,
    [...statuses.flatMap((s) => [s, ...restArgs, filter.offset + take]), take, filter.offset],
  ];
}

/** The count of the tasks matching the filters (paging ignored), as `n`. */
export function taskCountQuery(filter: Pick<TaskFilter, 'status' | 'repository' | 'source'>): Query {
  const where: string[] = [];
  const args: unknown[] = [];
  const and = (sql: string, ...values: unknown[]) => {
    where.push(sql);
    args.push(...values);
  };
  const statuses = [...new Set(filter.status ?? [])];
  if (statuses.length) and(`"status" IN (${statuses.map(() => '?').join(', ')})`, ...statuses);
  if (filter.repository) and('"repository" = ?', filter.repository);
  if (filter.source) and('"source" = ?', filter.source);
  return [`SELECT COUNT(*) AS "n" FROM "tasks"${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`, args];
}
