/**
 * Random access to the bytes of a stone. The reader asks only for ranges it needs, so a gigabyte package is
 * never held whole: a file handle backs this in production, a buffer in tests.
 */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function bufferSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.byteLength,
    read: async (offset, length) => bytes.subarray(offset, Math.min(offset + length, bytes.byteLength)),
  };
}
