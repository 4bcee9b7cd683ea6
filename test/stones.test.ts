import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { xxh3_128Of } from '../core/formats/hash';
import { toHex } from '../core/formats/bytes';
import { parseManifestJsonc } from '../core/formats/manifest';
import { PayloadKind } from '../core/formats/stone/header';
import { describePackage } from '../core/formats/stone/package';
import { StoneReader } from '../core/formats/stone/reader';
import { bufferSource } from '../core/formats/stone/source';
import { ContentEncoder, encodeRecordPayload, encodeRecordsPlain, encodeStone } from '../core/formats/stone/writer';
import { extractPackage } from '../packaging/extract';
import { withStoneFile } from '../packaging/open-stone';
import { RECIPES_NANO, STONES } from './helpers/fixtures';
import { CORPUS_STONES, corpusAbsent, testWithCorpus } from './support/corpus';

const NAME = /^(.+)-([^-]+)-(\d+)-(\d+)-([^-]+)\.stone$/;

async function fixtureStones(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.stone')).sort();
}

/** Kept in the repository (test/fixtures/stones). */
const IN_REPO = ['bash-completion-2.11-1-1-x86_64.stone', 'italian-pizza-1-1-1-x86_64.stone', 'nano-8.4-35-1-x86_64.stone', 'pineapple-1-1-1-x86_64.stone'];
/** Read from the corpus (SUMMIT_CORPUS_DIR/stones) when it is there: more releases of nano, and its dbginfo. */
const IN_CORPUS = ['nano-8.3-33-1-x86_64.stone', 'nano-8.4-34-1-x86_64.stone', 'nano-dbginfo-8.3-33-1-x86_64.stone', 'nano-dbginfo-8.4-34-1-x86_64.stone', 'nano-dbginfo-8.4-35-1-x86_64.stone'];
const AVAILABLE = corpusAbsent(CORPUS_STONES) === undefined ? [...IN_REPO, ...IN_CORPUS].sort() : IN_REPO;
const stonePath = (file: string): string => join(IN_REPO.includes(file) ? STONES : CORPUS_STONES, file);

describe('real moss packages', () => {
  it('finds the 4 stones kept in the repository', async () => {
    expect(await fixtureStones(STONES)).toEqual(IN_REPO);
  });

  testWithCorpus(CORPUS_STONES)('finds the 5 more stones of the corpus', async () => {
    expect(await fixtureStones(CORPUS_STONES)).toEqual(expect.arrayContaining(IN_CORPUS));
  });

  it.each(AVAILABLE)('reads %s with metadata matching its file name', async (file) => {
    const [, name, version, release, buildRelease, arch] = NAME.exec(file)!;
    const pkg = await withStoneFile(stonePath(file), async (r) => describePackage(r));
    expect(pkg.meta).toMatchObject({ name, version, release: Number(release), buildRelease: Number(buildRelease), architecture: arch });
    expect(pkg.files.length).toBeGreaterThan(0);
  });

  it('gives the nano packages the depends and provides of the nano build manifest', async () => {
    const jsonc = parseManifestJsonc(await readFile(join(RECIPES_NANO, 'manifest.x86_64.jsonc'), 'utf8'), 'nano jsonc');
    for (const file of AVAILABLE.filter((f) => f.startsWith('nano-8'))) {
      const { meta } = await withStoneFile(stonePath(file), async (r) => describePackage(r));
      expect([...meta.depends].sort()).toEqual([...jsonc.nano.depends].sort());
      expect([...meta.provides].sort()).toEqual([...jsonc.nano.provides].sort());
    }
  });

  it.each(['nano-8.4-35-1-x86_64.stone', 'bash-completion-2.11-1-1-x86_64.stone', 'pineapple-1-1-1-x86_64.stone'])(
    'extracts %s into files whose XXH3-128 equal the layout digests',
    async (file) => {
      const dir = await mkdtemp(join(tmpdir(), 'summit-extract-'));
      try {
        const { pkg, result } = await withStoneFile(join(STONES, file), async (r) => ({ pkg: describePackage(r), result: await extractPackage(r, dir) }));
        const regular = pkg.files.filter((f) => f.type === 'regular');
        expect(result.files).toBe(regular.length);
        for (const f of regular) {
          const bytes = await readFile(join(dir, f.path));
          expect(bytes.byteLength).toBe(f.size);
          expect(toHex(await xxh3_128Of(bytes))).toBe(f.digest);
          expect((await lstat(join(dir, f.path))).mode & 0o7777).toBe(f.mode & 0o7777);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );

  it.each(AVAILABLE)(
    'writes %s back with payloads whose decompressed bytes are identical',
    async (file) => {
      const original = await readFile(stonePath(file));
      const reader = await StoneReader.open(bufferSource(original), file);
      const payloads = [];
      const plainOriginal: Uint8Array[] = [];
      for (const p of reader.payloads) {
        if (p.decoded) {
          plainOriginal.push(await reader.plainBytes(p));
          // Re-encode from the decoded records, not from the original bytes.
          expect(Buffer.from(encodeRecordsPlain(p.decoded)).equals(Buffer.from(plainOriginal.at(-1)!))).toBe(true);
          payloads.push(await encodeRecordPayload(p.decoded));
        } else {
          const enc = await ContentEncoder.create();
          const stored: Uint8Array[] = [];
          const plain: Uint8Array[] = [];
          for await (const chunk of reader.contentChunks()) {
            plain.push(chunk);
            stored.push(...enc.write(chunk));
          }
          const { tail, header } = enc.end();
          stored.push(...tail);
          plainOriginal.push(Buffer.concat(plain));
          payloads.push({ header, body: Buffer.concat(stored) });
        }
      }
      const rewritten = encodeStone(reader.header.fileType, payloads);
      const back = await StoneReader.open(bufferSource(rewritten), `${file} (rewritten)`);
      expect(back.payloads.map((p) => p.header.kind)).toEqual(reader.payloads.map((p) => p.header.kind));
      for (const [i, p] of back.payloads.entries()) {
        let plain: Uint8Array;
        if (p.header.kind === PayloadKind.Content) {
          const chunks: Uint8Array[] = [];
          for await (const c of back.contentChunks()) chunks.push(c);
          plain = Buffer.concat(chunks);
        } else {
          plain = await back.plainBytes(p);
        }
        expect(Buffer.from(plain).equals(Buffer.from(plainOriginal[i]))).toBe(true);
      }
    },
  );
});
