/**
 * Vessel releasing a build's artefacts on the builder itself (activities/vessel/release.ts), on a real artefact
 * server and real files: only the build's own release token may delete them (its read token may not, and a release
 * token reads nothing); what goes is the artefacts and the scratch
 * space, the log stays; a release that cannot happen says so (the build workflow then cleans up).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { artefactsDir, buildPaths } from '../activities/avalanche/paths';
import { releaseArtefacts } from '../activities/vessel/release';
import { signArtefactToken } from '../core/build/tokens';
import { startArtefactServer, type ArtefactServer } from '../workers/avalanche/artefact-server';

const BUILD = 'build/p/r/released-1.0-1/x86_64';
const OTHER = 'build/p/r/other-1.0-1/x86_64';
const secret = randomBytes(32);
const expiry = () => Math.floor(Date.now() / 1000) + 3600;
/** The build's release token (vessel's). */
const tokenOf = (id: string) => signArtefactToken(secret, id, expiry(), 'release').token;
/** The build's read token (summit keeps it to follow the log; vessel fetches with it). */
const readTokenOf = (id: string) => signArtefactToken(secret, id, expiry()).token;
let dir: string;
let server: ArtefactServer;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'summit-release-'));
  server = await startArtefactServer({ dataDir: dir, secret, port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A finished build's files on the builder's disk, as the build activity leaves them. */
function leaveBuild(id: string): { stone: string; work: string; log: string } {
  const paths = buildPaths(dir, id);
  const stone = join(artefactsDir(dir, id), 'released-1.0-1-1-x86_64.stone');
  mkdirSync(dirname(stone), { recursive: true });
  writeFileSync(stone, 'stone bytes');
  mkdirSync(paths.work, { recursive: true });
  writeFileSync(join(paths.work, 'left-over'), 'x');
  mkdirSync(dirname(paths.log), { recursive: true });
  writeFileSync(paths.log, 'the log\n');
  return { stone, work: paths.work, log: paths.log };
}

const requestFor = (id: string, token: string | undefined, url = base) => ({ buildId: id, build: { builderId: 'b1', artefactBaseUrl: url, ...(token ? { releaseToken: token } : {}) } });

describe('vessel releasing a build on its builder', () => {
  it('refuses a delete without the build\'s own token and keeps the files', async () => {
    const files = leaveBuild(BUILD);
    const url = `${base}/builds/${encodeURIComponent(BUILD)}`;
    expect((await fetch(url, { method: 'DELETE' })).status).toBe(401);
    expect((await fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${tokenOf(OTHER)}` } })).status).toBe(403);
    expect(await releaseArtefacts(requestFor(BUILD, tokenOf(OTHER)))).toBe(false);
    // The read token, which summit stores, follows the build but cannot destroy its artefacts.
    const read = await fetch(url, { method: 'DELETE', headers: { authorization: `Bearer ${readTokenOf(BUILD)}` } });
    expect(read.status).toBe(403);
    expect(await read.text()).toMatch(/for reading the build, not for releasing it/);
    expect(await releaseArtefacts(requestFor(BUILD, readTokenOf(BUILD)))).toBe(false);
    expect(existsSync(files.stone)).toBe(true);
    expect(existsSync(files.work)).toBe(true);
    // Only a whole build may be deleted, never one of its files.
    expect((await fetch(`${url}/released-1.0-1-1-x86_64.stone`, { method: 'DELETE', headers: { authorization: `Bearer ${tokenOf(BUILD)}` } })).status).toBe(405);
    expect(existsSync(files.stone)).toBe(true);
  });

  it('removes the artefacts and the scratch space with the build\'s token, keeps the log, and may be asked twice', async () => {
    const files = leaveBuild(BUILD);
    const other = leaveBuild(OTHER);
    expect(await releaseArtefacts(requestFor(BUILD, tokenOf(BUILD)))).toBe(true);
    expect(existsSync(files.stone)).toBe(false);
    expect(existsSync(files.work)).toBe(false);
    expect(existsSync(files.log)).toBe(true);
    expect(existsSync(other.stone)).toBe(true);
    expect(await releaseArtefacts(requestFor(BUILD, tokenOf(BUILD)))).toBe(true);
    const gone = await fetch(`${base}/builds/${encodeURIComponent(BUILD)}/released-1.0-1-1-x86_64.stone`, { headers: { authorization: `Bearer ${readTokenOf(BUILD)}` } });
    expect(gone.status).toBe(404);
  });

  it('reads nothing with a release token, and sends nothing without one', async () => {
    const files = leaveBuild(BUILD);
    const file = `${base}/builds/${encodeURIComponent(BUILD)}/released-1.0-1-1-x86_64.stone`;
    expect((await fetch(file, { headers: { authorization: `Bearer ${tokenOf(BUILD)}` } })).status).toBe(403);
    expect((await fetch(`${base}/logs/${encodeURIComponent(BUILD)}`, { headers: { authorization: `Bearer ${tokenOf(BUILD)}` } })).status).toBe(403);
    expect((await fetch(file, { headers: { authorization: `Bearer ${readTokenOf(BUILD)}` } })).status).toBe(200);
    // A result from a builder older than scoped tokens carries none: the workflow's clean-up removes the files.
    expect(await releaseArtefacts(requestFor(BUILD, undefined))).toBe(false);
    expect(existsSync(files.stone)).toBe(true);
  });

  it('answers false when the builder cannot be reached, so the workflow cleans up', async () => {
    const warnings: string[] = [];
    const closed = await startArtefactServer({ dataDir: dir, secret, port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${closed.port}`;
    await closed.close();
    expect(await releaseArtefacts(requestFor(BUILD, tokenOf(BUILD), url), (message) => warnings.push(message))).toBe(false);
    expect(warnings).toHaveLength(1);
  });
});
