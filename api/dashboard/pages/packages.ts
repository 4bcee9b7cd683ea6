import { z } from 'zod';
import type { IndexEntry } from '../../../core/formats/repo-index';
import { historyIds, VOLATILE } from '../../../core/repo/history';
import { NotFoundError, type Store } from '../../../db/store';
import type { PublishedIndexes } from '../../services/published';
import { once } from '../../routes/schemas';
import { definitionList, taskTable } from '../components';
import { bytes, html, raw, seg, withQuery, type Html } from '../html';
import { page } from '../layout';

/** The published repositories: each index's streams, a stream's packages, one package's metadata and history. */

export const streamQuery = z.strictObject({
  stream: once(z.string().min(1).max(255)).optional(),
  q: once(z.string().max(255)).optional(),
});

/** A page of one stream lists at most this many packages (a filter narrows it). */
const SHOWN = 500;

export async function packagesIndexPage(published: PublishedIndexes): Promise<Html> {
  const sections = await Promise.all(
    published.indexes.map(async (index) => {
      const root = await published.root(index);
      if (!root) return html`<section><h2>${index}</h2><p class="muted">Nothing published yet.</p></section>`;
      const pointers = [...Object.entries(root.streams).map(([n, p]) => ['stream', n, p.history] as const), ...Object.entries(root.tags).map(([n, p]) => ['tag', n, p.history] as const)];
      return html`<section><h2>${index}</h2><p>${historyIds(root).length} history versions.</p>
<table><thead><tr><th>stream or tag</th><th>history</th><th></th></tr></thead><tbody>${pointers.map(
        ([kind, name, history]) => html`<tr><td>${name} <span class="muted">${kind}</span></td><td>${history}</td><td><a href="${withQuery(`/packages/${seg(index)}`, { stream: name })}">packages</a></td></tr>`,
      )}</tbody></table></section>`;
    }),
  );
  return page('packages', 'Published packages', html`${sections}`);
}

export async function streamPage(published: PublishedIndexes, index: string, query: z.output<typeof streamQuery>): Promise<Html> {
  const stream = query.stream ?? VOLATILE;
  const root = await published.root(index);
  const history = await published.streamHistory(index, stream);
  if (root && !history) throw new NotFoundError('stream', `${index}/${stream}`);
  const filter = query.q?.trim().toLowerCase();
  const rows: Array<{ arch: string; entry: IndexEntry }> = [];
  for (const [arch, entries] of Object.entries(history?.arches ?? {})) for (const entry of entries) if (!filter || entry.name.toLowerCase().includes(filter)) rows.push({ arch, entry });
  const streams = root ? [...Object.keys(root.streams), ...Object.keys(root.tags)] : [];
  const form = html`<form class="filters" method="get" action="/packages/${seg(index)}">
<label>stream <select name="stream">${streams.map((s) => html`<option value="${s}"${s === stream ? raw(' selected') : ''}>${s}</option>`)}</select></label>
<label>name contains <input type="search" name="q" value="${query.q ?? ''}"></label> <button type="submit">Show</button></form>`;
  const table = rows.length
    ? html`<table class="packages"><thead><tr><th>package</th><th>version</th><th>source</th><th>summary</th><th>size</th></tr></thead><tbody>${rows.slice(0, SHOWN).map(
        ({ arch, entry }) => html`<tr><td><a href="${withQuery(`/packages/${seg(index)}/${seg(entry.name)}`, { stream })}">${entry.name}</a> <span class="muted">${arch}</span></td>
<td>${entry.version}-${entry.release}-${entry.buildRelease}</td><td>${entry.sourceId}</td><td>${entry.summary}</td><td>${bytes(entry.size)}</td></tr>`,
      )}</tbody></table>${rows.length > SHOWN ? html`<p class="muted">${rows.length - SHOWN} more: narrow the filter.</p>` : ''}`
    : html`<p class="muted">${root ? 'No package matches.' : 'Nothing published yet.'}</p>`;
  return page('packages', `${index} · ${stream}`, html`${form}<p>${history ? html`History ${history.id}: ${rows.length} package${rows.length === 1 ? '' : 's'}${filter ? ' matching' : ''}.` : ''}</p>${table}`);
}

export async function packagePage(store: Store, published: PublishedIndexes, index: string, name: string, query: z.output<typeof streamQuery>): Promise<Html> {
  const stream = query.stream ?? VOLATILE;
  const current = await published.streamHistory(index, stream);
  const found = Object.entries(current?.arches ?? {}).flatMap(([arch, entries]) => entries.filter((e) => e.name === name).map((entry) => ({ arch, entry })));
  const versions = await published.packageHistory(index, name);
  if (found.length === 0 && versions.length === 0) throw new NotFoundError('package', `${index}/${name}`);
  const meta = found[0]?.entry ?? versions[0].entry;
  const builds = await store.listTasks({ source: meta.sourceId, limit: 10, offset: 0, count: false });
  const body = html`${found.length ? '' : html`<p class="muted">Not in ${stream} now; its last published version is shown.</p>`}
${definitionList([
    ['name', meta.name],
    ['version', `${meta.version}-${meta.release} (build ${meta.buildRelease})`],
    ['summary', meta.summary],
    ['description', meta.description],
    ['homepage', meta.homepage],
    ['source', meta.sourceId],
    ['architecture', meta.architecture],
    ['licenses', meta.licenses.join(', ')],
    ['depends', list(meta.depends)],
    ['provides', list(meta.provides)],
    ['conflicts', list(meta.conflicts)],
    ['build depends', list(meta.buildDepends)],
    ['file', html`<code>${meta.uri ?? ''}</code> ${bytes(meta.size)}`],
    ['sha256', html`<code>${meta.hash ?? ''}</code>`],
  ])}
<section><h2>History</h2><table class="history"><thead><tr><th>history</th><th>architecture</th><th>version</th><th>sha256</th></tr></thead><tbody>${versions.map(
    (v) => html`<tr><td>${v.history}</td><td>${v.arch}</td><td>${v.entry.version}-${v.entry.release}-${v.entry.buildRelease}</td><td><code>${(v.entry.hash ?? '').slice(0, 16)}</code></td></tr>`,
  )}</tbody></table><p class="muted">The newest 20 history versions of ${index}.</p></section>
<section><h2>Builds of ${meta.sourceId}</h2>${taskTable(builds.items, { empty: 'No build of this source is recorded here.' })}</section>`;
  return page('packages', `${meta.name} in ${index}`, body);
}

function list(items: readonly string[]): Html | null {
  return items.length ? html`<ul class="plain">${items.map((i) => html`<li><code>${i}</code></li>`)}</ul>` : null;
}
