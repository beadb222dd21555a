import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/**
 * Account ids, passcodes and public tokens: generation, shape checks, digests and constant-time
 * comparison. Only digests are ever stored; secrets exist in clear only when shown once.
 */

/** Uppercase letters and digits without the look-alikes 0/O, 1/I/L. */
export const ACCOUNT_ID_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

/** Random bytes behind every passcode and public token: 144 bits, above the required 128. */
export const SECRET_BYTES = 18;

/** Makes public tokens recognisable (in logs, in page sources, by secret scanners). */
export const PUBLIC_TOKEN_PREFIX = 'pt_';

/** Bytes of the key that signs read tokens. */
export const READ_TOKEN_KEY_BYTES = 32;

/** Secrets longer than this cannot be ours; they are rejected without hashing megabytes. */
export const MAX_SECRET_LENGTH = 256;

const ACCOUNT_ID_GROUPS = [3, 3, 4] as const;
const ACCOUNT_ID_PATTERN = new RegExp(
  `^${ACCOUNT_ID_GROUPS.map((n) => `[${ACCOUNT_ID_ALPHABET}]{${n}}`).join('-')}$`,
);
const SECRET_PATTERN = new RegExp(`^[A-Za-z0-9_-]{${Math.ceil((SECRET_BYTES * 4) / 3)}}$`);

/** A random id in CleverTap's look, e.g. `W9R-486-4W5Z` (~49.6 bits; ids are not secrets). */
export function generateAccountId(): string {
  return ACCOUNT_ID_GROUPS.map((n) => {
    let group = '';
    for (let i = 0; i < n; i++) group += ACCOUNT_ID_ALPHABET[randomInt(ACCOUNT_ID_ALPHABET.length)];
    return group;
  }).join('-');
}

/** True for strings shaped like the ids {@link generateAccountId} makes (case-sensitive). */
export function isAccountIdShape(value: unknown): value is string {
  return typeof value === 'string' && ACCOUNT_ID_PATTERN.test(value);
}

/**
 * A random passcode: {@link SECRET_BYTES} bytes, base64url (24 characters, header-safe). Never
 * starts with `-`, so it can be passed on a command line without being read as an option (this
 * costs 0.02 bits of its 144).
 */
export function generatePasscode(): string {
  for (;;) {
    const passcode = randomBytes(SECRET_BYTES).toString('base64url');
    if (!passcode.startsWith('-')) return passcode;
  }
}

/** A random public token: `pt_` then {@link SECRET_BYTES} bytes, base64url. */
export function generatePublicToken(): string {
  return PUBLIC_TOKEN_PREFIX + randomBytes(SECRET_BYTES).toString('base64url');
}

/** A fresh random key for signing read tokens. */
export function generateReadTokenKey(): Buffer {
  return randomBytes(READ_TOKEN_KEY_BYTES);
}

/** True for strings shaped like the passcodes {@link generatePasscode} makes. */
export function isPasscodeShape(value: unknown): value is string {
  return typeof value === 'string' && SECRET_PATTERN.test(value);
}

/** True for strings shaped like the tokens {@link generatePublicToken} makes. */
export function isPublicTokenShape(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.startsWith(PUBLIC_TOKEN_PREFIX) &&
    SECRET_PATTERN.test(value.slice(PUBLIC_TOKEN_PREFIX.length))
  );
}

/** SHA-256 of the UTF-8 secret, 32 bytes. Secrets are random, so no salt or slow hash is needed. */
export function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** Constant-time equality; different lengths are simply unequal (lengths are not secret). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** True when `secret` hashes to `expected`, compared in constant time. */
export function matchesDigest(secret: string, expected: Uint8Array): boolean {
  return matchesAnyDigest(secret, [expected]);
}

/**
 * True when `secret` hashes to one of `candidates`. Every candidate is compared, so the time taken
 * does not reveal which one matched, nor how far a wrong secret got.
 */
export function matchesAnyDigest(secret: string, candidates: readonly Uint8Array[]): boolean {
  if (typeof secret !== 'string' || secret.length > MAX_SECRET_LENGTH) return false;
  const actual = digest(secret);
  let matched = false;
  for (const candidate of candidates) {
    // Non-short-circuiting on purpose: keep comparing after a match.
    matched = constantTimeEqual(actual, candidate) || matched;
  }
  return matched;
}
