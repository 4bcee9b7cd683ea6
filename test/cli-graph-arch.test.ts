import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { graph as graphCommand, simulate as simulateCommand } from '../cli/graph';
import { CliIo, UsageError } from '../cli/io';

/** `summit graph` and `summit simulate` read the manifests of the architecture `--arch` names (x86_64 by default). */
const NANO = join(__dirname, 'fixtures', 'recipes-nano');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'summit-graph-arch-'));
  // The real nano recipe, its manifest filed as another architecture's.
  await mkdir(join(dir, 'nano'));
  await copyFile(join(NANO, 'stone.yaml'), join(dir, 'nano', 'stone.yaml'));
  await copyFile(join(NANO, 'manifest.x86_64.bin'), join(dir, 'nano', 'manifest.aarch64.bin'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function collect(): CliIo & { text: () => string } {
  const out: string[] = [];
  return { out: (t) => out.push(t), err: (t) => out.push(t), text: () => out.join('\n') };
}

test('--arch names whose manifests are read; without it the tree has no x86_64 manifest and says so', async () => {
  const io = collect();
  expect(await graphCommand([dir, '--arch', 'aarch64', '--json'], io)).toBe(0);
  expect(JSON.parse(io.text()).recipes).toBe(1);
  await expect(graphCommand([dir, '--json'], collect())).rejects.toThrow(`no manifest.x86_64.bin under ${dir}`);
  const sim = collect();
  expect(await simulateCommand([dir, '--builders', '2', '--arch', 'aarch64', '--json'], sim)).toBe(0);
  expect(JSON.parse(sim.text()).makespan).toBeGreaterThan(0);
});

test.each(['', '../x86_64', 'a/b', 'x'.repeat(65)])('--arch %j is refused before any file is read', async (arch) => {
  await expect(graphCommand([dir, '--arch', arch], collect())).rejects.toThrow(UsageError);
  await expect(simulateCommand([dir, '--builders', '1', '--arch', arch], collect())).rejects.toThrow(/--arch must be an architecture name/);
});
