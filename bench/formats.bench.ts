import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readManifest } from '../core/formats/manifest';
import { parseRecipe } from '../core/formats/recipe';
import { IndexEntry, readIndex, writeIndex } from '../core/formats/repo-index';
import { RECIPES_SERPENT } from '../test/support/corpus-dir';

/**
 * Format benchmarks (issue: Serpent formats). Figures, not assertions: targets are printed beside them.
 * Files are read into memory first so the figures measure parsing, not the disk.
 */
const RECIPES = RECIPES_SERPENT;

function recipeDirs(): string[] {
  const out: string[] = [];
  for (const letter of readdirSync(RECIPES)) {
    const ldir = join(RECIPES, letter);
    for (const name of readdirSync(ldir)) {
      if (existsSync(join(ldir, name, 'stone.yaml'))) out.push(join(ldir, name));
    }
  }
  return out.sort();
}

function syntheticEntry(i: number): IndexEntry {
  const name = `pkg${i.toString().padStart(5, '0')}`;
  return {
    name, version: `${1 + (i % 7)}.${i % 13}.${i % 5}`, release: 1 + (i % 40), buildRelease: 1, architecture: 'x86_64',
    summary: `Synthetic package ${i}`, description: `Synthetic package ${i} for the index benchmark`,
    homepage: 'https://example.org', sourceId: `src${Math.floor(i / 3)}`, licenses: ['MPL-2.0'],
    depends: [`soname(libc.so.6(x86_64))`, `pkg${((i * 7) % 10000).toString().padStart(5, '0')}`],
    provides: [`soname(lib${name}.so.1(x86_64))`, `pkgconfig(${name})`], conflicts: [], buildDepends: [],
    uri: `pool/p/src${Math.floor(i / 3)}/${name}-1-1-1-x86_64.stone`, hash: i.toString(16).padStart(64, 'a'), size: 10_000 + i,
  };
}

async function time<T>(fn: () => Promise<T> | T): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export async function run(): Promise<void> {
  const dirs = recipeDirs();
  const inputs = dirs.map((d) => ({
    dir: d,
    yaml: readFileSync(join(d, 'stone.yaml'), 'utf8'),
    manifest: readFileSync(join(d, 'manifest.x86_64.bin')),
  }));
  // One warm-up pass so the figures are not dominated by JIT and WebAssembly compilation.
  for (const i of inputs.slice(0, 50)) {
    parseRecipe(i.yaml, i.dir);
    await readManifest(i.manifest, i.dir);
  }
  const recipes = await time(() => inputs.forEach((i) => parseRecipe(i.yaml, join(i.dir, 'stone.yaml'))));
  const manifests = await time(async () => {
    for (const i of inputs) await readManifest(i.manifest, i.dir);
  });
  console.log(`parse ${inputs.length} recipes: ${recipes.ms.toFixed(0)} ms`);
  console.log(`parse ${inputs.length} manifest.x86_64.bin: ${manifests.ms.toFixed(0)} ms`);
  console.log(`parse recipes + manifests: ${(recipes.ms + manifests.ms).toFixed(0)} ms`);

  const entries = Array.from({ length: 10_000 }, (_, i) => syntheticEntry(i));
  await writeIndex(entries.slice(0, 200)); // warm-up
  const runs = [];
  for (let r = 0; r < 3; r++) runs.push(await time(() => writeIndex(entries)));
  const bytes = runs[0].value;
  const reads = [];
  for (let r = 0; r < 3; r++) reads.push(await time(() => readIndex(bytes)));
  const best = (xs: Array<{ ms: number }>): string => Math.min(...xs.map((x) => x.ms)).toFixed(0);
  console.log(`write stone.index of 10,000 packages: best ${best(runs)} ms of 3 (target ≤ 500 ms), ${(bytes.byteLength / 1024 / 1024).toFixed(2)} MiB`);
  console.log(`read it back: best ${best(reads)} ms of 3 (${reads[0].value.length} entries)`);
  const mem = process.memoryUsage();
  console.log(`memory: rss ${(mem.rss / 1024 / 1024).toFixed(0)} MiB, heap used ${(mem.heapUsed / 1024 / 1024).toFixed(0)} MiB`);
}
