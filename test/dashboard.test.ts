/**
 * The dashboard in a real browser (headless Chromium through playwright-core) on a real farm: Temporal dev
 * server, PostgreSQL, one avalanche builder in its own process with real nspawn builds. The demo recipes (liba →
 * tool → app) build and publish, `broken` fails (printing HTML into its log and reason), `slow` prints a line a
 * second for 25 s, two recipes form a run-time cycle and one recipe is not valid YAML. The test clicks through
 * every page, follows the running build's log, signs in and retries the failed build, with screenshots in
 * test-output/dashboard/. A second API process-alike (startApi) on the same database and Temporal is the one
 * browsed, configured with a Temporal UI URL so that task pages link their workflows. With
 * SUMMIT_TEST_UPDATE_SCREENSHOTS=1 the overview's screenshot also replaces README's docs/dashboard-overview.png.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFile, execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { startApi, type RunningApi } from '../api/main';
import { Farm, hookedRepository, startFarm, waitFor, type TaskView } from './helpers/farm';
import { recipeYaml } from './helpers/git-repo';
import { launchChromium, outputDir, pageProblems, screenshot } from './support/browser';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { freePort, startTemporalTestServer, TemporalTestServer } from './support/temporal';

jest.setTimeout(600_000);

const EXAMPLES = resolve(__dirname, '..', 'examples', 'recipes');
const UI = 'http://temporal-ui.invalid:8233';
const HOSTILE = '<img src=x onerror="window.__xss=1">';
const taskId = (source: string, version = '1.0.0') => `build/dash/recipes/${source}-${version}-1/x86_64`;

let temporal: TemporalTestServer;
let pg: TestDatabase;
let work: string;
let farm: Farm;
let api: RunningApi;
/** The same farm's API with SUMMIT_API_PUBLIC_READS=none: its pages open after sign-in, its log with the token. */
let closedApi: RunningApi;
let browser: Browser;
let page: Page;
let problems: string[];
let shots: string;

async function tasks(): Promise<TaskView[]> {
  return ((await (await fetch(`${api.url}/api/tasks?limit=200`)).json()) as { items: TaskView[] }).items;
}

async function statusOf(id: string): Promise<string | undefined> {
  return (await tasks()).find((t) => t.id === id)?.status;
}

function waitStatus(id: string, wanted: string, timeoutMs = 300_000): Promise<true> {
  return waitFor(`${id} to be ${wanted}`, async () => ((await statusOf(id)) === wanted ? true : undefined), timeoutMs, async () =>
    (await tasks()).map((t) => `${t.id} ${t.status} ${t.reason ?? ''}`).join('\n'));
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } }).trim();
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'summit-dashboard-'));
  shots = outputDir('dashboard');
  [temporal, pg] = await Promise.all([startTemporalTestServer(), createTestDatabase('dashboard')]);
  farm = await startFarm({ work, temporalAddress: temporal.address, databaseUrl: pg.url });
  api = await startApi({ ...farm.config, SUMMIT_API_PORT: await freePort(), SUMMIT_TEMPORAL_UI_URL: UI });
  closedApi = await startApi({ ...farm.config, SUMMIT_API_PORT: await freePort(), SUMMIT_API_PUBLIC_READS: 'none' });
  await farm.startBuilder('av1');
  const { clone } = await hookedRepository(farm, work, 'dash');

  for (const name of ['liba', 'tool', 'app']) cpSync(join(EXAMPLES, name), join(clone, name), { recursive: true });
  const write = (path: string, text: string) => {
    execFileSync('mkdir', ['-p', resolve(join(clone, path), '..')]);
    writeFileSync(join(clone, path), text);
  };
  write('broken/stone.yaml', recipeYaml({ name: 'broken', version: '1.0.0', build: `echo '${HOSTILE}'; echo 'broken on purpose' >&2; exit 3` }));
  write('slow/stone.yaml', recipeYaml({ name: 'slow', version: '1.0.0', build: 'for i in $(seq 1 25); do echo "slow line $i"; sleep 1; done; install -Dm644 /dev/null %(installroot)%(datadir)/slow/ok' }));
  write('cyc-a/stone.yaml', recipeYaml({ name: 'cyc-a', version: '1.0.0', rundeps: ['cyc-b'], build: 'install -Dm644 /dev/null %(installroot)%(datadir)/cyc-a/ok' }));
  write('cyc-b/stone.yaml', recipeYaml({ name: 'cyc-b', version: '1.0.0', rundeps: ['cyc-a'], build: 'install -Dm644 /dev/null %(installroot)%(datadir)/cyc-b/ok' }));
  write('bad/stone.yaml', 'name: [this is not yaml\n');
  git(clone, 'add', '-A');
  git(clone, 'commit', '-q', '-m', 'demo, broken, slow, a cycle, an invalid recipe');
  // Asynchronously: the hook calls the API of this very process.
  await promisify(execFile)('git', ['push', '-q', 'origin', 'main'], { cwd: clone });

  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  problems = pageProblems(page);
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await closedApi?.close();
  await farm?.stop();
  await temporal?.stop();
  await pg?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the dashboard in a browser', () => {
  it('follows the log of a running build in the page, without reloading it', async () => {
    const id = taskId('slow');
    await waitStatus(id, 'building');
    // Meanwhile the overview shows the current wave with its progress.
    const overview = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await overview.goto(`${api.url}/`);
    await overview.locator('[data-wave] progress').first().waitFor({ timeout: 30_000 });
    await expect(overview.textContent('[data-waves-list]')).resolves.toMatch(/\d+ of \d+ built/);
    await screenshot(overview, shots, 'overview-wave');
    await overview.close();
    await page.goto(`${api.url}/tasks/${encodeURIComponent(id)}`);
    await page.evaluate('window.marker = 1');
    // Lines appear while the build still runs, and more of them later, in the same page.
    await page.locator('#log', { hasText: /slow line \d+/ }).waitFor({ timeout: 60_000 });
    const seen = async () => Math.max(...[...((await page.textContent('#log')) ?? '').matchAll(/slow line (\d+)/g)].map((m) => Number(m[1])));
    const first = await seen();
    expect(await statusOf(id)).toBe('building');
    await screenshot(page, shots, 'task-live-log');
    await page.locator('#log', { hasText: new RegExp(`slow line ${first + 2}\\b`) }).waitFor({ timeout: 60_000 });
    expect(first).toBeLessThan(25);
    // Where reads are closed the same log reaches a signed-in page too, while the build runs (read with the token).
    const closed = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const closedProblems = pageProblems(closed);
    await closed.goto(`${closedApi.url}/tasks/${encodeURIComponent(id)}`);
    await closed.fill('#token', farm.adminToken);
    await closed.click('#login-form button[type="submit"]');
    await closed.locator('#log', { hasText: /slow line \d+/ }).waitFor({ timeout: 60_000 });
    const closedSeen = async () => Math.max(...[...((await closed.textContent('#log')) ?? '').matchAll(/slow line (\d+)/g)].map((m) => Number(m[1])));
    const closedFirst = await closedSeen();
    expect(closedFirst).toBeLessThan(25);
    await closed.locator('#log', { hasText: new RegExp(`slow line ${closedFirst + 2}\\b`) }).waitFor({ timeout: 60_000 });
    await screenshot(closed, shots, 'task-live-log-signed-in');
    expect(closedProblems).toEqual([]);
    await closed.close();
    // The status in the page's live region moved on by itself.
    await page.locator('[data-task-status="completed"]').waitFor({ timeout: 120_000 });
    expect(await page.evaluate('window.marker')).toBe(1);
    await screenshot(page, shots, 'task-log-complete');
  });

  it('shows the farm, its tasks, builders, repositories and packages once the demo is built', async () => {
    for (const s of ['liba', 'tool', 'app', 'slow']) await waitStatus(taskId(s), 'completed');
    await waitStatus(taskId('broken'), 'failed');

    // Overview: the queue by state, the builder's slots, the failure.
    await page.goto(`${api.url}/`);
    expect(Number(await page.textContent('[data-count="completed"]'))).toBeGreaterThanOrEqual(4);
    expect(await page.textContent('[data-count="failed"]')).toBe('1');
    expect(await page.textContent('[data-slots]')).toBe('1');
    await expect(page.textContent('#overview-live')).resolves.toContain('broken');
    // The waves section says what it found (a list, or that this API has none), not its placeholder.
    await page.locator('[data-waves-note]', { hasText: 'No wave is running.' }).waitFor();
    const overviewShot = await screenshot(page, shots, 'overview');
    // README's picture of the dashboard is this screenshot: SUMMIT_TEST_UPDATE_SCREENSHOTS=1 puts it in docs/.
    if (process.env.SUMMIT_TEST_UPDATE_SCREENSHOTS === '1') cpSync(overviewShot, resolve(__dirname, '..', 'docs', 'dashboard-overview.png'));

    // Tasks: a status filter through the form, a search, keyset pages.
    await page.click('a[href="/tasks"]');
    await page.check('input[name="status"][value="failed"]');
    await page.click('form.filters button[type="submit"]');
    await page.waitForURL(/status=failed/);
    expect(await page.$$eval('table.tasks tbody tr', (rows) => rows.map((r) => r.getAttribute('data-task')))).toEqual([taskId('broken')]);
    await screenshot(page, shots, 'tasks-failed');
    await page.goto(`${api.url}/tasks`);
    await page.fill('input[name="q"]', 'liba');
    await page.click('form.filters button[type="submit"]');
    await page.waitForURL(/q=liba/);
    expect(await page.$$eval('table.tasks tbody tr', (rows) => rows.map((r) => r.getAttribute('data-task')))).toEqual([taskId('liba')]);
    await page.goto(`${api.url}/tasks?limit=2`);
    const firstPage = await page.$$eval('table.tasks tbody tr', (rows) => rows.map((r) => r.getAttribute('data-task')));
    await page.click('a[rel="next"]');
    const secondPage = await page.$$eval('table.tasks tbody tr', (rows) => rows.map((r) => r.getAttribute('data-task')));
    expect(firstPage).toHaveLength(2);
    expect(secondPage).toHaveLength(2);
    expect(secondPage.filter((t) => firstPage.includes(t))).toEqual([]);
    await screenshot(page, shots, 'tasks-page-2');

    // A failed task: its reason and log tail as text (the HTML it printed is not markup), its Temporal workflow.
    await page.goto(`${api.url}/tasks?q=${encodeURIComponent(taskId('broken'))}`);
    await page.waitForURL(/\/tasks\/build%2F/);
    await expect(page.textContent('[data-log-tail]')).resolves.toContain(HOSTILE);
    expect(await page.$$('#task-live img')).toHaveLength(0);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    const temporalLink = await page.getAttribute('a[data-temporal]', 'href');
    expect(temporalLink).toBe(`${UI}/namespaces/default/workflows?query=${encodeURIComponent(`WorkflowId="${taskId('broken')}"`)}`);
    await page.locator('#log', { hasText: 'broken on purpose' }).waitFor();
    await screenshot(page, shots, 'task-failed');

    // A completed task links its published packages to the package page: metadata, history, builds.
    await page.goto(`${api.url}/tasks/${encodeURIComponent(taskId('liba'))}`);
    await page.click('a[href^="/packages/main/liba"]');
    await expect(page.textContent('main')).resolves.toContain('Answers to everything, as a C library');
    expect(await page.$$('table.history tbody tr')).not.toHaveLength(0);
    await screenshot(page, shots, 'package-liba');
    await page.click('a[href="/packages"]');
    await page.click('a[href="/packages/main?stream=volatile"]');
    const published = await page.$$eval('table.packages tbody tr td:first-child a', (as) => as.map((a) => a.textContent));
    expect(published).toEqual(expect.arrayContaining(['liba', 'liba-devel', 'tool', 'app', 'slow']));
    await screenshot(page, shots, 'packages-main');

    // Builders: ISA levels, slots, heartbeat.
    await page.click('a[href="/builders"]');
    await expect(page.textContent('#b-av1')).resolves.toMatch(/x86_64[\s\S]*live|live[\s\S]*x86_64/);
    await screenshot(page, shots, 'builders');

    // Repositories: the commit, the invalid recipe and why, the cycle with its bootstrap plan.
    await page.click('a[href="/repositories"]');
    await page.click('a[href="/repositories/recipes"]');
    await expect(page.textContent('table.invalid')).resolves.toContain('bad/stone.yaml');
    await expect(page.textContent('article.cycle')).resolves.toMatch(/cyc-a, cyc-b[\s\S]*Built first without/);
    await screenshot(page, shots, 'repository');
    expect(problems).toEqual([]);
  });

  it('signs in with a token and retries a failed build from its page', async () => {
    const id = taskId('broken');
    await page.goto(`${api.url}/login`);
    await page.fill('#token', 'summit_admin_not_a_real_token_at_all_0000');
    await page.click('#login-form button[type="submit"]');
    await page.locator('#login-result', { hasText: /Not signed in: 401/ }).waitFor();
    await page.fill('#token', farm.adminToken);
    await page.click('#login-form button[type="submit"]');
    await page.locator('#who', { hasText: 'signed in as admin (admin)' }).waitFor();
    expect(await page.evaluate('document.cookie')).toBe('');

    await page.goto(`${api.url}/tasks/${encodeURIComponent(id)}`);
    const attempts = (await tasks()).find((t) => t.id === id)!.attempts;
    await page.click('button[data-action="retry"]');
    await page.locator('#flash', { hasText: 'retry: done' }).waitFor();
    // The page's live region shows the retry's event and, later, the second failure, without a reload.
    await page.locator('table.events tbody tr', { hasText: /failed\s*new/ }).filter({ hasText: /retr/i }).first().waitFor({ timeout: 60_000 });
    await screenshot(page, shots, 'task-retried');
    await waitStatus(id, 'failed');
    expect((await tasks()).find((t) => t.id === id)!.attempts).toBe(attempts + 1);
    await page.locator('[data-attempts]', { hasText: new RegExp(`^${attempts + 1}$`) }).waitFor({ timeout: 60_000 });
    await page.locator('[data-task-status="failed"]').waitFor({ timeout: 60_000 });
    await screenshot(page, shots, 'task-failed-again');
    expect(problems).toEqual([]);
  });
});
