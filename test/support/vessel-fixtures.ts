/**
 * What vessel's tests fetch from: real `.stone` packages written by packaging/package-writer.ts, served by a small
 * token-checking HTTP server on 127.0.0.1 that answers `/builds/<encoded build id>/<name>` the way an avalanche
 * host does. Faults a test may switch on per file: extra bytes past the declared size, no Content-Length, a
 * connection cut halfway.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Artefact, ImportRequest } from '../../core/contracts/build';
import { builderId, type BuildId } from '../../core/contracts/ids';
import type { PackageMeta } from '../../core/formats/stone/meta';
import { stoneFileName } from '../../core/repo/pool';
import { writePackageFromRoot } from '../../packaging/package-writer';

export interface ServedFile {
  bytes: Buffer;
  /** Send these bytes after the file (a builder serving more than it declared). */
  trailing?: Buffer;
  /** Stream with chunked encoding, without a Content-Length. */
  chunked?: boolean;
  /** Destroy the connection after this many bytes. */
  cutAfter?: number;
  /** Send this many bytes, then nothing more (a stuck builder). */
  stallAfter?: number;
}

export interface ArtefactServer {
  baseUrl: string;
  token: string;
  /** Every request: its path and whether its token was accepted. */
  requests: Array<{ path: string; authorized: boolean }>;
  serve(buildId: string, name: string, file: ServedFile): void;
  close(): Promise<void>;
}

export async function startArtefactServer(token = `token-${Math.random().toString(36).slice(2)}`): Promise<ArtefactServer> {
  const files = new Map<string, ServedFile>();
  const requests: ArtefactServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    const authorized = req.headers.authorization === `Bearer ${token}`;
    requests.push({ path, authorized });
    if (!authorized) return void res.writeHead(401).end('bad token\n');
    const file = files.get(path);
    if (!file) return void res.writeHead(404).end('no such artefact\n');
    const body = file.trailing ? Buffer.concat([file.bytes, file.trailing]) : file.bytes;
    res.writeHead(200, file.chunked ? { 'content-type': 'application/octet-stream' } : { 'content-length': body.length });
    if (file.stallAfter !== undefined) return void res.write(body.subarray(0, file.stallAfter));
    if (file.cutAfter !== undefined) {
      res.write(body.subarray(0, file.cutAfter), () => res.destroy());
      return;
    }
    // Two writes, so a chunked response really arrives in pieces.
    const half = Math.floor(body.length / 2);
    res.write(body.subarray(0, half));
    res.end(body.subarray(half));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    token,
    requests,
    serve: (buildId, name, file) => files.set(`/builds/${encodeURIComponent(buildId)}/${name}`, file),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface BuiltStone {
  artefact: Artefact;
  path: string;
  bytes: Buffer;
  meta: PackageMeta;
}

export function testMeta(name: string, release: number, buildRelease = 1, over: Partial<PackageMeta> = {}): PackageMeta {
  return {
    name, version: '1.0', release, buildRelease, architecture: 'x86_64', summary: `${name} for tests`, description: 'A test package',
    homepage: 'https://example.org', sourceId: name, licenses: ['MPL-2.0'], depends: [], provides: [`binary(${name})`], conflicts: [],
    buildDepends: [], ...over,
  };
}

/**
 * A real package: an install root with one script and one data file, packed by package-writer. The data file is
 * 256 KiB that does not compress (a sha256 chain of the payload), so a fetch really streams many chunks; the same
 * meta and payload always give the same bytes.
 */
export async function buildStone(workDir: string, meta: PackageMeta, payload = `${meta.name} ${meta.release}-${meta.buildRelease}`): Promise<BuiltStone> {
  const root = join(workDir, `root-${meta.name}-${meta.release}-${meta.buildRelease}-${Math.random().toString(36).slice(2, 8)}`);
  await mkdir(join(root, 'bin'), { recursive: true });
  await mkdir(join(root, 'share', meta.name), { recursive: true });
  await writeFile(join(root, 'bin', meta.name), `#!/bin/sh\necho '${payload}'\n`, { mode: 0o755 });
  const blocks: Buffer[] = [];
  for (let i = 0; i < 8192; i++) blocks.push(createHash('sha256').update(`${payload}/${i}`).digest());
  await writeFile(join(root, 'share', meta.name, 'data'), Buffer.concat(blocks));
  const name = stoneFileName(meta);
  const path = join(workDir, name);
  await writePackageFromRoot(root, meta, path);
  const bytes = await readFile(path);
  return { artefact: { name, kind: 'stone', size: bytes.length, sha256: sha256(bytes) }, path, bytes, meta };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Serve the stones for a build and make the import request that names them. */
export function importRequest(server: ArtefactServer, buildId: string, stones: BuiltStone[], over: Partial<ImportRequest> = {}): ImportRequest {
  for (const s of stones) server.serve(buildId, s.artefact.name, { bytes: s.bytes });
  return {
    buildId: buildId as BuildId,
    index: 'main',
    architecture: 'x86_64',
    build: { builderId: builderId('test-builder'), artefactBaseUrl: server.baseUrl, artefactToken: server.token, artefacts: stones.map((s) => s.artefact) },
    ...over,
  };
}
