import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError } from '../core/formats/errors';
import { xxh3_64Of } from '../core/formats/hash';
import { compress } from '../core/formats/zstd';
import { readIndex } from '../core/formats/repo-index';
import { readManifest } from '../core/formats/manifest';
import { PayloadKind } from '../core/formats/stone/header';
import { metaFromRecords } from '../core/formats/stone/meta';
import { describePackage } from '../core/formats/stone/package';
import { StoneReader } from '../core/formats/stone/reader';
import { bufferSource } from '../core/formats/stone/source';
import { encodeRecordPayload, encodeStone, EncodedPayload } from '../core/formats/stone/writer';
import { RECIPES_NANO, STONES } from './helpers/fixtures';
import { prng, randInt } from '../core/prng';

/**
 * Seeded fuzzing of the stone readers: random mutations of real files, each of which must either parse or fail
 * with our FormatError — never another exception, never a hang, never an allocation on a header's word.
 * Two kinds of mutation: raw byte damage (mostly caught by checksums and bounds), and damage to the plain bytes
 * of a payload re-wrapped with a valid checksum, which reaches the record decoders behind the checksum.
 */
const SEED = 0x5eed2026;
const RAW_ROUNDS = 7000;
const REWRAPPED_ROUNDS = 3500;

const samples = [
  readFileSync(join(STONES, 'pineapple-1-1-1-x86_64.stone')),
  readFileSync(join(STONES, 'italian-pizza-1-1-1-x86_64.stone')),
  readFileSync(join(RECIPES_NANO, 'manifest.x86_64.bin')),
];

type Outcome = 'ok' | 'format-error';

async function consume(bytes: Uint8Array): Promise<Outcome> {
  try {
    const reader = await StoneReader.open(bufferSource(bytes), 'fuzz.stone');
    if (reader.header.fileType === 1) {
      describePackage(reader);
      for await (const _ of reader.contentChunks()) void _;
    } else if (reader.header.fileType === 4) {
      await readManifest(bytes, 'fuzz.bin');
    } else if (reader.header.fileType === 3) {
      await readIndex(bytes, 'fuzz.index');
    } else {
      for (const m of reader.metaPayloads()) metaFromRecords(m, 'fuzz');
    }
    return 'ok';
  } catch (err) {
    if (err instanceof FormatError) return 'format-error';
    throw new Error(`not a FormatError: ${(err as Error)?.stack ?? String(err)}`);
  }
}

function mutate(rand: () => number, input: Uint8Array): Uint8Array {
  const b = Buffer.from(input);
  switch (randInt(rand, 6)) {
    case 0: { // flip bits
      for (let i = 1 + randInt(rand, 4); i > 0; i--) b[randInt(rand, b.length)] ^= 1 << randInt(rand, 8);
      return b;
    }
    case 1: // truncate
      return b.subarray(0, randInt(rand, b.length));
    case 2: { // overwrite a header field region with extreme values
      const at = randInt(rand, Math.min(b.length, 32 + 32 * 4));
      const v = [0x00, 0xff, 0x7f, 0x80][randInt(rand, 4)];
      b.fill(v, at, Math.min(b.length, at + 1 + randInt(rand, 8)));
      return b;
    }
    case 3: { // insert random bytes
      const at = randInt(rand, b.length);
      const extra = Buffer.from(Array.from({ length: 1 + randInt(rand, 16) }, () => randInt(rand, 256)));
      return Buffer.concat([b.subarray(0, at), extra, b.subarray(at)]);
    }
    case 4: { // delete a range
      const at = randInt(rand, b.length);
      return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + randInt(rand, 32)))]);
    }
    default: { // random sizes in a payload header
      const headerAt = 32;
      if (b.length >= headerAt + 16) b.writeBigUInt64BE(BigInt(randInt(rand, 2 ** 31)) * BigInt(1 + randInt(rand, 2 ** 20)), headerAt + 8 * randInt(rand, 2));
      return b;
    }
  }
}

/** Damage the plain bytes of one record payload, then re-wrap it with a correct checksum and sizes. */
async function mutateBehindChecksum(rand: () => number, input: Uint8Array): Promise<Uint8Array> {
  const reader = await StoneReader.open(bufferSource(input), 'sample');
  const payloads: EncodedPayload[] = [];
  const victim = randInt(rand, reader.payloads.length);
  for (const p of reader.payloads) {
    if (!p.decoded) {
      const stored = await bufferSource(input).read(p.offset, p.header.storedSize);
      payloads.push({ header: p.header, body: stored });
      continue;
    }
    const enc = await encodeRecordPayload(p.decoded);
    if (p.position !== victim) {
      payloads.push(enc);
      continue;
    }
    const plain = Buffer.from(await reader.plainBytes(p));
    const damaged = mutate(rand, plain);
    const rewrapped = await encodeRecordPayload({ kind: PayloadKind.Attributes, records: [] }); // header template
    const body = compress(damaged);
    payloads.push({
      header: { ...rewrapped.header, kind: p.header.kind, numRecords: rand() < 0.8 ? p.header.numRecords : randInt(rand, 1 << 20), plainSize: damaged.byteLength, storedSize: body.byteLength, checksum: await xxh3_64Of(body) },
      body,
    });
  }
  return encodeStone(reader.header.fileType, payloads);
}

describe('stone readers under seeded fuzzing', () => {
  it(`survive ${RAW_ROUNDS} raw mutations of real stones, manifests and indexes`, async () => {
    const rand = prng(SEED);
    const counts: Record<Outcome, number> = { ok: 0, 'format-error': 0 };
    for (let i = 0; i < RAW_ROUNDS; i++) {
      counts[await consume(mutate(rand, samples[i % samples.length]))]++;
    }
    console.log(`stone fuzz (raw, seed ${SEED}): ${JSON.stringify(counts)}`);
    expect(counts.ok + counts['format-error']).toBe(RAW_ROUNDS);
    expect(counts['format-error']).toBeGreaterThan(RAW_ROUNDS / 2);
  });

  it(`survive ${REWRAPPED_ROUNDS} mutations of payload records behind a valid checksum`, async () => {
    const rand = prng(SEED + 1);
    const counts: Record<Outcome, number> = { ok: 0, 'format-error': 0 };
    for (let i = 0; i < REWRAPPED_ROUNDS; i++) {
      counts[await consume(await mutateBehindChecksum(rand, samples[i % samples.length]))]++;
    }
    console.log(`stone fuzz (behind checksum, seed ${SEED + 1}): ${JSON.stringify(counts)}`);
    expect(counts.ok + counts['format-error']).toBe(REWRAPPED_ROUNDS);
    // Both outcomes must occur, or the mutations are not reaching the decoders.
    expect(counts.ok).toBeGreaterThan(0);
    expect(counts['format-error']).toBeGreaterThan(0);
  });
});
