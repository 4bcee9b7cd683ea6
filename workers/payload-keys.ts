import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { ConfigError } from '../core/config';
import { AesGcmPayloadCodec, generatePayloadKey, parsePayloadKeys, PayloadCodecError, type PayloadKey } from '../core/payload-codec';

/**
 * Where the payload keys come from (SUMMIT_PAYLOAD_KEYS, else SUMMIT_PAYLOAD_KEY_FILE), read once per role start.
 * The codec itself is pure (core/payload-codec.ts); this is its file side.
 */
export interface PayloadKeySettings {
  payloadKeys?: string;
  payloadKeyFile?: string;
}

/** The settings as they appear in the parsed configuration. */
export function payloadKeySettings(config: { SUMMIT_PAYLOAD_KEYS?: string; SUMMIT_PAYLOAD_KEY_FILE?: string }): PayloadKeySettings {
  return { payloadKeys: config.SUMMIT_PAYLOAD_KEYS, payloadKeyFile: config.SUMMIT_PAYLOAD_KEY_FILE };
}

export function hasPayloadKeys(settings: PayloadKeySettings): boolean {
  return settings.payloadKeys !== undefined || settings.payloadKeyFile !== undefined;
}

/** Reads the keys; a missing, unreadable, loose-moded or malformed source is a ConfigError naming it. */
export function loadPayloadKeys(settings: PayloadKeySettings): PayloadKey[] {
  try {
    if (settings.payloadKeys !== undefined) return parsePayloadKeys(settings.payloadKeys, 'SUMMIT_PAYLOAD_KEYS');
    const file = settings.payloadKeyFile;
    if (file === undefined) {
      throw new ConfigError(
        'invalid configuration:\n  SUMMIT_PAYLOAD_KEYS / SUMMIT_PAYLOAD_KEY_FILE: Temporal payloads are encrypted and no key is set; ' +
          `set SUMMIT_PAYLOAD_KEYS=${'<id>:<base64 of 32 random bytes>'} (e.g. k1:$(head -c32 /dev/urandom | base64)) on every role, or point SUMMIT_PAYLOAD_KEY_FILE at a 0600 file holding it`,
      );
    }
    let mode: number;
    try {
      mode = statSync(file).mode & 0o777;
    } catch (err) {
      throw new ConfigError(`invalid configuration:\n  SUMMIT_PAYLOAD_KEY_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    // As ssh does with private keys: a key file others can read is refused rather than used.
    if (mode & 0o077) throw new ConfigError(`invalid configuration:\n  SUMMIT_PAYLOAD_KEY_FILE: ${file} is readable by other users (mode ${mode.toString(8)}); run: chmod 600 ${file}`);
    return parsePayloadKeys(readFileSync(file, 'utf8'), `SUMMIT_PAYLOAD_KEY_FILE ${file}`);
  } catch (err) {
    if (err instanceof PayloadCodecError) throw new ConfigError(`invalid configuration:\n  ${err.message}`);
    throw err;
  }
}

/** The codec every Temporal client and worker of a role uses, or undefined when no key is configured. */
export function payloadCodecFor(settings: PayloadKeySettings): AesGcmPayloadCodec | undefined {
  return hasPayloadKeys(settings) ? new AesGcmPayloadCodec(loadPayloadKeys(settings)) : undefined;
}

/** Fails the way a misconfigured entry point should: production roles never talk to Temporal in clear. */
export function requirePayloadKeys(settings: PayloadKeySettings): void {
  loadPayloadKeys(settings);
}

/**
 * For `npm start`: the key file in the data folder, created 0600 with one fresh key on first start and kept, so
 * histories written by one start decode in the next. Returns its path.
 */
export function ensurePayloadKeyFile(path: string): string {
  try {
    writeFileSync(path, `${generatePayloadKey('k1')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  chmodSync(path, 0o600);
  return path;
}
