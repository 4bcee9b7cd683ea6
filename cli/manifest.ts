import { readManifestFile } from '../core/formats/manifest';
import { parseCommandArgs, printJson } from './args';
import { Command } from './io';

/** `summit manifest inspect <manifest.bin> [--json]`: the packages a recipe emits, with what they need and give. */
export const inspect: Command = async (args, io) => {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, { min: 1, max: 1, names: '<manifest.bin>' });
  const m = await readManifestFile(positionals[0]);
  const report = {
    sourceName: m.sourceName,
    sourceVersion: m.sourceVersion,
    sourceRelease: m.sourceRelease,
    architecture: m.architecture,
    packages: m.packages.map((p) => ({ name: p.name, depends: p.depends, buildDepends: p.buildDepends, provides: p.provides })),
  };
  if (values.json) {
    printJson(io.out, report);
    return 0;
  }
  const lines = [`${m.sourceName} ${m.sourceVersion}-${m.sourceRelease} (${m.architecture}), ${m.packages.length} package(s)`];
  for (const p of report.packages) {
    lines.push(`\n${p.name}`);
    for (const [label, list] of [['depends', p.depends], ['build-depends', p.buildDepends], ['provides', p.provides]] as const) {
      lines.push(`  ${label} (${list.length}):`, ...list.map((d) => `    ${d}`));
    }
  }
  io.out(lines.join('\n'));
  return 0;
};
