import { formatDependency, kindCode, kindFromCode, parseDependency } from '../dependency';
import { FormatError } from '../errors';
import { MetaRecord, MetaTag, Primitive } from './records';

/**
 * A package's metadata as moss understands it (moss/src/package/meta.rs). Dependencies and providers are kept
 * in their text form `kind(name)`, the form manifests' .jsonc and every human use.
 */
export interface PackageMeta {
  name: string;
  version: string;
  release: number;
  buildRelease: number;
  architecture: string;
  summary: string;
  description: string;
  homepage: string;
  sourceId: string;
  licenses: string[];
  depends: string[];
  provides: string[];
  conflicts: string[];
  buildDepends: string[];
  /** Repository index only: where the .stone lives, relative to the index. */
  uri?: string;
  /** Repository index only: sha256 hex of the .stone, the package id. */
  hash?: string;
  /** Repository index only: size of the .stone in bytes. */
  size?: number;
  sourceUri?: string;
  sourcePath?: string;
  sourceRef?: string;
}

/** What moss refuses a package without. */
const REQUIRED: Array<[MetaTag, keyof PackageMeta]> = [
  [MetaTag.Name, 'name'],
  [MetaTag.Version, 'version'],
  [MetaTag.Release, 'release'],
  [MetaTag.BuildRelease, 'buildRelease'],
  [MetaTag.Architecture, 'architecture'],
  [MetaTag.Summary, 'summary'],
  [MetaTag.Description, 'description'],
  [MetaTag.SourceID, 'sourceId'],
  [MetaTag.Homepage, 'homepage'],
];

const STRING_FIELDS: Partial<Record<number, keyof PackageMeta>> = {
  [MetaTag.Name]: 'name',
  [MetaTag.Architecture]: 'architecture',
  [MetaTag.Version]: 'version',
  [MetaTag.Summary]: 'summary',
  [MetaTag.Description]: 'description',
  [MetaTag.Homepage]: 'homepage',
  [MetaTag.SourceID]: 'sourceId',
  [MetaTag.PackageURI]: 'uri',
  [MetaTag.PackageHash]: 'hash',
  [MetaTag.SourceURI]: 'sourceUri',
  [MetaTag.SourcePath]: 'sourcePath',
  [MetaTag.SourceRef]: 'sourceRef',
};

const NUMBER_FIELDS: Partial<Record<number, 'release' | 'buildRelease' | 'size'>> = {
  [MetaTag.Release]: 'release',
  [MetaTag.BuildRelease]: 'buildRelease',
  [MetaTag.PackageSize]: 'size',
};

const LIST_FIELDS: Partial<Record<number, 'depends' | 'provides' | 'conflicts' | 'buildDepends'>> = {
  [MetaTag.Depends]: 'depends',
  [MetaTag.Provides]: 'provides',
  [MetaTag.Conflicts]: 'conflicts',
  [MetaTag.BuildDepends]: 'buildDepends',
};

export function metaFromRecords(records: MetaRecord[], where: string): PackageMeta {
  const meta: PackageMeta = {
    name: '', version: '', release: 0, buildRelease: 0, architecture: '', summary: '', description: '',
    homepage: '', sourceId: '', licenses: [], depends: [], provides: [], conflicts: [], buildDepends: [],
  };
  const seen = new Set<number>();
  const bad = (tag: number, want: string): never => {
    throw new FormatError('stone', where, `meta tag ${MetaTag[tag] ?? tag} holds the wrong primitive, want ${want}`);
  };
  for (const rec of records) {
    seen.add(rec.tag);
    const stringField = STRING_FIELDS[rec.tag];
    const numberField = NUMBER_FIELDS[rec.tag];
    const listField = LIST_FIELDS[rec.tag];
    if (stringField) {
      if (rec.primitive !== Primitive.String || !('value' in rec)) bad(rec.tag, 'string');
      (meta as unknown as Record<string, unknown>)[stringField] = (rec as { value: string }).value;
    } else if (numberField) {
      if (typeof rec.value === 'string') bad(rec.tag, 'integer');
      const value = Number((rec as { value: number | bigint }).value);
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new FormatError('stone', where, `meta tag ${MetaTag[rec.tag]} value ${String((rec as { value: unknown }).value)} is out of range`);
      }
      meta[numberField] = value;
    } else if (listField) {
      if (rec.primitive !== Primitive.Dependency && rec.primitive !== Primitive.Provider) bad(rec.tag, 'dependency or provider');
      const r = rec as { kind: number; value: string };
      const kind = kindFromCode(r.kind);
      if (!kind) throw new FormatError('stone', where, `meta tag ${MetaTag[rec.tag]}: unknown dependency kind ${r.kind} for "${r.value}"`);
      meta[listField].push(formatDependency({ kind, name: r.value }));
    } else if (rec.tag === MetaTag.License) {
      if (rec.primitive !== Primitive.String || !('value' in rec)) bad(rec.tag, 'string');
      meta.licenses.push((rec as { value: string }).value);
    }
  }
  return meta;
}

/** Check the fields moss requires are present (binary packages and index entries; manifests are looser). */
export function requireMossFields(records: MetaRecord[], where: string): void {
  const tags = new Set(records.map((r) => r.tag));
  const missing = REQUIRED.filter(([tag]) => !tags.has(tag)).map(([, field]) => field);
  if (missing.length > 0) throw new FormatError('stone', where, `meta is missing required field(s): ${missing.join(', ')}`);
}

const str = (tag: MetaTag, value: string): MetaRecord => ({ tag, primitive: Primitive.String, value });
const u64 = (tag: MetaTag, value: number): MetaRecord => ({ tag, primitive: Primitive.Uint64, value: BigInt(value) });

function dependencyRecord(tag: MetaTag, text: string, primitive: Primitive.Dependency | Primitive.Provider): MetaRecord {
  const dep = parseDependency(text);
  return { tag, primitive, kind: kindCode(dep.kind), value: dep.name };
}

/**
 * Meta records in the order boulder emits them (read off the fixture packages and manifests): identity first,
 * then licences, dependencies, providers, index-only fields and build dependencies.
 */
export function recordsFromMeta(meta: PackageMeta): MetaRecord[] {
  const out: MetaRecord[] = [
    str(MetaTag.Name, meta.name),
    str(MetaTag.Version, meta.version),
    u64(MetaTag.Release, meta.release),
    u64(MetaTag.BuildRelease, meta.buildRelease),
    str(MetaTag.Architecture, meta.architecture),
    str(MetaTag.Summary, meta.summary),
    str(MetaTag.Description, meta.description),
    str(MetaTag.SourceID, meta.sourceId),
    str(MetaTag.Homepage, meta.homepage),
  ];
  for (const l of meta.licenses) out.push(str(MetaTag.License, l));
  for (const d of meta.depends) out.push(dependencyRecord(MetaTag.Depends, d, Primitive.Dependency));
  for (const p of meta.provides) out.push(dependencyRecord(MetaTag.Provides, p, Primitive.Provider));
  for (const c of meta.conflicts) out.push(dependencyRecord(MetaTag.Conflicts, c, Primitive.Provider));
  if (meta.uri !== undefined) out.push(str(MetaTag.PackageURI, meta.uri));
  if (meta.hash !== undefined) out.push(str(MetaTag.PackageHash, meta.hash));
  if (meta.size !== undefined) out.push(u64(MetaTag.PackageSize, meta.size));
  for (const b of meta.buildDepends) out.push(dependencyRecord(MetaTag.BuildDepends, b, Primitive.Dependency));
  if (meta.sourceUri !== undefined) out.push(str(MetaTag.SourceURI, meta.sourceUri));
  if (meta.sourcePath !== undefined) out.push(str(MetaTag.SourcePath, meta.sourcePath));
  if (meta.sourceRef !== undefined) out.push(str(MetaTag.SourceRef, meta.sourceRef));
  return out;
}
