import { ago, formatTable, holdCell } from './table';

describe('formatTable', () => {
  const columns = [
    { header: 'ID', value: (r: { id: string; n: number; why?: string }) => r.id },
    { header: 'N', value: (r: { n: number }) => r.n, align: 'right' as const },
    { header: 'WHY', value: (r: { why?: string }) => r.why, max: 10 },
  ];

  it('pads every column to its widest cell, right-aligns numbers and leaves no trailing spaces', () => {
    const text = formatTable(columns, [{ id: 'zlib', n: 7 }, { id: 'binutils', n: 1234, why: 'short' }]);
    expect(text.split('\n')).toEqual([
      'ID           N  WHY',
      'zlib         7  -',
      'binutils  1234  short',
    ]);
  });

  it('cuts a long cell with an ellipsis and flattens line breaks', () => {
    const text = formatTable(columns, [{ id: 'a', n: 1, why: 'one\ntwo three four' }]);
    expect(text.split('\n')[1]).toBe('a   1  one two t…');
  });

  it('prints the header alone for no rows', () => {
    expect(formatTable(columns, [])).toBe('ID  N  WHY');
  });
});

describe('ago and holdCell', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  it.each([
    ['2026-01-01T11:59:50Z', '10s ago'],
    ['2026-01-01T11:50:00Z', '10m ago'],
    ['2026-01-01T07:00:00Z', '5h ago'],
    ['2025-12-25T12:00:00Z', '7d ago'],
  ])('%s is %s', (iso, expected) => {
    expect(ago(iso, now)).toBe(expected);
  });

  it('shows who held, and why', () => {
    expect(holdCell(null)).toBe('-');
    expect(holdCell({ by: 'admin', reason: 'upgrade', at: new Date().toISOString() })).toMatch(/^by admin \d+s ago: upgrade$/);
  });
});
