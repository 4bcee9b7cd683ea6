/**
 * The payload codec as pure logic (no Temporal): what it writes, what it refuses, key rotation; and the key
 * settings as the entry points read them.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import { ConfigError } from '../core/config';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, generatePayloadKey, KEY_ID_METADATA, parsePayloadKeys, PayloadCodecError } from '../core/payload-codec';
import { loadPayloadKeys, requirePayloadKeys } from '../workers/payload-keys';

const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');
const secretResult = { buildId: 'build/x', artefactToken: 'v1.YnVpbGQveA.1999999999.c2VjcmV0LXNpZ25hdHVyZQ' };

describe('AES-256-GCM payload codec', () => {
  const [k1] = parsePayloadKeys(generatePayloadKey('k1'), 'test');
  const [k2] = parsePayloadKeys(generatePayloadKey('k2'), 'test');

  it('encrypts a payload so that neither its data nor its original metadata appear, and decodes it back exactly', async () => {
    const codec = new AesGcmPayloadCodec([k1]);
    const plain = defaultPayloadConverter.toPayload(secretResult);
    const [encoded] = await codec.encode([plain]);
    expect(text(encoded.metadata!.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(encoded.metadata![KEY_ID_METADATA])).toBe('k1');
    expect(Object.keys(encoded.metadata!).sort()).toEqual(['encoding', KEY_ID_METADATA].sort());
    expect(Buffer.from(encoded.data!).includes(secretResult.artefactToken)).toBe(false);
    expect(Buffer.from(encoded.data!).includes('json/plain')).toBe(false);
    const [decoded] = await codec.decode([encoded]);
    expect(decoded).toEqual(plain);
    expect(defaultPayloadConverter.fromPayload(decoded)).toEqual(secretResult);
  });

  it('restores every metadata entry and the data byte for byte, empty ones included', async () => {
    const codec = new AesGcmPayloadCodec([k1]);
    const odd: Payload[] = [
      { metadata: { encoding: Buffer.from('binary/null') }, data: new Uint8Array() },
      { metadata: { encoding: Buffer.from('binary/plain'), 'messageType': new Uint8Array(), 'clé': Buffer.from([0, 255, 1]) }, data: Uint8Array.from([0, 1, 2, 255]) },
      { metadata: {}, data: new Uint8Array(70_000).fill(7) },
    ];
    expect(await codec.decode(await codec.encode(odd))).toEqual(odd);
  });

  it('uses a fresh IV each time: the same payload never encrypts to the same bytes', async () => {
    const codec = new AesGcmPayloadCodec([k1]);
    const plain = defaultPayloadConverter.toPayload('same');
    const [a, b] = await codec.encode([plain, plain]);
    expect(Buffer.from(a.data!).equals(Buffer.from(b.data!))).toBe(false);
  });

  it('decodes with every configured key but encodes with the first (rotation)', async () => {
    const old = new AesGcmPayloadCodec([k1]);
    const rotated = new AesGcmPayloadCodec([k2, k1]);
    const [written] = await old.encode([defaultPayloadConverter.toPayload(secretResult)]);
    expect(defaultPayloadConverter.fromPayload(await rotated.decode([written]).then((p) => p[0]))).toEqual(secretResult);
    const [rewritten] = await rotated.encode([defaultPayloadConverter.toPayload(secretResult)]);
    expect(text(rewritten.metadata![KEY_ID_METADATA])).toBe('k2');
    await expect(old.decode([rewritten])).rejects.toThrow(/key "k2", which is not among the configured payload keys \(k1\)/);
  });

  it('refuses a damaged payload, and one relabelled with another key id, naming the key', async () => {
    const codec = new AesGcmPayloadCodec([k1, { id: 'k2', key: k1.key }]);
    const [encoded] = await codec.encode([defaultPayloadConverter.toPayload(secretResult)]);
    const damaged: Payload = { ...encoded, data: Uint8Array.from(encoded.data!, (b, i) => (i === 20 ? b ^ 1 : b)) };
    await expect(codec.decode([damaged])).rejects.toThrow(PayloadCodecError);
    // Same key bytes under another id: the id is authenticated, so the relabelled payload does not decrypt.
    const relabelled: Payload = { ...encoded, metadata: { ...encoded.metadata, [KEY_ID_METADATA]: Buffer.from('k2') } };
    await expect(codec.decode([relabelled])).rejects.toThrow(/does not authenticate under key "k2"/);
    await expect(codec.decode([{ ...encoded, data: new Uint8Array(5) }])).rejects.toThrow(/too short/);
  });

  it('passes payloads that were never encrypted through unchanged (histories from before encryption)', async () => {
    const plain = defaultPayloadConverter.toPayload({ a: 1 });
    expect(await new AesGcmPayloadCodec([k1]).decode([plain])).toEqual([plain]);
  });
});

describe('payload key settings', () => {
  it.each([
    ['nothing', '', /no payload key/],
    ['an entry without an id', 'nokey', /entry 1 must be id:base64key/],
    ['a 16-byte key', `k1:${Buffer.alloc(16).toString('base64')}`, /key "k1" is 16 bytes once base64-decoded; AES-256 needs 32/],
    ['one id twice', `${generatePayloadKey('a')},${generatePayloadKey('a')}`, /key id "a" appears twice/],
  ])('refuses %s with a message naming the problem', (_label, value, message) => {
    expect(() => parsePayloadKeys(value, 'SUMMIT_PAYLOAD_KEYS')).toThrow(message);
  });

  it('never puts a key in an error message', () => {
    const key = Buffer.alloc(31, 7).toString('base64');
    expect(() => parsePayloadKeys(`k1:${key}`, 'SUMMIT_PAYLOAD_KEYS')).toThrow(expect.objectContaining({ message: expect.not.stringContaining(key) }));
  });

  it('fails an entry point with a configuration error naming both settings when no key is set', () => {
    expect(() => requirePayloadKeys({})).toThrow(ConfigError);
    expect(() => requirePayloadKeys({})).toThrow(/SUMMIT_PAYLOAD_KEYS \/ SUMMIT_PAYLOAD_KEY_FILE/);
  });

  it('reads a 0600 key file, one key per line, and refuses one that others can read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'summit-keys-'));
    try {
      const file = join(dir, 'keys');
      writeFileSync(file, `# rotated on 2026-12-01\n${generatePayloadKey('new')}\n${generatePayloadKey('old')}\n`, { mode: 0o600 });
      expect(loadPayloadKeys({ payloadKeyFile: file }).map((k) => k.id)).toEqual(['new', 'old']);
      chmodSync(file, 0o644);
      expect(() => loadPayloadKeys({ payloadKeyFile: file })).toThrow(/readable by other users \(mode 644\); run: chmod 600/);
      expect(() => loadPayloadKeys({ payloadKeyFile: join(dir, 'missing') })).toThrow(/SUMMIT_PAYLOAD_KEY_FILE: cannot read .*missing \(ENOENT\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
