import { ago, escapeHtml, html, raw, withQuery } from './html';

describe('the dashboard writes hostile text as text', () => {
  it.each([
    ['markup', '<img src=x onerror=alert(1)>', '&lt;img src=x onerror=alert(1)&gt;'],
    ['attribute quotes', `" onmouseover="x' y`, '&quot; onmouseover=&quot;x&#39; y'],
    ['entities', '&amp; &lt;', '&amp;amp; &amp;lt;'],
    ['backquotes', '`x`', '&#96;x&#96;'],
    ['plain text', 'liba-1.0.0', 'liba-1.0.0'],
  ])('escapes %s', (_what, input, expected) => {
    expect(escapeHtml(input)).toBe(expected);
    expect(html`<td title="${input}">${input}</td>`.text).toBe(`<td title="${expected}">${expected}</td>`);
  });

  it('escapes every interpolated value, in lists and nested templates, but not markup made by html or raw', () => {
    const names = ['<a>', 'b&c'];
    expect(html`<ul>${names.map((n) => html`<li>${n}</li>`)}</ul>`.text).toBe('<ul><li>&lt;a&gt;</li><li>b&amp;c</li></ul>');
    expect(html`${raw('<br>')}${'<br>'}`.text).toBe('<br>&lt;br&gt;');
    expect(html`${null}${undefined}${false}${0}`.text).toBe('0');
  });

  it('builds query strings that stay one attribute value', () => {
    expect(withQuery('/tasks', { q: '"><script>', status: undefined, limit: 2 })).toBe('/tasks?q=%22%3E%3Cscript%3E&limit=2');
    expect(html`<a href="${withQuery('/tasks', { q: 'a&b' })}">`.text).toBe('<a href="/tasks?q=a%26b">');
  });

  it('says how long ago, with the exact time in the title', () => {
    const now = Date.parse('2026-12-02T12:00:00Z');
    expect(ago('2026-12-02T11:58:00Z', now).text).toBe('<time datetime="2026-12-02T11:58:00.000Z" title="2026-12-02T11:58:00.000Z">2 min ago</time>');
    expect(ago(null, now).text).toContain('—');
  });
});
