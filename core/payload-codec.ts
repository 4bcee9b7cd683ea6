import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';

/**
 * Encryption of Temporal payloads (AES-256-GCM), so that what Temporal stores — build results with their artefact
 * tokens, activity inputs, failure details — is not readable by whoever reads the Temporal database or its API.
 *
 * Pure computation over node:crypto (no files, no network), hence in core/: the workers, the API's client and the
 * codec endpoint all use this one class; reading the keys from the configuration is I/O and lives in
 * workers/payload-keys.ts.
 *
 * Every payload is encrypted, not only those known to hold a secret: a codec cannot tell which JSON field is
 * secret, and a field added later would leak silently. Search attributes are not payload-coded by Temporal, so the
 * UI's filters keep working; summaries and details need the codec endpoint to be read.
 *
 * Wire form of an encrypted payload: metadata `encoding: binary/encrypted`, `encryption-key-id: <id>`; data is
 * 12-byte IV ‖ ciphertext ‖ 16-byte GCM tag. The plaintext is the original payload, metadata and data, in a small
 * length-prefixed binary form (see serialise), so decoding restores it exactly and a payload grows by only its
 * metadata's size plus 28 bytes + 4 per metadata entry. The key id is bound as additional authenticated data: a
 * payload relabelled with another key id fails to decrypt rather than decrypting under the wrong key.
 */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export interface PayloadKey {
  /** Names the key in each payload's metadata, so a rotated-out key still decodes what it encoded. */
  id: string;
  key: Uint8Array;
}

export class PayloadCodecError extends Error {
  override readonly name = 'PayloadCodecError';
}

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Parses `id:base64key[,id:base64key…]` (commas or newlines between entries): the first key encrypts, every
 * key decrypts. `where` names the setting or file in errors; a key's value never appears in a message.
 */
export function parsePayloadKeys(text: string, where: string): PayloadKey[] {
  const entries = text.split(/[,\n]/).map((s) => s.trim()).filter((s) => s && !s.startsWith('#'));
  if (entries.length === 0) throw new PayloadCodecError(`${where}: no payload key (expected id:base64key, e.g. k1:<32 random bytes in base64>)`);
  const seen = new Set<string>();
  return entries.map((entry, i) => {
    const colon = entry.indexOf(':');
    const id = colon < 0 ? '' : entry.slice(0, colon);
    if (!KEY_ID.test(id)) throw new PayloadCodecError(`${where}: entry ${i + 1} must be id:base64key with an id of letters, digits, . _ - (at most 64)`);
    if (seen.has(id)) throw new PayloadCodecError(`${where}: key id "${id}" appears twice`);
    seen.add(id);
    const key = Buffer.from(entry.slice(colon + 1), 'base64');
    if (key.length !== KEY_BYTES) throw new PayloadCodecError(`${where}: key "${id}" is ${key.length} bytes once base64-decoded; AES-256 needs ${KEY_BYTES}`);
    return { id, key };
  });
}

/** A new key entry in the form parsePayloadKeys reads. */
export function generatePayloadKey(id = `k${new Date().toISOString().slice(0, 10).replace(/-/g, '')}`): string {
  return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

/**
 * `u16 entries`, then per metadata entry `u16 key length, key (UTF-8), u32 value length, value`, then the data to
 * the end. Binary rather than JSON so that the data is not inflated by base64.
 */
function serialise(payload: Payload): Buffer {
  const entries = Object.entries(payload.metadata ?? {});
  const parts: Buffer[] = [];
  const head = Buffer.alloc(2);
  head.writeUInt16BE(entries.length);
  parts.push(head);
  for (const [key, value] of entries) {
    const k = Buffer.from(key, 'utf8');
    const v = Buffer.from(value ?? new Uint8Array());
    const lengths = Buffer.alloc(6);
    lengths.writeUInt16BE(k.length, 0);
    lengths.writeUInt32BE(v.length, 2);
    parts.push(lengths.subarray(0, 2), k, lengths.subarray(2), v);
  }
  parts.push(Buffer.from(payload.data ?? new Uint8Array()));
  return Buffer.concat(parts);
}

/** The inverse of serialise; the bytes were authenticated first, so a malformed form means a codec bug. */
function deserialise(plain: Buffer): Payload {
  let at = 0;
  const take = (n: number): Buffer => {
    if (at + n > plain.length) throw new PayloadCodecError('decrypted payload is truncated (written by another codec version?)');
    const slice = plain.subarray(at, at + n);
    at += n;
    return slice;
  };
  const metadata: Record<string, Uint8Array> = {};
  for (let i = take(2).readUInt16BE(); i > 0; i--) {
    const key = take(take(2).readUInt16BE()).toString('utf8');
    metadata[key] = new Uint8Array(take(take(4).readUInt32BE()));
  }
  return { metadata, data: new Uint8Array(plain.subarray(at)) };
}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly encodeKey: PayloadKey;
  private readonly byId: Map<string, Uint8Array>;

  /** `keys[0]` encrypts; every key decrypts (rotation: put the new key first, keep the old ones after it). */
  constructor(keys: readonly PayloadKey[]) {
    if (keys.length === 0) throw new PayloadCodecError('a payload codec needs at least one key');
    for (const k of keys) if (k.key.length !== KEY_BYTES) throw new PayloadCodecError(`payload key "${k.id}" must be ${KEY_BYTES} bytes`);
    this.encodeKey = keys[0];
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.encrypt(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.decrypt(p));
  }

  private encrypt(payload: Payload): Payload {
    const { id, key } = this.encodeKey;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(id, 'utf8'));
    const body = Buffer.concat([cipher.update(serialise(payload)), cipher.final()]);
    return {
      metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from(id) },
      data: new Uint8Array(Buffer.concat([iv, body, cipher.getAuthTag()])),
    };
  }

  private decrypt(payload: Payload): Payload {
    const encoding = payload.metadata?.encoding && Buffer.from(payload.metadata.encoding).toString();
    // Payloads written before encryption was turned on (or by Temporal itself) pass through unchanged.
    if (encoding !== ENCRYPTED_ENCODING) return payload;
    const idBytes = payload.metadata?.[KEY_ID_METADATA];
    const id = idBytes ? Buffer.from(idBytes).toString() : '';
    const key = this.byId.get(id);
    if (!key) throw new PayloadCodecError(`payload encrypted with key "${id}", which is not among the configured payload keys (${[...this.byId.keys()].join(', ')})`);
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadCodecError(`encrypted payload of ${data.length} bytes is too short to hold an IV and a tag`);
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(id, 'utf8'));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadCodecError(`encrypted payload does not authenticate under key "${id}" (damaged, or encrypted with another key of that id)`);
    }
    return deserialise(plain);
  }
}
