/**
 * The dashboard where reads are closed (SUMMIT_API_PUBLIC_READS=none, and `summary`), in headless Chromium on a
 * real farm (Temporal dev server, PostgreSQL, the hub; no builder, so the demo's tasks wait in the queue): a page
 * asked for without a token is a sign-in prompt, not an error; signed in, the page, its live refreshes (htmx), its
 * own reads (waves) and its admin actions carry the tab's token; a token that stops working sends the reader
 * back to the prompt. Screenshots in test-output/dashboard-closed-reads/.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { execFile, execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { startApi, type RunningApi } from '../api/main';
import { Farm, hookedRepository, startFarm, waitFor, type TaskView } from './helpers/farm';
import { launchChromium, outputDir, pageProblems, screenshot } from './support/browser';
import { createTestDatabase, TestDatabase } from './support/postgres';
import { freePort, startTemporalTestServer, TemporalTestServer } from './support/temporal';

jest.setTimeout(300_000);

const EXAMPLES = resolve(__dirname, '..', 'examples', 'recipes');
const liba = 'build/closed/recipes/liba-1.0.0-1/x86_64';

let temporal: TemporalTestServer;
let pg: TestDatabase;
let work: string;
let farm: Farm;
let closed: RunningApi;
let summary: RunningApi;
let browser: Browser;
let shots: string;
let viewer: string;
let admin: string;

async function token(role: string, name: string): Promise<string> {
  const res = await fetch(`${farm.api.url}/api/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${farm.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name, role }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { token: string }).token;
}

async function newPage(): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  return { page, problems: pageProblems(page) };
}

async function signIn(page: Page, secret: string): Promise<void> {
  await page.fill('#token', secret);
  await page.click('#login-form button[type="submit"]');
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'summit-dashboard-closed-'));
  shots = outputDir('dashboard-closed-reads');
  [temporal, pg] = await Promise.all([startTemporalTestServer(), createTestDatabase('dashboard_closed')]);
  farm = await startFarm({ work, temporalAddress: temporal.address, databaseUrl: pg.url });
  [closed, summary] = await Promise.all([
    startApi({ ...farm.config, SUMMIT_API_PORT: await freePort(), SUMMIT_API_PUBLIC_READS: 'none' }),
    startApi({ ...farm.config, SUMMIT_API_PORT: await freePort(), SUMMIT_API_PUBLIC_READS: 'summary' }),
  ]);
  const { clone } = await hookedRepository(farm, work, 'closed');
  for (const name of ['liba', 'tool', 'app']) cpSync(join(EXAMPLES, name), join(clone, name), { recursive: true });
  execFileSync('git', ['add', '-A'], { cwd: clone });
  execFileSync('git', ['commit', '-q', '-m', 'the demo'], { cwd: clone });
  await promisify(execFile)('git', ['push', '-q', 'origin', 'main'], { cwd: clone });
  await waitFor('the demo tasks', async () => {
    const items = ((await (await fetch(`${farm.api.url}/api/tasks`)).json()) as { items: TaskView[] }).items;
    return items.length >= 3 ? true : undefined;
  }, 120_000);
  [viewer, admin] = await Promise.all([token('viewer', 'vera'), token('admin', 'ada')]);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await closed?.close();
  await summary?.close();
  await farm?.stop();
  await temporal?.stop();
  await pg?.drop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('SUMMIT_API_PUBLIC_READS=none', () => {
  it('answers a page without a token with the sign-in prompt, and JSON clients with the 401 as before', async () => {
    const api = await fetch(`${closed.url}/`, { headers: { accept: 'application/json' } });
    expect(api.status).toBe(401);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    const { page, problems } = await newPage();
    const res = await page.goto(`${closed.url}/`);
    expect(res?.status()).toBe(401);
    await page.locator('[data-gate] #login-form').waitFor();
    expect(await page.$$('[data-count]')).toHaveLength(0);
    await screenshot(page, shots, 'sign-in-prompt');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows the page once signed in, refreshes it with the token, and opens every page navigated to', async () => {
    const { page, problems } = await newPage();
    await page.goto(`${closed.url}/`);
    await signIn(page, viewer);
    await page.locator('[data-count="queued"], [data-count="new"]').first().waitFor({ timeout: 30_000 });
    await page.locator('#who', { hasText: 'signed in as vera (viewer)' }).waitFor();
    const total = await page.$$eval('[data-count]', (els) => els.reduce((n, e) => n + Number(e.textContent), 0));
    expect(total).toBeGreaterThanOrEqual(3);
    // The live region's next refresh carries the token and is answered.
    const refresh = await page.waitForResponse((r) => new URL(r.url()).pathname === '/' && r.request().headers()['hx-request'] === 'true', { timeout: 30_000 });
    expect([refresh.status(), refresh.request().headers().authorization]).toEqual([200, `Bearer ${viewer}`]);
    // The script's own read of the waves carries it too.
    await page.waitForFunction("document.querySelector('[data-waves-note]').textContent !== 'Reading the waves…'", undefined, { timeout: 30_000 });
    expect(await page.textContent('[data-waves-note]')).not.toContain('could not be read');
    expect(await page.evaluate('document.cookie')).toBe('');
    await screenshot(page, shots, 'overview-signed-in');

    // A link is a plain navigation (no header): its prompt opens by itself with the tab's token.
    await page.click('a[href="/tasks"]');
    await page.locator('table.tasks tbody tr').first().waitFor({ timeout: 30_000 });
    expect(await page.$$eval('table.tasks tbody tr', (rows) => rows.map((r) => r.getAttribute('data-task')))).toEqual(expect.arrayContaining([liba]));
    await page.goto(`${closed.url}/tasks/${encodeURIComponent(liba)}`);
    await page.locator('[data-task-status]').waitFor({ timeout: 30_000 });
    await screenshot(page, shots, 'task-signed-in');
    // A viewer's admin action is refused by the API, and the page says so.
    await page.fill('form[data-action="priority"] input[name="priority"]', '5');
    await page.click('form[data-action="priority"] button[type="submit"]');
    await page.locator('#flash', { hasText: /priority refused: 403/ }).waitFor();
    expect(problems).toEqual([]);
    await page.close();
  });

  it("carries an admin's token on admin actions", async () => {
    const { page, problems } = await newPage();
    await page.goto(`${closed.url}/tasks/${encodeURIComponent(liba)}`);
    await signIn(page, admin);
    await page.locator('[data-task-status]').waitFor({ timeout: 30_000 });
    await page.fill('form[data-action="priority"] input[name="priority"]', '7');
    await page.click('form[data-action="priority"] button[type="submit"]');
    await page.locator('#flash', { hasText: 'priority: done' }).waitFor();
    const task = (await (await fetch(`${farm.api.url}/api/tasks/${encodeURIComponent(liba)}`)).json()) as { task: TaskView & { priority: number } };
    expect(task.task.priority).toBe(7);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('sends the reader back to the prompt when the tab’s token stops working', async () => {
    const doomed = await token('viewer', 'temp');
    const { page } = await newPage();
    await page.goto(`${closed.url}/`);
    await signIn(page, doomed);
    await page.locator('[data-count]').first().waitFor({ timeout: 30_000 });
    const self = (await (await fetch(`${closed.url}/api/tokens/self`, { headers: { authorization: `Bearer ${doomed}` } })).json()) as { id: string };
    const revoked = await fetch(`${farm.api.url}/api/tokens/${self.id}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${farm.adminToken}` } });
    expect(revoked.status).toBe(200);
    await page.goto(`${closed.url}/builders`);
    await page.locator('#gate-state', { hasText: /was refused \(the token "temp" was revoked/ }).waitFor({ timeout: 30_000 });
    await page.locator('#who', { hasText: 'not signed in' }).waitFor();
    await page.close();
  });
});

describe('SUMMIT_API_PUBLIC_READS=summary', () => {
  it('shows the overview to anybody and a task page (detail: its log) after sign-in', async () => {
    const { page, problems } = await newPage();
    const res = await page.goto(`${summary.url}/`);
    expect(res?.status()).toBe(200);
    await page.locator('[data-count]').first().waitFor();
    const gated = await page.goto(`${summary.url}/tasks/${encodeURIComponent(liba)}`);
    expect(gated?.status()).toBe(401);
    const streamed = page.waitForRequest((r) => r.url().includes('/log?follow=1'), { timeout: 30_000 });
    await signIn(page, viewer);
    await page.locator('[data-task-status]').waitFor({ timeout: 30_000 });
    // Its log stream is read with the token (EventSource cannot send one): it is open, waiting for the build.
    expect((await streamed).headers().authorization).toBe(`Bearer ${viewer}`);
    await page.locator('#log-state', { hasText: 'following the build live' }).waitFor({ timeout: 30_000 });
    await screenshot(page, shots, 'summary-task-signed-in');
    expect(problems).toEqual([]);
    await page.close();
  });
});
