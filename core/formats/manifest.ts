import { readFile } from 'node:fs/promises';
import { FormatError } from './errors';
import { FileType } from './stone/header';
import { metaFromRecords, PackageMeta, recordsFromMeta } from './stone/meta';
import { encodeRecordPayload, encodeStone } from './stone/writer';
import { StoneReader } from './stone/reader';
import { bufferSource } from './stone/source';
import { PayloadKind } from './stone/header';

/**
 * Build manifests (FORMATS.md §4): `manifest.<arch>.bin` is a stone of file type 4 with one meta payload per
 * package a recipe emits, BuildRelease 0 and one BuildDepends record per build/check dependency. It is what the
 * hub reads to learn a recipe's provides and depends without running boulder.
 */
export type ManifestPackage = PackageMeta;

export interface BuildManifest {
  sourceName: string;
  sourceVersion: string;
  sourceRelease: number;
  architecture: string;
  packages: ManifestPackage[];
}

export async function readManifest(bytes: Uint8Array, where = 'manifest'): Promise<BuildManifest> {
  const reader = await StoneReader.open(bufferSource(bytes), where);
  if (reader.header.fileType !== FileType.BuildManifest) {
    throw new FormatError('manifest', where, `not a build manifest (file type ${reader.header.fileType}, want 4)`);
  }
  const foreign = reader.payloads.find((p) => p.header.kind !== PayloadKind.Meta);
  if (foreign) throw new FormatError('manifest', where, `payload ${foreign.position} is not a meta payload (kind ${foreign.header.kind})`);
  const packages = reader.metaPayloads().map((records, i) => metaFromRecords(records, `${where}: package ${i}`));
  if (packages.length === 0) throw new FormatError('manifest', where, 'holds no packages');
  for (const [i, p] of packages.entries()) {
    if (!p.name) throw new FormatError('manifest', `${where}: package ${i}`, 'has no Name');
  }
  // The source identity is shared by every package of the recipe; the root package carries the recipe's name.
  const first = packages[0];
  const sourceName = first.sourceId || first.name;
  for (const p of packages) {
    if (p.sourceId !== first.sourceId || p.version !== first.version || p.release !== first.release) {
      throw new FormatError('manifest', `${where}: package ${p.name}`, `source ${p.sourceId} ${p.version}-${p.release} differs from ${first.sourceId} ${first.version}-${first.release}`);
    }
  }
  return { sourceName, sourceVersion: first.version, sourceRelease: first.release, architecture: first.architecture, packages };
}

export async function readManifestFile(path: string): Promise<BuildManifest> {
  return readManifest(await readFile(path), path);
}

export async function writeManifest(manifest: BuildManifest): Promise<Uint8Array> {
  const payloads = [];
  for (const p of manifest.packages) {
    payloads.push(await encodeRecordPayload({ kind: PayloadKind.Meta, records: recordsFromMeta(p) }));
  }
  return encodeStone(FileType.BuildManifest, payloads);
}

/**
 * The human-readable `.jsonc` copy boulder writes beside the .bin: a comment line, then JSON with tab indent and
 * keys in sorted order. `files` maps a package name to its installed paths (the .bin does not carry them).
 */
export function manifestJsonc(manifest: BuildManifest, files: Record<string, string[]> = {}): string {
  const packages: Record<string, unknown> = {};
  for (const p of [...manifest.packages].sort((a, b) => a.name.localeCompare(b.name))) {
    packages[p.name] = {
      'build-depends': p.buildDepends,
      depends: p.depends,
      files: files[p.name] ?? [],
      name: p.name,
      provides: p.provides,
    };
  }
  const doc = {
    'manifest-version': '0.2',
    packages,
    'source-name': manifest.sourceName,
    'source-release': String(manifest.sourceRelease),
    'source-version': manifest.sourceVersion,
  };
  return `/** Human readable report. This is not consumed by boulder */\n${JSON.stringify(doc, null, '\t')}\n`;
}

/** Parse a `.jsonc` manifest (comment line, then JSON) into package name → provides/depends/build-depends. */
export function parseManifestJsonc(text: string, where: string): Record<string, { provides: string[]; depends: string[]; buildDepends: string[]; files: string[] }> {
  const body = text.replace(/^\s*(\/\*[\s\S]*?\*\/|\/\/[^\n]*)/, '');
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    throw new FormatError('manifest', where, `not JSON after the comment line: ${(err as Error).message}`);
  }
  const packages = (doc as { packages?: Record<string, Record<string, string[]>> }).packages;
  if (!packages || typeof packages !== 'object') throw new FormatError('manifest', where, 'no "packages" object');
  const out: Record<string, { provides: string[]; depends: string[]; buildDepends: string[]; files: string[] }> = {};
  for (const [name, p] of Object.entries(packages)) {
    out[name] = { provides: p.provides ?? [], depends: p.depends ?? [], buildDepends: p['build-depends'] ?? [], files: p.files ?? [] };
  }
  return out;
}
