import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { IndexEntry, readIndex, writeIndex } from '../core/formats/repo-index';
import { describePackage } from '../core/formats/stone/package';
import { withStoneFile } from '../packaging/open-stone';
import { parseCommandArgs, printJson } from './args';
import { Command, UsageError } from './io';

async function findStones(path: string): Promise<string[]> {
  const st = await stat(path);
  if (st.isFile()) return [path];
  const out: string[] = [];
  for (const name of (await readdir(path)).sort()) {
    const child = join(path, name);
    const cst = await stat(child);
    if (cst.isDirectory()) out.push(...(await findStones(child)));
    else if (name.endsWith('.stone')) out.push(child);
  }
  return out;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** `summit index write --out <dir> <stone files or folders>...`: writes `<dir>/stone.index` atomically. */
export const write: Command = async (args, io) => {
  const { values, positionals } = parseCommandArgs(args, { out: { type: 'string' } }, { min: 1, names: '<stone files or folders>...' });
  if (!values.out) throw new UsageError('--out <dir> is required');
  const outDir = resolve(values.out);
  await mkdir(outDir, { recursive: true });
  const files = (await Promise.all(positionals.map(findStones))).flat();
  const entries: IndexEntry[] = [];
  for (const file of files) {
    const meta = await withStoneFile(file, async (reader) => describePackage(reader).meta);
    const [hash, st] = await Promise.all([sha256File(file), stat(file)]);
    const uri = relative(outDir, resolve(file)).split(sep).join('/');
    entries.push({ ...meta, uri, hash, size: st.size });
  }
  const bytes = await writeIndex(entries);
  const target = join(outDir, 'stone.index');
  const tmp = `${target}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, target);
  io.out(`wrote ${target}: ${entries.length} package(s), ${bytes.byteLength} bytes`);
  return 0;
};

/** `summit index inspect <stone.index> [--json]`: one entry per package. */
export const inspect: Command = async (args, io) => {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, { min: 1, max: 1, names: '<stone.index>' });
  const entries = await readIndex(await readFile(positionals[0]), positionals[0]);
  const rows = entries.map((e) => ({
    name: e.name, version: e.version, release: e.release, buildRelease: e.buildRelease, sourceId: e.sourceId,
    architecture: e.architecture, uri: e.uri, sha256: e.hash, size: e.size,
  }));
  if (values.json) {
    printJson(io.out, rows);
    return 0;
  }
  io.out([`${rows.length} package(s)`, ...rows.map((r) => `${r.name} ${r.version}-${r.release}-${r.buildRelease} ${r.architecture}  ${r.size} bytes  ${r.sha256}  ${r.uri}`)].join('\n'));
  return 0;
};
