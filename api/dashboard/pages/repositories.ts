import type { Store } from '../../../db/store';
import type { RepositoryCyclesCache } from '../../services/repository-cycles';
import { listRepositories, repositoryDetail } from '../../services/repositories';
import { definitionList, status } from '../components';
import { ago, html, raw, seg, type Html } from '../html';
import { live, page } from '../layout';

/** Fields a repository may carry beyond the current schema (pause), shown when the API has them. */
type RepositoryExtras = { paused?: unknown; pausedAt?: unknown; pausedBy?: unknown };

function pausedOf(r: object): boolean {
  return (r as RepositoryExtras).paused === true || Boolean((r as RepositoryExtras).pausedAt);
}

export async function repositoriesPage(store: Store): Promise<Html> {
  const repos = await listRepositories({ store });
  const body = repos.length
    ? html`<table class="repositories"><thead><tr><th>repository</th><th>project</th><th>watches</th><th>commit</th><th>read</th><th>state</th><th></th></tr></thead><tbody>${repos.map(
        (r) => html`<tr><td><a href="/repositories/${seg(r.id)}">${r.id}</a><br><span class="muted">${r.url}</span></td><td>${r.project}</td><td>${r.ref}</td>
<td>${r.lastCommit ? html`<code>${r.lastCommit.slice(0, 12)}</code>` : raw('<span class="muted">not read yet</span>')}</td><td>${ago(r.lastRefreshAt)}</td>
<td>${pausedOf(r) ? status('paused') : 'active'}</td><td><a href="/tasks?repository=${seg(r.id)}">tasks</a></td></tr>`,
      )}</tbody></table>`
    : html`<p class="muted">No repository is registered (POST /api/repositories).</p>`;
  return page('repositories', 'Repositories', live('repositories-live', '/repositories', body, 5));
}

export async function repositoryPage(store: Store, cycles: RepositoryCyclesCache, id: string): Promise<Html> {
  const [repo, graph, counts] = await Promise.all([
    repositoryDetail({ store }, id),
    cycles.of(id),
    Promise.all((['new', 'building', 'failed', 'completed'] as const).map(async (s) => [s, await store.countTasks({ status: [s], repository: id })] as const)),
  ]);
  const paused = pausedOf(repo);
  const url = `/api/repositories/${seg(repo.id)}`;
  const summary = html`${definitionList([
    ['project', repo.project],
    ['URL', repo.url],
    ['watches', repo.ref],
    ['commit', repo.lastCommit ? html`<code>${repo.lastCommit}</code>` : null],
    ['last read', ago(repo.lastRefreshAt)],
    ['recipes', `${graph.recipes}${graph.unresolved ? ` (${graph.unresolved} dependencies provided outside it)` : ''}`],
    ['cascade, network', `${repo.cascade ? 'rebuilds reverse dependencies' : 'no cascade'}, ${repo.networking ? 'recipes may ask for the network' : 'no network'}`],
    ['state', paused ? status('paused') : 'active'],
    ['tasks', html`${counts.map(([s, n]) => html`<a href="/tasks?repository=${seg(repo.id)}&amp;status=${s}">${status(s)} ${n}</a> `)}`],
  ])}
<div class="admin actions">
<button type="button" data-action="refresh" data-url="${url}/refresh">Refresh now</button>
<button type="button" data-action="pause" data-url="${url}/pause" data-confirm="Pause this repository? No new builds start from it.">Pause</button>
<button type="button" data-action="resume" data-url="${url}/resume">Resume</button>
</div>
<section><h2>Invalid recipes</h2>${repo.invalidRecipes.length
    ? html`<table class="invalid"><thead><tr><th>recipe</th><th>commit</th><th>why intake could not use it</th></tr></thead><tbody>${repo.invalidRecipes.map(
        (r) => html`<tr><td><code>${r.path}</code></td><td><code>${r.commit.slice(0, 12)}</code></td><td><ul class="plain">${r.errors.map((e) => html`<li class="reason">${e}</li>`)}</ul></td></tr>`,
      )}</tbody></table>`
    : html`<p class="muted">Every recipe of the last intake is valid.</p>`}</section>
<section><h2>Dependency cycles</h2>${graph.cycles.length
    ? graph.cycles.map(
        (c, i) => html`<article class="cycle"><h3>Cycle ${i + 1}: ${c.members.length} recipes</h3>
<p>${c.members.join(', ')}</p>
<h4>Built first without</h4><ul class="plain">${c.cut.map((e) => html`<li><strong>${e.to}</strong> without the new <strong>${e.from}</strong> <span class="muted">(${e.kind} dependency ${e.via})</span></li>`)}</ul>
<h4>Stages</h4><ol>${c.stages.map((s) => html`<li>${s.join(', ')}</li>`)}</ol>
${c.rebuild.length ? html`<h4>Rebuilt after the cycle</h4><p>${c.rebuild.join(', ')}</p>` : ''}</article>`,
      )
    : html`<p class="muted">No dependency cycle among its recipes.</p>`}</section>`;
  return page('repositories', `Repository ${repo.id}`, live('repository-live', `/repositories/${seg(repo.id)}`, summary, 5));
}
