import * as binding from 'zstd-napi/binding';
import { FormatError } from './errors';

/**
 * zstd through the native libzstd binding (zstd-napi). We use the low-level contexts rather than the
 * convenience wrappers so that decompression is always bounded by the size the container declares: a payload
 * header claiming 2^60 bytes, or a frame that inflates past its declared size, is an error, never an allocation.
 */

/** boulder compresses payloads at zstd's default level; the level only changes stored bytes, never plain ones. */
export const DEFAULT_LEVEL = 3;

const OUT_CHUNK = binding.dStreamOutSize();

function zstdError(where: string, err: unknown): FormatError {
  const message = err instanceof Error ? err.message : String(err);
  return new FormatError('stone', where, `zstd: ${message}`);
}

/**
 * Decompress `stored` into exactly `plainSize` bytes. The caller has already checked plainSize against its own
 * ceiling; here we make sure the frame agrees with it in both directions.
 */
/** Shared like the CCtx below: a fresh DCtx per small payload cost more than decoding it (index reads). */
let sharedDctx: binding.DCtx | undefined;

export function decompressExact(stored: Uint8Array, plainSize: number, where: string): Uint8Array {
  const out = new Uint8Array(plainSize);
  const dctx = (sharedDctx ??= new binding.DCtx());
  // A previous call may have stopped mid-frame on bad input: start every call from a clean session.
  dctx.reset(binding.ResetDirective.sessionOnly);
  let produced = 0;
  let consumed = 0;
  let pending = 1;
  try {
    while (consumed < stored.byteLength || pending !== 0) {
      // One spare byte of room lets us notice a frame that inflates past the declared size.
      const room = produced < plainSize ? out.subarray(produced) : new Uint8Array(1);
      const [ret, dst, src] = dctx.decompressStream(room, stored.subarray(consumed));
      if (produced >= plainSize && dst > 0) {
        throw new FormatError('stone', where, `decompresses to more than its declared plain size ${plainSize}`);
      }
      produced += dst;
      consumed += src;
      pending = ret;
      if (dst === 0 && src === 0) break;
    }
  } catch (err) {
    throw err instanceof FormatError ? err : zstdError(where, err);
  }
  if (pending !== 0) throw new FormatError('stone', where, 'zstd frame is truncated');
  if (produced !== plainSize) {
    throw new FormatError('stone', where, `decompresses to ${produced} bytes, header declares ${plainSize}`);
  }
  return out;
}

/** Incremental decompression for payloads too large to hold: feed stored chunks, get plain chunks back. */
export class ZstdStreamDecoder {
  private readonly dctx = new binding.DCtx();
  private pending = 0;
  produced = 0;

  constructor(private readonly where: string) {}

  *push(chunk: Uint8Array): Generator<Uint8Array> {
    let consumed = 0;
    try {
      while (consumed < chunk.byteLength || this.pending > 0) {
        const out = new Uint8Array(OUT_CHUNK);
        const [ret, dst, src] = this.dctx.decompressStream(out, chunk.subarray(consumed));
        consumed += src;
        this.pending = ret;
        if (dst > 0) {
          this.produced += dst;
          yield out.subarray(0, dst);
        }
        if (dst === 0 && src === 0) break;
        // ret is a hint of input wanted, not output pending, once the output buffer was not filled.
        if (dst < OUT_CHUNK && consumed >= chunk.byteLength) break;
      }
    } catch (err) {
      throw zstdError(this.where, err);
    }
  }

  /** Call once all stored bytes were pushed: a frame cut short is an error. */
  end(): void {
    if (this.pending !== 0) throw new FormatError('stone', this.where, 'zstd frame is truncated');
  }
}

/**
 * One compression context for every one-shot call: creating a CCtx allocates its tables anew, which dominated
 * writing an index of 10,000 small payloads. Calls are synchronous, so sharing it is safe.
 */
let sharedCctx: binding.CCtx | undefined;
const SCRATCH_MAX = 1 << 20;
let compressScratch = new Uint8Array(16 * 1024);
let sharedLevel: number | undefined;

export function compress(plain: Uint8Array, level = DEFAULT_LEVEL): Uint8Array {
  const cctx = (sharedCctx ??= new binding.CCtx());
  if (level !== sharedLevel) {
    cctx.reset(binding.ResetDirective.sessionAndParameters);
    cctx.setParameter(binding.CParameter.compressionLevel, level);
    sharedLevel = level;
  }
  // Small inputs (index entries) compress into one reused buffer and are copied out at their exact size, rather
  // than each keeping a compressBound-sized allocation alive behind a subarray.
  const bound = binding.compressBound(plain.byteLength);
  if (bound > SCRATCH_MAX) {
    const out = new Uint8Array(bound);
    return out.subarray(0, cctx.compress2(out, plain));
  }
  if (compressScratch.byteLength < bound) compressScratch = new Uint8Array(Math.max(bound, compressScratch.byteLength * 2));
  const n = cctx.compress2(compressScratch, plain);
  return compressScratch.slice(0, n);
}

/** Incremental compression into one zstd frame, for content payloads built file by file. */
export class ZstdStreamEncoder {
  private readonly cctx = new binding.CCtx();
  private readonly outSize = binding.cStreamOutSize();

  constructor(level = DEFAULT_LEVEL) {
    this.cctx.setParameter(binding.CParameter.compressionLevel, level);
  }

  private *run(input: Uint8Array, op: number): Generator<Uint8Array> {
    let consumed = 0;
    for (;;) {
      const out = new Uint8Array(this.outSize);
      const [remaining, dst, src] = this.cctx.compressStream2(out, input.subarray(consumed), op);
      consumed += src;
      if (dst > 0) yield out.subarray(0, dst);
      const inputDone = consumed >= input.byteLength;
      if (op === binding.EndDirective.continue ? inputDone : inputDone && remaining === 0) return;
    }
  }

  write(chunk: Uint8Array): Generator<Uint8Array> {
    return this.run(chunk, binding.EndDirective.continue);
  }

  end(): Generator<Uint8Array> {
    return this.run(new Uint8Array(0), binding.EndDirective.end);
  }
}
