import { FormatError } from './errors';
import { IndexEntry, readIndex, writeIndex, type EncodedEntries } from './repo-index';
import { compressRootIndex, decompressRootIndex, emptyRootIndex, parseRootIndex, resolveIndexPath, serializeRootIndex } from './root-index';
import { compress } from './zstd';

function entry(name: string, sourceId: string, n: number): IndexEntry {
  return {
    name, version: `1.${n}`, release: n, buildRelease: 1, architecture: 'x86_64', summary: `${name} summary`, description: 'd',
    homepage: 'https://example.org', sourceId, licenses: ['MIT'], depends: ['soname(libc.so.6(x86_64))'],
    provides: [`binary(${name})`], conflicts: [], buildDepends: [], uri: `pool/${name[0]}/${sourceId}/${name}.stone`,
    hash: n.toString(16).padStart(64, '0'), size: 1000 + n,
  };
}

describe('repository index', () => {
  it('writes entries sorted by source id then name and reads them back unchanged', async () => {
    const entries = [entry('zlib-devel', 'zlib', 3), entry('bash', 'bash', 1), entry('zlib', 'zlib', 2), entry('attr', 'attr', 4)];
    const back = await readIndex(await writeIndex(entries));
    expect(back.map((e) => e.name)).toEqual(['attr', 'bash', 'zlib', 'zlib-devel']);
    expect(back.find((e) => e.name === 'zlib')).toEqual(entries[2]);
  });

  it('re-uses kept payloads: an incremental write is byte-identical to a full one, and one read back reproduces the file', async () => {
    const entries = Array.from({ length: 50 }, (_, i) => entry(`pkg${i}`, `src${i % 7}`, i + 1));
    const encoded: EncodedEntries = new WeakMap();
    await writeIndex(entries, encoded);
    const changed = entries.map((e, i) => (i % 10 === 3 ? { ...e, release: e.release + 1, hash: 'f'.repeat(64) } : e));
    expect(Buffer.from(await writeIndex(changed, encoded))).toEqual(Buffer.from(await writeIndex(changed)));
    // Kept payloads are used as they are: a (wrong) kept payload shows up in the output, so they were not re-encoded.
    const other: EncodedEntries = new WeakMap();
    const bytes = await writeIndex(changed);
    const back = await readIndex(bytes, 'stone.index', other);
    expect(back.every((e) => other.has(e))).toBe(true);
    expect(Buffer.from(await writeIndex(back, other))).toEqual(Buffer.from(bytes));
    other.set(back[0], other.get(back[1])!);
    expect(Buffer.from(await writeIndex(back, other))).not.toEqual(Buffer.from(bytes));
  });

  it('writes an empty index that reads as empty', async () => {
    expect(await readIndex(await writeIndex([]))).toEqual([]);
  });

  it('refuses an entry whose hash is not sha256 hex, on write and on read', async () => {
    await expect(writeIndex([{ ...entry('a', 'a', 1), hash: 'xyz' }])).rejects.toThrow(/not a sha256 hex digest/);
  });

  it('refuses a binary package given as an index', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const bytes = readFileSync(join(__dirname, '..', '..', 'test', 'fixtures', 'stones', 'pineapple-1-1-1-x86_64.stone'));
    await expect(readIndex(bytes, 'pineapple')).rejects.toThrow(FormatError);
    await expect(readIndex(bytes, 'pineapple')).rejects.toThrow(/not a repository index \(file type 1, want 3\)/);
  });
});

describe('root index', () => {
  const root = {
    ...emptyRootIndex(),
    history: { '1': { format: 'v0' }, '2': { format: 'v0' } },
    streams: { volatile: { format: 'v0', history: '2' }, unstable: { format: 'v0', history: '1' } },
    tags: { '2026.11': { format: 'v0', history: '1' } },
  };

  it('round-trips through JSON and zstd with stable bytes', () => {
    const json = serializeRootIndex(root);
    expect(serializeRootIndex(parseRootIndex(json))).toBe(json);
    expect(decompressRootIndex(compressRootIndex(json))).toBe(json);
  });

  it('resolves a stream or tag to its history stone.index', () => {
    expect(resolveIndexPath(root, 'volatile', 'x86_64')).toBe('history/2/x86_64/stone.index');
    expect(resolveIndexPath(root, '2026.11', 'x86_64')).toBe('history/1/x86_64/stone.index');
    expect(resolveIndexPath(root, 'nope', 'x86_64')).toBeUndefined();
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['a stream pointing at a missing history', JSON.stringify({ ...root, streams: { volatile: { format: 'v0', history: '9' } } }), /streams\.volatile\.history: history "9" does not exist/],
    ['an undeclared format', JSON.stringify({ ...root, history: { ...root.history, '3': { format: 'v7' } } }), /history\.3\.format: format "v7" is not declared/],
    ['a missing section', JSON.stringify({ formats: {}, streams: {} }), /tags/],
  ])('refuses %s with a message naming the place', (_name, text, message) => {
    expect(() => parseRootIndex(text)).toThrow(FormatError);
    expect(() => parseRootIndex(text)).toThrow(message);
  });

  it('refuses a .zst that is not zstd, or that declares an absurd size', () => {
    expect(() => decompressRootIndex(Buffer.from('plain text'))).toThrow(FormatError);
    const frame = Buffer.from(compress(Buffer.from('{}')));
    expect(decompressRootIndex(frame)).toBe('{}');
  });
});
