import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ByteWriter } from '../bytes';
import { FormatError } from '../errors';
import { xxh3_64Of } from '../hash';
import { compress } from '../zstd';
import { describePackage } from './package';
import { Compression, encodePayloadHeader, FileType, PayloadKind } from './header';
import { StoneReader } from './reader';
import { bufferSource } from './source';
import { encodeStone } from './writer';

const STONES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'stones');
const pineapple = readFileSync(join(STONES, 'pineapple-1-1-1-x86_64.stone'));

async function open(bytes: Uint8Array): Promise<StoneReader> {
  return StoneReader.open(bufferSource(bytes), 'test.stone');
}

async function readAll(bytes: Uint8Array): Promise<void> {
  const r = await open(bytes);
  for await (const _ of r.contentChunks()) void _;
}

async function payload(kind: PayloadKind, plain: Uint8Array, records: number, opts: { plainSize?: number } = {}): Promise<Uint8Array> {
  const body = compress(plain);
  const header = encodePayloadHeader({
    storedSize: body.byteLength, plainSize: opts.plainSize ?? plain.byteLength, checksum: await xxh3_64Of(body),
    numRecords: records, version: 1, kind, compression: Compression.Zstd,
  });
  return new ByteWriter().bytes(header).bytes(body).finish();
}

function stoneOf(fileType: FileType, ...payloads: Uint8Array[]): Uint8Array {
  const head = encodeStone(fileType, []);
  head[5] = payloads.length; // numPayloads (u16 at 4..6)
  const w = new ByteWriter().bytes(head);
  for (const p of payloads) w.bytes(p);
  return w.finish();
}

function metaRecord(tag: number, primitive: number, value: Uint8Array): Uint8Array {
  return new ByteWriter().u32(value.byteLength).u16(tag).u8(primitive).u8(0).bytes(value).finish();
}

const expectFormatError = async (p: Promise<unknown>, message: RegExp): Promise<void> => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(FormatError);
  expect((err as Error).message).toMatch(message);
};

describe('stone reader on bad input', () => {
  it('reads the unmodified fixture', async () => {
    await expect(readAll(pineapple)).resolves.toBeUndefined();
  });

  it.each([
    ['wrong magic', (b: Buffer) => { b[1] = 0x78; }, /not a stone file: magic/],
    ['bad integrity bytes', (b: Buffer) => { b[10] = 9; }, /integrity bytes are corrupt/],
    ['unknown file type', (b: Buffer) => { b[27] = 9; }, /unknown file type 9/],
    ['format version 2', (b: Buffer) => { b[31] = 2; }, /unsupported stone format version 2/],
    ['unknown payload kind', (b: Buffer) => { b[32 + 30] = 42; }, /unknown payload kind 42/],
    ['unknown compression', (b: Buffer) => { b[32 + 31] = 7; }, /unknown compression 7/],
    ['a flipped byte in the meta payload', (b: Buffer) => { b[32 + 32 + 20] ^= 0xff; }, /payload 0 \(meta\).*checksum mismatch/],
    ['a flipped byte in the content payload', (b: Buffer) => { b[b.length - 2] ^= 0x10; }, /payload 3 \(content\).*checksum mismatch/],
    ['a stored size past the end', (b: Buffer) => { b.writeBigUInt64BE(1n << 40n, 32); }, /truncated: stored size/],
    ['a plain size of 2^60', (b: Buffer) => { b.writeBigUInt64BE(1n << 60n, 40); }, /too large|exceeds/],
    ['one payload too many announced', (b: Buffer) => { b[5] = 5; }, /truncated: payload 4 header/],
    ['trailing garbage', (b: Buffer) => Buffer.concat([b, Buffer.from('junk')]), /unexpected bytes after the last payload/],
  ] as Array<[string, (b: Buffer) => Buffer | void, RegExp]>)('refuses %s with a FormatError', async (_name, mutate, message) => {
    const copy = Buffer.from(pineapple);
    await expectFormatError(readAll(mutate(copy) ?? copy), message);
  });

  it.each([1, 10, 31, 32, 33, 63, 64, 100, pineapple.length - 1])('refuses the fixture truncated to %i bytes', async (n) => {
    await expectFormatError(readAll(pineapple.subarray(0, n)), /truncated|too short/);
  });

  it('refuses a meta record with an unknown tag', async () => {
    const bytes = stoneOf(FileType.Binary, await payload(PayloadKind.Meta, metaRecord(99, 9, Buffer.from('x\0')), 1));
    await expectFormatError(open(bytes), /unknown meta tag 99/);
  });

  it('refuses a meta record with an unknown primitive', async () => {
    const bytes = stoneOf(FileType.Binary, await payload(PayloadKind.Meta, metaRecord(1, 77, Buffer.from('x\0')), 1));
    await expectFormatError(open(bytes), /unknown primitive 77/);
  });

  it('refuses an integer record whose length is not its size', async () => {
    const bytes = stoneOf(FileType.Binary, await payload(PayloadKind.Meta, metaRecord(11, 8, Buffer.alloc(3)), 1));
    await expectFormatError(open(bytes), /integer primitive 8 with length 3/);
  });

  it('refuses a record claiming more bytes than its payload holds', async () => {
    const rec = new ByteWriter().u32(0xffffff00).u16(1).u8(9).u8(0).bytes(Buffer.from('abc')).finish();
    const bytes = stoneOf(FileType.Binary, await payload(PayloadKind.Meta, rec, 1));
    await expectFormatError(open(bytes), /truncated: meta record \(tag 1\) value/);
  });

  it('refuses a record count larger than the records present', async () => {
    const bytes = stoneOf(FileType.Binary, await payload(PayloadKind.Meta, metaRecord(1, 9, Buffer.from('x\0')), 4_000_000_000));
    await expectFormatError(open(bytes), /truncated/);
  });

  it('refuses a payload that inflates past its declared plain size', async () => {
    const bytes = stoneOf(FileType.Binary, await payload(PayloadKind.Meta, Buffer.alloc(4096), 0, { plainSize: 16 }));
    await expectFormatError(open(bytes), /more than its declared plain size 16/);
  });

  it('refuses a payload that inflates to less than its declared plain size', async () => {
    const bytes = stoneOf(FileType.Binary, await payload(PayloadKind.Meta, Buffer.alloc(16), 0, { plainSize: 4096 }));
    await expectFormatError(open(bytes), /decompresses to 16 bytes, header declares 4096/);
  });

  it('refuses a package missing the fields moss requires', async () => {
    const bytes = stoneOf(FileType.Binary, await payload(PayloadKind.Meta, metaRecord(1, 9, Buffer.from('x\0')), 1));
    await expectFormatError(open(bytes).then(describePackage), /missing required field\(s\): version, release/);
  });

});
