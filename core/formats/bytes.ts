import { FormatError } from './errors';

/**
 * A bounds-checked big-endian cursor over bytes. Every read that would run past the end throws a FormatError
 * naming the place, so a truncated or lying record can never read garbage or allocate on its word alone.
 */
export class ByteReader {
  private readonly view: DataView;
  offset = 0;

  constructor(
    readonly bytes: Uint8Array,
    private readonly format: string,
    private readonly where: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.byteLength - this.offset;
  }

  fail(problem: string): never {
    throw new FormatError(this.format, `${this.where} at byte ${this.offset}`, problem);
  }

  private need(n: number, what: string): void {
    if (n > this.remaining) this.fail(`truncated: ${what} needs ${n} bytes, ${this.remaining} left`);
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.view.getUint8(this.offset++);
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const v = this.view.getUint16(this.offset);
    this.offset += 2;
    return v;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.offset);
    this.offset += 4;
    return v;
  }

  u64(what = 'u64'): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.offset);
    this.offset += 8;
    return v;
  }

  /** A u64 that must fit in a JS number (sizes, offsets): anything above 2^53 is refused, not rounded. */
  u64n(what = 'u64'): number {
    const v = this.u64(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} ${v} is too large`);
    return Number(v);
  }

  /** A view (not a copy) of the next n bytes. */
  take(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  skip(n: number, what = 'padding'): void {
    this.need(n, what);
    this.offset += n;
  }
}

/** A growable big-endian byte sink. */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  private ensure(n: number): void {
    if (this.length + n <= this.buf.byteLength) return;
    let size = this.buf.byteLength * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): this {
    this.ensure(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    this.view.setUint16(this.length, v);
    this.length += 2;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.length, v);
    this.length += 4;
    return this;
  }

  u64(v: bigint | number): this {
    this.ensure(8);
    this.view.setBigUint64(this.length, BigInt(v));
    this.length += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.byteLength);
    this.buf.set(b, this.length);
    this.length += b.byteLength;
    return this;
  }

  zeros(n: number): this {
    this.ensure(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
    return this;
  }

  /**
   * UTF-8 of `text` written in place (no intermediate array), optionally followed by `nulPad` zero bytes;
   * returns the number of bytes written, text and padding.
   */
  utf8(text: string, nulPad = 0): number {
    // UTF-16 code units never take more than three UTF-8 bytes each.
    this.ensure(text.length * 3 + nulPad);
    const { written } = utf8Encoder.encodeInto(text, this.buf.subarray(this.length));
    this.buf.fill(0, this.length + written, this.length + written + nulPad);
    this.length += written + nulPad;
    return written + nulPad;
  }

  /** Overwrite a u32 already written at `at` (a length known only after its value was written). */
  setU32(at: number, v: number): this {
    this.view.setUint32(at, v);
    return this;
  }

  /** The bytes written so far, as a view that the next write may change (for scratch writers). */
  written(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  /** Start over, keeping the buffer (a scratch writer reused for many small encodings). */
  reset(): this {
    this.length = 0;
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

export function decodeUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

export function encodeUtf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
