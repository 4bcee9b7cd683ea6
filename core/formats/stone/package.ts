import { toHex } from '../bytes';
import { FormatError } from '../errors';
import { FileType } from './header';
import { metaFromRecords, PackageMeta, requireMossFields } from './meta';
import { StoneReader } from './reader';
import { LAYOUT_TYPE_NAMES, LayoutFileType, LayoutRecord, symlinkTarget } from './records';

/** One entry of a binary package's layout, in the shape people and scripts read (`summit stone inspect`). */
export interface PackageFile {
  /** Absolute install path: layout targets are relative to /usr. */
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  /** Content size for regular files (from the index record of its digest); 0 otherwise. */
  size: number;
  /** XXH3-128 hex of a regular file's content. */
  digest?: string;
  /** A symlink's target. */
  linkTarget?: string;
}

export interface BinaryPackage {
  meta: PackageMeta;
  files: PackageFile[];
}

export function installPath(target: string): string {
  return `/usr/${target.replace(/^\/+/, '')}`;
}

/** Interpret an opened binary package: its meta and its file list, cross-checked against the index payload. */
export function describePackage(reader: StoneReader): BinaryPackage {
  const where = reader.where;
  if (reader.header.fileType !== FileType.Binary) {
    throw new FormatError('stone', where, `not a binary package (file type ${reader.header.fileType})`);
  }
  const metas = reader.metaPayloads();
  if (metas.length !== 1) throw new FormatError('stone', where, `a binary package has one meta payload, found ${metas.length}`);
  requireMossFields(metas[0], `${where}: meta`);
  const meta = metaFromRecords(metas[0], `${where}: meta`);
  const sizes = new Map(reader.index().map((i) => [toHex(i.digest), i.end - i.start]));
  const files = reader.layout().map((rec) => layoutFile(rec, sizes, where));
  return { meta, files };
}

function layoutFile(rec: LayoutRecord, sizes: Map<string, number>, where: string): PackageFile {
  const file: PackageFile = {
    path: installPath(rec.target),
    type: LAYOUT_TYPE_NAMES[rec.fileType],
    mode: rec.mode,
    uid: rec.uid,
    gid: rec.gid,
    size: 0,
  };
  if (rec.fileType === LayoutFileType.Regular) {
    file.digest = toHex(rec.source);
    const size = sizes.get(file.digest);
    if (size === undefined) throw new FormatError('stone', where, `${file.path}: content ${file.digest} is not in the index payload`);
    file.size = size;
  } else if (rec.fileType === LayoutFileType.Symlink) {
    file.linkTarget = symlinkTarget(rec);
  }
  return file;
}
