/**
 * The builder's signature over its build result (issue 10): what it built (build id), who it is (builder id) and
 * what it produced (each artefact's name and sha256). The builder signs with the Ed25519 private key it made at
 * enrolment; vessel verifies against the public key the registry holds for that builder, so a result cannot be
 * claimed for another builder, nor its artefacts swapped, without the key. Pure: no I/O, only node:crypto.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * A public key as the registry keeps and sends it: base64 of its DER (SPKI) encoding, one line (the API refuses
 * control characters in JSON strings, so not PEM). PEM is accepted too where a key is read.
 */
export function publicKeyText(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'der' }).toString('base64');
}

function publicKeyOf(text: string): KeyObject {
  return text.startsWith('-----BEGIN') ? createPublicKey(text) : createPublicKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' });
}

/** Parsed public keys by their text: vessel verifies every build of the same few builders (parsing cost ~0.7 ms each). */
const PARSED_KEYS = 64;
const parsedKeys = new Map<string, KeyObject>();

function cachedPublicKeyOf(text: string): KeyObject {
  let key = parsedKeys.get(text);
  if (key) {
    // Most recently used last: the first entry is the one to drop.
    parsedKeys.delete(text);
  } else {
    key = publicKeyOf(text);
    if (parsedKeys.size >= PARSED_KEYS) parsedKeys.delete(parsedKeys.keys().next().value!);
  }
  parsedKeys.set(text, key);
  return key;
}

/** What is signed: the fields of a build result that name the build, the builder and the bytes. */
export interface SignedBuildFacts {
  buildId: string;
  builderId: string;
  artefacts: ReadonlyArray<{ name: string; sha256: string }>;
}

/**
 * The exact bytes signed: one line per fact, artefacts sorted by name, prefixed with a version so that a later
 * format is never confused with this one.
 */
export function signedMessage(facts: SignedBuildFacts): Buffer {
  const artefacts = [...facts.artefacts].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return Buffer.from(JSON.stringify(['summit-build-result/1', facts.buildId, facts.builderId, artefacts.map((a) => [a.name, a.sha256])]), 'utf8');
}

/** Base64 Ed25519 signature of the facts with a private key (PEM PKCS#8, or one already parsed). */
export function signBuildFacts(privateKey: string | KeyObject, facts: SignedBuildFacts): string {
  return sign(null, signedMessage(facts), typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey).toString('base64');
}

/** Whether `signature` is the facts' signature by the public key (publicKeyText, or PEM); false for anything malformed. */
export function verifyBuildFacts(publicKey: string, facts: SignedBuildFacts, signature: string): boolean {
  try {
    const key = cachedPublicKeyOf(publicKey);
    if (key.asymmetricKeyType !== 'ed25519') return false;
    return verify(null, signedMessage(facts), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** A public key the registry accepts (base64 DER SPKI, or PEM): parseable, Ed25519; the problem in words otherwise. */
export function publicKeyProblem(text: string): string | undefined {
  try {
    const key = publicKeyOf(text);
    return key.asymmetricKeyType === 'ed25519' ? undefined : `an Ed25519 key is required, not ${key.asymmetricKeyType}`;
  } catch (err) {
    return `not a public key: base64 of its DER (SPKI) encoding (${(err as Error).message})`;
  }
}
