/**
 * The builder's fetching on the host against real servers and a real git: a local HTTP server that redirects,
 * lies about sizes or stalls, and git asked for transports the rule forbids even when a caller forgot the rule
 * (GIT_ALLOW_PROTOCOL is the second line). No mocks: the server and git are the real ones.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FetchRefusedError, fetchVerified } from '../activities/avalanche/fetch';
import { HostCommandError, runHostCommand } from '../activities/avalanche/host-command';
import { realPathInside } from '../host/source-paths';
import { SourceUrlError } from '../core/security/source-url';

const BODY = Buffer.alloc(64 * 1024, 7);
const SHA = createHash('sha256').update(BODY).digest('hex');

let dir: string;
let server: Server;
let base: string;
const stalled: ServerResponse[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'summit-sources-'));
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (path === '/file') return void res.end(BODY);
    if (path === '/redirect') return void res.writeHead(302, { location: '/file' }).end();
    if (path === '/to-file-scheme') return void res.writeHead(302, { location: 'file:///etc/passwd' }).end();
    if (path === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
    if (path === '/declared-huge') return void res.writeHead(200, { 'content-length': String(10 * 1024 * 1024) }).end();
    if (path === '/undeclared') {
      // Chunked, no Content-Length: only counting while streaming can stop it.
      res.writeHead(200);
      for (let i = 0; i < 16; i++) res.write(BODY);
      return void res.end();
    }
    if (path === '/stall') {
      res.writeHead(200);
      res.write(BODY.subarray(0, 1024));
      stalled.push(res);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of stalled) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('downloads on the builder host', () => {
  it('follows an http redirect and verifies the file', async () => {
    const dest = join(dir, 'redirected');
    expect(await fetchVerified({ type: 'http', url: `${base}/redirect` }, dest, SHA, 'upstream r')).toBe(BODY.length);
    expect(readFileSync(dest).equals(BODY)).toBe(true);
  });

  it.each([
    ['a redirect to file://', '/to-file-scheme', {}, /upstream x: redirected to a file: URL, which is not allowed/],
    ['a redirect loop', '/loop', {}, /upstream x: more than 10 redirects/],
    ['a declared size above the cap', '/declared-huge', { maxBytes: 1024 * 1024 }, /upstream x: 10485760 bytes, larger than the 1048576 allowed \(SUMMIT_MAX_UPSTREAM_SIZE\)/],
    ['an undeclared size above the cap, while streaming', '/undeclared', { maxBytes: 256 * 1024 }, /upstream x: larger than the 262144 bytes allowed/],
  ])('refuses %s and leaves no file', async (_what, path, limits, message) => {
    const dest = join(dir, `refused-${path.slice(1)}`);
    const fetching = fetchVerified({ type: 'http', url: `${base}${path}` }, dest, SHA, 'upstream x', undefined, limits);
    await expect(fetching).rejects.toThrow(FetchRefusedError);
    await expect(fetching).rejects.toThrow(message);
    expect(existsSync(dest)).toBe(false);
  });

  it('gives up on a server that stops sending, with a plain (retryable) error', async () => {
    const dest = join(dir, 'stalled');
    const fetching = fetchVerified({ type: 'http', url: `${base}/stall` }, dest, SHA, 'upstream s', undefined, { timeoutMs: 500 });
    await expect(fetching).rejects.toThrow('upstream s: nothing received for 0.5 s');
    await expect(fetching).rejects.not.toThrow(FetchRefusedError);
    expect(existsSync(dest)).toBe(false);
  });
});

describe('local paths on the builder host', () => {
  it('resolves a path inside a configured folder to its real path, and refuses a link that leads out', async () => {
    const mirror = join(dir, 'mirror');
    execFileSync('mkdir', ['-p', mirror]);
    writeFileSync(join(mirror, 'ok.tar'), 'x');
    writeFileSync(join(dir, 'secret'), 'x');
    symlinkSync(join(dir, 'secret'), join(mirror, 'link'));
    const local = { roots: [mirror], setting: 'SUMMIT_LOCAL_SOURCES' };
    expect(await realPathInside(join(mirror, 'ok.tar'), local, 'upstream')).toBe(join(execFileSync('realpath', [mirror], { encoding: 'utf8' }).trim(), 'ok.tar'));
    await expect(realPathInside(join(mirror, 'link'), local, 'upstream')).rejects.toThrow(SourceUrlError);
    await expect(realPathInside(join(mirror, 'link'), local, 'upstream')).rejects.toThrow(/leads to .*secret, outside the folders configured in SUMMIT_LOCAL_SOURCES/);
  });
});

describe('git on the builder host', () => {
  it('cannot use ext:: or a local path even when a caller skipped the rule', async () => {
    const marker = join(dir, 'ext-ran');
    await expect(runHostCommand('git', ['clone', '--quiet', '--', `ext::sh -c touch% ${marker}`, join(dir, 'ext-clone')]))
      .rejects.toThrow(/transport 'ext' not allowed/);
    expect(existsSync(marker)).toBe(false);

    const repo = join(dir, 'private');
    execFileSync('git', ['init', '-q', '--bare', repo]);
    await expect(runHostCommand('git', ['clone', '--quiet', '--', repo, join(dir, 'private-clone')])).rejects.toThrow(HostCommandError);
    await expect(runHostCommand('git', ['clone', '--quiet', '--', `file://${repo}`, join(dir, 'private-clone2')])).rejects.toThrow(/transport 'file' not allowed/);
  });

  it('takes a URL after -- as a URL, never as an option', async () => {
    const marker = join(dir, 'upload-pack-ran');
    await expect(runHostCommand('git', ['clone', '--quiet', '--', `--upload-pack=touch ${marker}`, join(dir, 'dash-clone')])).rejects.toThrow(HostCommandError);
    expect(existsSync(marker)).toBe(false);
  });
});
