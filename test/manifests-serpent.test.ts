import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { manifestJsonc, parseManifestJsonc, readManifest, writeManifest } from '../core/formats/manifest';
import { describeWithCorpus, RECIPES_SERPENT } from './support/corpus';

async function recipeDirs(): Promise<string[]> {
  const out: string[] = [];
  for (const letter of (await readdir(RECIPES_SERPENT, { withFileTypes: true })).filter((d) => d.isDirectory())) {
    for (const name of await readdir(join(RECIPES_SERPENT, letter.name), { withFileTypes: true })) {
      if (name.isDirectory() && existsSync(join(RECIPES_SERPENT, letter.name, name.name, 'stone.yaml'))) {
        out.push(join(RECIPES_SERPENT, letter.name, name.name));
      }
    }
  }
  return out.sort();
}

const sorted = (xs: string[]): string[] => [...xs].sort();

/**
 * What a recipe declares itself, per emitted package: boulder writes these into the .bin but its .jsonc report
 * lists only what it found by analysing the files (checked on the real data: e.g. autoconf's rundeps
 * binary(m4)/binary(perl)/binary(slibtool) are in the .bin only, as is atk-devel's implicit dependency on atk).
 */
function declared(recipeText: string): { builddeps: string[]; rundeps: Map<string, string[]> } {
  const doc = parseYaml(recipeText) as Record<string, unknown>;
  const name = String(doc.name);
  const expand = (s: unknown): string => String(s).replace(/%\(name\)/g, name);
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(expand) : []);
  const rundeps = new Map<string, string[]>([[name, list(doc.rundeps)]]);
  for (const entry of (doc.packages as Array<Record<string, { rundeps?: unknown }>> | undefined) ?? []) {
    for (const [pkg, def] of Object.entries(entry)) rundeps.set(expand(pkg), list(def?.rundeps));
  }
  return { builddeps: [...list(doc.builddeps), ...list(doc.checkdeps)], rundeps };
}

describeWithCorpus(RECIPES_SERPENT, 'the 835 real Serpent OS build manifests', () => {
  let dirs: string[];
  beforeAll(async () => {
    dirs = await recipeDirs();
  });

  it('finds 835 recipes, each with a manifest.x86_64.bin', () => {
    expect(dirs).toHaveLength(835);
    expect(dirs.filter((d) => !existsSync(join(d, 'manifest.x86_64.bin')))).toEqual([]);
  });

  it('parses every manifest.x86_64.bin; provides equal the .jsonc, depends add only what the recipe declares', async () => {
    let compared = 0;
    let packages = 0;
    let declaredOnly = 0;
    const mismatches: string[] = [];
    for (const dir of dirs) {
      const file = join(dir, 'manifest.x86_64.bin');
      const manifest = await readManifest(await readFile(file), file);
      packages += manifest.packages.length;
      const jsoncPath = join(dir, 'manifest.x86_64.jsonc');
      if (!existsSync(jsoncPath)) continue;
      const jsonc = parseManifestJsonc(await readFile(jsoncPath, 'utf8'), jsoncPath);
      const recipe = declared(await readFile(join(dir, 'stone.yaml'), 'utf8'));
      expect(sorted(manifest.packages.map((p) => p.name))).toEqual(sorted(Object.keys(jsonc)));
      for (const p of manifest.packages) {
        const j = jsonc[p.name];
        if (JSON.stringify(sorted(p.provides)) !== JSON.stringify(sorted(j.provides))) mismatches.push(`${file} ${p.name} provides`);
        const parent = p.name.replace(/-(devel|dbginfo|32bit|32bit-devel|docs)$/, '');
        const allowedRun = new Set([...(recipe.rundeps.get(p.name) ?? []), parent, `${parent}-32bit`, manifest.sourceName]);
        for (const [field, bin, json, allowed] of [
          ['depends', p.depends, j.depends, allowedRun],
          ['build-depends', p.buildDepends, j.buildDepends, new Set(recipe.builddeps)],
        ] as const) {
          const missing = json.filter((d) => !bin.includes(d));
          const extra = bin.filter((d) => !json.includes(d));
          if (missing.length > 0) mismatches.push(`${file} ${p.name} ${field}: .jsonc has ${missing.join(', ')} the .bin lacks`);
          const unexplained = extra.filter((d) => !allowed.has(d));
          if (unexplained.length > 0) mismatches.push(`${file} ${p.name} ${field}: .bin has undeclared ${unexplained.join(', ')}`);
          declaredOnly += extra.length;
        }
      }
      compared++;
    }
    console.log(`manifests: ${dirs.length} parsed, ${packages} packages, ${compared} compared with their .jsonc, ${declaredOnly} declared dependencies in the .bin only`);
    expect(mismatches).toEqual([]);
    expect(compared).toBe(834); // p/papirus-icon-theme ships no .jsonc (over 4 MiB, left out of the fixtures)
  });

  it('writes manifests back to bytes that read as the same manifest, and a .jsonc that reads back the same lists', async () => {
    for (const dir of dirs.filter((_, i) => i % 40 === 0)) {
      const file = join(dir, 'manifest.x86_64.bin');
      const manifest = await readManifest(await readFile(file), file);
      const again = await readManifest(await writeManifest(manifest), `${file} (rewritten)`);
      expect(again).toEqual(manifest);
      const jsonc = parseManifestJsonc(manifestJsonc(manifest), 'generated');
      for (const p of manifest.packages) expect(jsonc[p.name].provides).toEqual(p.provides);
    }
  });
});
