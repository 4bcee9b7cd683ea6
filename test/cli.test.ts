import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { main } from '../cli/main';
import { RECIPES_NANO, RECIPES_SERPENT, STONES } from './helpers/fixtures';
import { testWithCorpus } from './support/corpus';

const ROOT = resolve(__dirname, '..');

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (t) => { out += `${t}\n`; }, err: (t) => { err += `${t}\n`; } });
  return { code, out, err };
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'summit-cli-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('summit stone', () => {
  it('inspect --json prints header, payloads, meta and files with the stable field names', async () => {
    const { code, out } = await run('stone', 'inspect', join(STONES, 'nano-8.4-35-1-x86_64.stone'), '--json');
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(Object.keys(report)).toEqual(['fileType', 'payloads', 'meta', 'files']);
    expect(report.fileType).toBe('binary');
    expect(report.payloads.map((p: { kind: string }) => p.kind)).toEqual(['meta', 'layout', 'index', 'content']);
    expect(Object.keys(report.payloads[0])).toEqual(['kind', 'records', 'storedSize', 'plainSize', 'compression']);
    expect(Object.keys(report.meta)).toEqual(['name', 'version', 'release', 'buildRelease', 'architecture', 'summary', 'sourceId', 'homepage', 'licenses', 'depends', 'provides', 'conflicts']);
    expect(report.meta).toMatchObject({ name: 'nano', version: '8.4', release: 35, buildRelease: 1 });
    expect(report.files).toContainEqual({ path: '/usr/bin/nano', type: 'regular', mode: 0o100755, size: expect.any(Number) });
  });

  it('inspect prints a readable report', async () => {
    const { code, out } = await run('stone', 'inspect', join(STONES, 'pineapple-1-1-1-x86_64.stone'));
    expect(code).toBe(0);
    expect(out).toContain('pineapple 1-1 (build 1, x86_64)');
    expect(out).toContain('/usr/share/defaults/pienapple');
  });

  it('extract unpacks a package', async () => {
    const dir = join(work, 'x');
    const { code, out } = await run('stone', 'extract', join(STONES, 'pineapple-1-1-1-x86_64.stone'), dir);
    expect(code).toBe(0);
    expect(out).toMatch(/extracted 1 files/);
    await expect(readFile(join(dir, 'usr/share/defaults/pienapple'))).resolves.toBeDefined();
  });

  it('names the file and the problem for a damaged package, exit 1', async () => {
    const bad = join(work, 'bad.stone');
    const bytes = await readFile(join(STONES, 'pineapple-1-1-1-x86_64.stone'));
    bytes[70] ^= 0xff;
    await writeFile(bad, bytes);
    const { code, err } = await run('stone', 'inspect', bad);
    expect(code).toBe(1);
    expect(err).toContain(`${bad}: payload 0 (meta): checksum mismatch`);
  });

  it('reports a missing file and usage errors clearly', async () => {
    expect(await run('stone', 'inspect', join(work, 'nope.stone'))).toMatchObject({ code: 1, err: expect.stringContaining('no such file') });
    expect(await run('stone', 'inspect')).toMatchObject({ code: 2, err: expect.stringContaining('usage: summit stone inspect') });
    expect(await run('stone', 'frobnicate')).toMatchObject({ code: 2, err: expect.stringContaining('unknown command') });
  });
});

describe('summit manifest and index', () => {
  it('manifest inspect --json lists packages with depends, buildDepends, provides', async () => {
    const { code, out } = await run('manifest', 'inspect', join(RECIPES_NANO, 'manifest.x86_64.bin'), '--json');
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(report.packages[0]).toMatchObject({ name: 'nano', provides: ['binary(nano)', 'binary(rnano)'] });
    expect(report.packages[0].buildDepends).toContain('pkgconfig(zlib)');
  });

  it('index write then index inspect: relative URIs, sha256 and sizes of the real files', async () => {
    const repo = join(work, 'repo');
    await mkdir(join(repo, 'pool'), { recursive: true });
    await cp(STONES, join(repo, 'pool'), { recursive: true });
    const w = await run('index', 'write', '--out', repo, join(repo, 'pool'));
    expect(w.code).toBe(0);
    expect(w.out).toMatch(/4 package\(s\)/);
    const { code, out } = await run('index', 'inspect', join(repo, 'stone.index'), '--json');
    expect(code).toBe(0);
    const rows = JSON.parse(out);
    expect(rows).toHaveLength(4);
    const nano = rows.find((r: { name: string; release: number }) => r.name === 'nano' && r.release === 35);
    expect(Object.keys(nano)).toEqual(['name', 'version', 'release', 'buildRelease', 'sourceId', 'architecture', 'uri', 'sha256', 'size']);
    expect(nano.uri).toBe('pool/nano-8.4-35-1-x86_64.stone');
    const bytes = await readFile(join(repo, nano.uri));
    expect(nano.size).toBe(bytes.byteLength);
    const { createHash } = await import('node:crypto');
    expect(nano.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('index write without --out is a usage error', async () => {
    expect(await run('index', 'write', STONES)).toMatchObject({ code: 2, err: expect.stringContaining('--out <dir> is required') });
  });
});

describe('summit recipe check', () => {
  it('passes the nano recipe and its manifest', async () => {
    const { code, out } = await run('recipe', 'check', RECIPES_NANO);
    expect(out.trim().split('\n').at(-1)).toBe('1 recipes, 0 invalid');
    expect(code).toBe(0);
  });

  testWithCorpus(RECIPES_SERPENT)('checks the 835 real recipes: only usbutils is invalid, its committed manifest is for the previous release', async () => {
    const { code, out } = await run('recipe', 'check', RECIPES_SERPENT, '--json');
    expect(code).toBe(1);
    const report = JSON.parse(out);
    expect(report.recipes).toBe(835);
    expect(report.invalid).toEqual([
      { path: join(RECIPES_SERPENT, 'u', 'usbutils', 'stone.yaml'), errors: [expect.stringContaining('manifest is for 017-1, recipe is 017-2')] },
    ]);
  });

  it('reports a broken recipe and a damaged manifest, one line each, and exits 1 (--json too)', async () => {
    const dir = join(work, 'recipes');
    await mkdir(join(dir, 'good'), { recursive: true });
    await mkdir(join(dir, 'bad'), { recursive: true });
    await cp(join(RECIPES_NANO, 'stone.yaml'), join(dir, 'good', 'stone.yaml'));
    await writeFile(join(dir, 'bad', 'stone.yaml'), 'name: bad\nversion: 1\nrelease: not-a-number\n');
    const manifest = await readFile(join(RECIPES_NANO, 'manifest.x86_64.bin'));
    manifest[0] = 0x42;
    await writeFile(join(dir, 'good', 'manifest.x86_64.bin'), manifest);
    const text = await run('recipe', 'check', dir);
    expect(text.code).toBe(1);
    const lines = text.out.trim().split('\n');
    expect(lines.at(-1)).toBe('2 recipes, 2 invalid');
    expect(lines[0]).toContain(join(dir, 'bad', 'stone.yaml'));
    expect(lines[0]).toContain('release');
    expect(lines[1]).toContain('not a stone file');
    const json = await run('recipe', 'check', dir, '--json');
    expect(json.code).toBe(1);
    const report = JSON.parse(json.out);
    expect(report.recipes).toBe(2);
    expect(report.invalid.map((i: { path: string }) => i.path)).toEqual([join(dir, 'bad', 'stone.yaml'), join(dir, 'good', 'stone.yaml')]);
    expect(report.invalid[0].errors.length).toBeGreaterThan(0);
  });

  it('reports names and versions that cannot become build ids or pool paths, a binary file and an oversized one', async () => {
    const dir = join(work, 'hostile');
    const head = (name: string, version = '"1.0"') => `name: ${name}\nversion: ${version}\nrelease: 1\nhomepage: https://example.org\nlicense: MIT\n`;
    const files: Record<string, string | Buffer> = {
      'dots/stone.yaml': head('../evil'),
      'slash/stone.yaml': head('a/b'),
      'shell/stone.yaml': head('"$(touch x)"'),
      'beta/stone.yaml': head('beta', '"1.0 beta"'),
      'binary/stone.yaml': Buffer.concat([Buffer.from(head('binary')), Buffer.from([0xff, 0xfe])]),
      'huge/stone.yaml': `${head('huge')}description: ${'x'.repeat(2 * 1024 * 1024)}\n`,
    };
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(dir, path, '..'), { recursive: true });
      await writeFile(join(dir, path), content);
    }
    const { code, out } = await run('recipe', 'check', dir, '--json');
    expect(code).toBe(1);
    const errors = Object.fromEntries(JSON.parse(out).invalid.map((i: { path: string; errors: string[] }) => [i.path.slice(dir.length + 1), i.errors.join('\n')]));
    expect(errors).toEqual({
      'beta/stone.yaml': expect.stringMatching(/:2:10 version: the version "1\.0 beta" may hold only letters, digits/),
      'binary/stone.yaml': expect.stringContaining(`:6:1: not UTF-8 at byte ${head('binary').length} (0xff)`),
      'dots/stone.yaml': expect.stringMatching(/:1:7 name: the name "\.\.\/evil" may hold only/),
      'huge/stone.yaml': expect.stringMatching(/the file is \d+ bytes, more than the 1048576-byte limit for a recipe: not read/),
      'shell/stone.yaml': expect.stringMatching(/:1:7 name: the name "\$\(touch x\)" may hold only/),
      'slash/stone.yaml': expect.stringMatching(/:1:7 name: the name "a\/b" may hold only/),
    });
  });
});

describe('the installed summit command', () => {
  it('runs through bin/summit.js (compiled by npm run build)', async () => {
    const { stdout } = await promisify(execFile)('node', [join(ROOT, 'bin', 'summit.js'), 'stone', 'inspect', join(STONES, 'pineapple-1-1-1-x86_64.stone'), '--json']);
    expect(JSON.parse(stdout).meta.name).toBe('pineapple');
  });
});
