import { generatePayloadKey, parsePayloadKeys } from '../payload-codec';
import { SecretBox, SecretBoxError } from './secret-box';

describe('SecretBox', () => {
  const k1 = generatePayloadKey('k1');
  const k2 = generatePayloadKey('k2');

  it('opens what it sealed, for the same context only', () => {
    const box = new SecretBox(parsePayloadKeys(k1, 'test'));
    const sealed = box.seal('hush', 'recipes');
    expect(sealed).toMatch(/^k1:/);
    expect(sealed).not.toContain('hush');
    expect(box.open(sealed, 'recipes')).toBe('hush');
    expect(() => box.open(sealed, 'other')).toThrow(SecretBoxError);
    const altered = `k1:${Buffer.from(Buffer.from(sealed.slice(3), 'base64').map((b, i) => (i === 20 ? b ^ 1 : b))).toString('base64')}`;
    expect(() => box.open(altered, 'recipes')).toThrow(SecretBoxError);
  });

  it('keeps opening after a key rotation (the old key listed second), and says when it cannot', () => {
    const sealed = new SecretBox(parsePayloadKeys(k1, 'test')).seal('hush', 'r');
    expect(new SecretBox(parsePayloadKeys(`${k2},${k1}`, 'test')).open(sealed, 'r')).toBe('hush');
    expect(() => new SecretBox(parsePayloadKeys(k2, 'test')).open(sealed, 'r')).toThrow(/key "k1", which this process does not hold/);
  });
});
