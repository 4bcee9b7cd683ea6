/**
 * The README is the users' reference: every route, `summit` command and npm script it lists exists, and every one
 * that exists is listed (issue 8). Read from the code itself: the app's router stack, the CLI's command table and
 * package.json's scripts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../api/app';
import { Auth } from '../api/auth';
import type { PipelineControl } from '../api/pipeline';
import { routesOf } from '../api/route-table';
import { COMMANDS } from '../cli/main';
import type { Store } from '../db/store';

const ROOT = join(__dirname, '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** `METHOD /path` in backquotes, as the README's API table writes each route (query strings dropped). */
function documentedRoutes(): string[] {
  return [...README.matchAll(/`(GET|POST|PUT|PATCH|DELETE) (\/[^`?\s]*)[^`]*`/g)].map((m) => `${m[1]} ${m[2]}`);
}

test('every route the API serves is in the README, and every route the README lists is served', () => {
  // Only the route table is read: the app is built, never called, so its dependencies are not needed.
  const app = createApp({ store: {} as Store, pipeline: {} as PipelineControl, auth: new Auth([]) });
  const served = new Set(routesOf(app).filter((r) => r.method !== 'HEAD').map((r) => `${r.method} ${r.path}`));
  const documented = new Set(documentedRoutes());
  expect([...served].filter((r) => !documented.has(r)).sort()).toEqual([]);
  expect([...documented].filter((r) => !served.has(r)).sort()).toEqual([]);
});

test('every summit command is in the README command table, and every command it lists exists', () => {
  const documented = new Set([...README.matchAll(/^\| `summit ([a-z]+(?: [a-z][a-z-]*)?)/gm)].map((m) => m[1]));
  const existing = new Set(Object.keys(COMMANDS));
  expect([...existing].filter((c) => !documented.has(c)).sort()).toEqual([]);
  expect([...documented].filter((c) => !existing.has(c)).sort()).toEqual([]);
});

test('every npm script meant for people is in the README, and every `npm run` it names exists', () => {
  const scripts = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts);
  // npm's own hooks and the two commands the README opens with.
  const forPeople = scripts.filter((s) => !['prepare', 'pretest', 'test', 'start'].includes(s));
  const named = new Set([...README.matchAll(/npm run ([a-z:]+)/g)].map((m) => m[1]));
  expect(forPeople.filter((s) => !named.has(s)).sort()).toEqual([]);
  expect([...named].filter((s) => !scripts.includes(s)).sort()).toEqual([]);
});
