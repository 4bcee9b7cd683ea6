import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { PayloadKey } from '../payload-codec';

/**
 * Secrets the API must keep in a form it can use again (a webhook secret is an HMAC key: verifying needs the
 * secret itself, not a digest of it), sealed for the database with AES-256-GCM. The sealing key is derived
 * (HKDF-SHA256) from the farm's payload keys, which every role already holds and which never enter the database:
 * a copy of the database alone does not reveal a secret. The first payload key seals, every key opens (the key id
 * is stored with the sealed value), so a payload key rotation keeps sealed secrets readable until they are set
 * again. `context` (the repository id) is bound as additional data: a sealed value copied to another row does
 * not open.
 *
 * Sealed form: `<key id>:<base64 of 12-byte IV ‖ ciphertext ‖ 16-byte tag>`.
 */
const INFO = 'summit secret-box v1';

export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
}

export class SecretBox {
  private readonly keys: Map<string, Buffer>;
  private readonly sealingId: string;

  constructor(payloadKeys: readonly PayloadKey[]) {
    if (payloadKeys.length === 0) throw new SecretBoxError('a secret box needs at least one payload key');
    this.keys = new Map(payloadKeys.map((k) => [k.id, Buffer.from(hkdfSync('sha256', k.key, Buffer.alloc(0), INFO, 32))]));
    this.sealingId = payloadKeys[0].id;
  }

  seal(secret: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.sealingId)!, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return `${this.sealingId}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64')}`;
  }

  open(sealed: string, context: string): string {
    const colon = sealed.indexOf(':');
    const key = this.keys.get(sealed.slice(0, colon));
    if (colon < 0 || !key) throw new SecretBoxError(`sealed with key "${sealed.slice(0, Math.max(colon, 0))}", which this process does not hold`);
    const bytes = Buffer.from(sealed.slice(colon + 1), 'base64');
    if (bytes.length < 28) throw new SecretBoxError('sealed value too short');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(bytes.subarray(bytes.length - 16));
      return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError('sealed value does not open (altered, or sealed for another row)');
    }
  }
}
