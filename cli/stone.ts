import { COMPRESSION_NAMES, FILE_TYPE_NAMES, PAYLOAD_KIND_NAMES } from '../core/formats/stone/header';
import { describePackage } from '../core/formats/stone/package';
import { extractPackage } from '../packaging/extract';
import { withStoneFile } from '../packaging/open-stone';
import { parseCommandArgs, printJson } from './args';
import { Command } from './io';

/** `summit stone inspect <file> [--json]`: header, payloads, meta and file list of a binary package. */
export const inspect: Command = async (args, io) => {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, { min: 1, max: 1, names: '<file.stone>' });
  const report = await withStoneFile(positionals[0], async (reader) => {
    const pkg = describePackage(reader);
    const m = pkg.meta;
    return {
      fileType: FILE_TYPE_NAMES[reader.header.fileType],
      payloads: reader.payloads.map((p) => ({
        kind: PAYLOAD_KIND_NAMES[p.header.kind],
        records: p.header.numRecords,
        storedSize: p.header.storedSize,
        plainSize: p.header.plainSize,
        compression: COMPRESSION_NAMES[p.header.compression],
      })),
      meta: {
        name: m.name, version: m.version, release: m.release, buildRelease: m.buildRelease, architecture: m.architecture,
        summary: m.summary, sourceId: m.sourceId, homepage: m.homepage, licenses: m.licenses, depends: m.depends,
        provides: m.provides, conflicts: m.conflicts,
      },
      files: pkg.files.map((f) => ({ path: f.path, type: f.type, mode: f.mode, size: f.size, ...(f.linkTarget ? { target: f.linkTarget } : {}) })),
    };
  });
  if (values.json) {
    printJson(io.out, report);
    return 0;
  }
  const m = report.meta;
  const lines = [
    `${m.name} ${m.version}-${m.release} (build ${m.buildRelease}, ${m.architecture}) — ${m.summary}`,
    `source: ${m.sourceId}   homepage: ${m.homepage}   licenses: ${m.licenses.join(', ')}`,
    `file type: ${report.fileType}`,
    'payloads:',
    ...report.payloads.map((p) => `  ${p.kind.padEnd(10)} ${String(p.records).padStart(6)} records  ${String(p.storedSize).padStart(10)} stored  ${String(p.plainSize).padStart(10)} plain  ${p.compression}`),
    `depends (${m.depends.length}):`, ...m.depends.map((d) => `  ${d}`),
    `provides (${m.provides.length}):`, ...m.provides.map((d) => `  ${d}`),
    ...(m.conflicts.length ? [`conflicts (${m.conflicts.length}):`, ...m.conflicts.map((d) => `  ${d}`)] : []),
    `files (${report.files.length}):`,
    ...report.files.map((f) => `  ${(f.mode & 0o7777).toString(8).padStart(4, '0')} ${f.type.padEnd(9)} ${String(f.size).padStart(10)}  ${f.path}${'target' in f ? ` -> ${f.target}` : ''}`),
  ];
  io.out(lines.join('\n'));
  return 0;
};

/** `summit stone extract <file> <dir>`: unpack a package, verifying every digest. */
export const extract: Command = async (args, io) => {
  const { positionals } = parseCommandArgs(args, {}, { min: 2, max: 2, names: '<file.stone> <dir>' });
  const [file, dir] = positionals;
  const result = await withStoneFile(file, (reader) => extractPackage(reader, dir));
  io.out(`extracted ${result.files} files, ${result.symlinks} symlinks, ${result.directories} directories (${result.bytes} bytes) to ${dir}`);
  return 0;
};
