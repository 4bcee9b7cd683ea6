/**
 * The builder's signature over its build result (issue 10): what it built (build id), who it is (builder id), where
 * it serves the result (its artefact server) and what it produced (each artefact's name and sha256). The builder signs with the Ed25519 private key it made at
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

/** What is signed: the fields of a build result that name the build, the builder, where it serves them and the bytes. */
export interface SignedBuildFacts {
  buildId: string;
  builderId: string;
  /**
   * The builder's artefact server, where vessel fetches the artefacts and sends the release: signed so that a
   * result changed on its way (in a workflow's history, by whoever holds the payload key) cannot send vessel and
   * the release token elsewhere. SUMMIT_ARTEFACT_ORIGINS bounds the servers a result may name at all.
   */
  artefactBaseUrl: string;
  artefacts: ReadonlyArray<{ name: string; sha256: string }>;
}

/** The version tag of what is signed now; 1 (builders before the artefact server was signed) had no URL. */
const FORMAT = 'summit-build-result/2';
const FORMAT_WITHOUT_SERVER = 'summit-build-result/1';

function sortedArtefacts(facts: Pick<SignedBuildFacts, 'artefacts'>): string[][] {
  return [...facts.artefacts].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((a) => [a.name, a.sha256]);
}

/**
 * The exact bytes signed: a JSON array of the facts, artefacts sorted by name, the version tag first so that one
 * format is never taken for another.
 */
export function signedMessage(facts: SignedBuildFacts): Buffer {
  return Buffer.from(JSON.stringify([FORMAT, facts.buildId, facts.builderId, facts.artefactBaseUrl, sortedArtefacts(facts)]), 'utf8');
}

/** What builders before version 2 signed: no artefact server. Only ever checked to explain a refusal. */
function messageWithoutServer(facts: SignedBuildFacts): Buffer {
  return Buffer.from(JSON.stringify([FORMAT_WITHOUT_SERVER, facts.buildId, facts.builderId, sortedArtefacts(facts)]), 'utf8');
}

/** Base64 Ed25519 signature of the facts with a private key (PEM PKCS#8, or one already parsed). */
export function signBuildFacts(privateKey: string | KeyObject, facts: SignedBuildFacts): string {
  return sign(null, signedMessage(facts), typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey).toString('base64');
}

/** Whether `signature` is the facts' signature by the public key (publicKeyText, or PEM); false for anything malformed. */
export function verifyBuildFacts(publicKey: string, facts: SignedBuildFacts, signature: string): boolean {
  return verifies(publicKey, signedMessage(facts), signature);
}

/**
 * Whether `signature` is what a builder from before the artefact server was signed (format 1) would have made for
 * these facts. Such a result is refused all the same (its server is not vouched for); this only names the reason:
 * the builder needs the new version, not a new key.
 */
export function signedWithoutServer(publicKey: string, facts: SignedBuildFacts, signature: string): boolean {
  return verifies(publicKey, messageWithoutServer(facts), signature);
}

function verifies(publicKey: string, message: Buffer, signature: string): boolean {
  try {
    const key = cachedPublicKeyOf(publicKey);
    if (key.asymmetricKeyType !== 'ed25519') return false;
    return verify(null, message, key, Buffer.from(signature, 'base64'));
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
