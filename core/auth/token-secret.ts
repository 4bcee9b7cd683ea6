import { createHash, randomBytes } from 'node:crypto';

/**
 * API token secrets: 32 random bytes, and their SHA-256, which is all the database keeps. A fast hash is enough
 * here: the secret has 256 bits of entropy, so the digest cannot be reversed by guessing (slow hashes are for
 * passwords people choose). The prefix names the role, so a leaked token is recognisable and secret scanners
 * can find it.
 */
export function generateToken(role: string): string {
  return `summit_${role}_${randomBytes(32).toString('base64url')}`;
}

/** Hex SHA-256 of a token: the database column looked up on every authenticated request. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A short random id for a stored token (what list and revoke name it by); not a secret. */
export function newTokenId(): string {
  return `tok_${randomBytes(8).toString('hex')}`;
}

