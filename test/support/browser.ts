import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';

/**
 * Headless Chromium for browser tests: Debian's `chromium` (apt, .ci/run installs it) driven by playwright-core,
 * which downloads no browser of its own. Screenshots go to `test-output/<test>/` (gitignored).
 */
export const CHROMIUM = process.env.SUMMIT_CHROMIUM ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

export function outputDir(test: string): string {
  const dir = resolve(__dirname, '..', '..', 'test-output', test);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export async function screenshot(page: Page, dir: string, name: string): Promise<string> {
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Content-Security-Policy violations (Chromium reports them as console errors starting "Refused to") and uncaught
 * exceptions of a page, so a test can say none happened. Other console errors (a 404 the page expects, such as a
 * log not written yet) are the page's business.
 */
export function pageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error' && /Refused to|Content Security Policy/i.test(m.text())) problems.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return problems;
}
