/**
 * Aligned text tables for the admin commands: a header row, then one row per item, columns padded to their
 * widest cell (numbers right-aligned), two spaces between columns, no trailing spaces. Cells longer than a
 * column's `max` are cut with an ellipsis so one long reason does not push every other column off the screen.
 */
export interface Column<T> {
  header: string;
  value: (row: T) => string | number | null | undefined;
  align?: 'left' | 'right';
  /** Longest cell shown (characters); longer ones end in `…`. */
  max?: number;
}

function cell(v: string | number | null | undefined, max: number | undefined): string {
  const text = v === null || v === undefined || v === '' ? '-' : String(v).replace(/\s+/g, ' ');
  return max !== undefined && text.length > max ? `${text.slice(0, Math.max(1, max - 1))}…` : text;
}

export function formatTable<T>(columns: ReadonlyArray<Column<T>>, rows: readonly T[]): string {
  const cells = rows.map((r) => columns.map((c) => cell(c.value(r), c.max)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i].length)));
  const line = (values: string[]) =>
    values.map((v, i) => (columns[i].align === 'right' ? v.padStart(widths[i]) : i === values.length - 1 ? v : v.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

/** How long ago `iso` was, for people: `12s`, `5m`, `3h`, `2d` ago; `-` for none. */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const s = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (s < 90) return `${s}s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)}m ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

/** A hold as one cell: `by alice 5m ago: reason`, or `-`. */
export function holdCell(h: { by: string; reason: string | null; at: string } | null | undefined): string {
  return h ? `by ${h.by} ${ago(h.at)}${h.reason ? `: ${h.reason}` : ''}` : '-';
}
