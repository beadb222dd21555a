import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_ID_ALPHABET,
  constantTimeEqual,
  digest,
  generateAccountId,
  generatePasscode,
  generatePublicToken,
  isAccountIdShape,
  isPasscodeShape,
  isPublicTokenShape,
  MAX_SECRET_LENGTH,
  matchesAnyDigest,
  matchesDigest,
} from '../../src/accounts/secrets.js';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/** Fraction of set bits at each bit position over all samples. */
function bitFrequencies(samples: readonly Buffer[]): number[] {
  const bits = samples[0].length * 8;
  const ones = new Array<number>(bits).fill(0);
  for (const sample of samples) {
    for (let bit = 0; bit < bits; bit++) if ((sample[bit >> 3] >> (bit & 7)) & 1) ones[bit]++;
  }
  return ones.map((n) => n / samples.length);
}

describe('account ids', () => {
  it('have the 3-3-4 shape, without ambiguous characters', () => {
    for (let i = 0; i < 500; i++) {
      const id = generateAccountId();
      expect(id).toMatch(/^[A-Z0-9]{3}-[A-Z0-9]{3}-[A-Z0-9]{4}$/);
      expect(id).not.toMatch(/[01OIL]/);
      expect(isAccountIdShape(id)).toBe(true);
    }
  });

  it('are random: distinct, and every alphabet character shows up', () => {
    const ids = Array.from({ length: 2000 }, generateAccountId);
    expect(new Set(ids).size).toBe(ids.length);
    const seen = new Set(ids.join('').replaceAll('-', ''));
    expect([...seen].sort().join('')).toBe([...ACCOUNT_ID_ALPHABET].sort().join(''));
  });

  it('the shape check accepts CleverTap-looking ids and rejects the rest', () => {
    expect(isAccountIdShape('W9R-486-4W5Z')).toBe(true);
    for (const bad of [
      '',
      'W9R-486-4W5',
      'W9R-486-4W5ZZ',
      'W9R4864W5Z',
      'w9r-486-4w5z',
      'W9R-486-4W5O',
      'W0R-486-4W5Z',
      'W9R-486-4W5Z\n',
      ' W9R-486-4W5Z',
      'W9R_486_4W5Z',
      42,
      undefined,
      null,
    ]) {
      expect(isAccountIdShape(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('passcodes and public tokens', () => {
  it('passcodes are 24 base64url characters carrying 18 random bytes', () => {
    const passcode = generatePasscode();
    expect(passcode).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(Buffer.from(passcode, 'base64url')).toHaveLength(18);
    expect(isPasscodeShape(passcode)).toBe(true);
    expect(isPublicTokenShape(passcode)).toBe(false);
  });

  it('passcodes never start with "-", so command lines do not take them for options', () => {
    // 1 in 64 plain base64url strings starts with "-"; 20,000 draws would meet ~312 of them.
    const leading = new Set<string>();
    for (let i = 0; i < 20_000; i++) leading.add(generatePasscode()[0] ?? '');
    expect(leading.has('-')).toBe(false);
    expect(leading.size).toBe(63);
  });

  it('public tokens are pt_ and 24 base64url characters', () => {
    const token = generatePublicToken();
    expect(token).toMatch(/^pt_[A-Za-z0-9_-]{24}$/);
    expect(Buffer.from(token.slice(3), 'base64url')).toHaveLength(18);
    expect(isPublicTokenShape(token)).toBe(true);
    expect(isPasscodeShape(token)).toBe(false);
  });

  it('passcodes carry at least 128 bits: every bit position is set about half the time', () => {
    const samples = Array.from({ length: 4000 }, () => Buffer.from(generatePasscode(), 'base64url'));
    expect(new Set(samples.map((s) => s.toString('hex'))).size).toBe(samples.length);
    const frequencies = bitFrequencies(samples);
    expect(frequencies.length).toBeGreaterThanOrEqual(128);
    // Standard deviation is ~0.008 here; 0.42..0.58 is ten of them, yet a stuck bit fails it.
    for (const [bit, frequency] of frequencies.entries()) {
      expect(frequency, `bit ${bit}`).toBeGreaterThan(0.42);
      expect(frequency, `bit ${bit}`).toBeLessThan(0.58);
    }
  });

  it('public tokens are as random as passcodes', () => {
    const samples = Array.from({ length: 4000 }, () =>
      Buffer.from(generatePublicToken().slice(3), 'base64url'),
    );
    expect(new Set(samples.map((s) => s.toString('hex'))).size).toBe(samples.length);
    for (const frequency of bitFrequencies(samples)) {
      expect(frequency).toBeGreaterThan(0.42);
      expect(frequency).toBeLessThan(0.58);
    }
  });
});

describe('digests', () => {
  it('digest is SHA-256 of the UTF-8 secret', () => {
    for (const secret of ['', 'abc', 'pässcode ✓', generatePasscode()]) {
      expect(digest(secret).equals(sha256(secret))).toBe(true);
    }
    expect(digest('a').equals(digest('b'))).toBe(false);
  });

  it('matchesDigest is true only for the secret that made the digest', () => {
    const passcode = generatePasscode();
    const stored = sha256(passcode);
    expect(matchesDigest(passcode, stored)).toBe(true);
    expect(matchesDigest(generatePasscode(), stored)).toBe(false);
    expect(matchesDigest(`${passcode} `, stored)).toBe(false);
    expect(matchesDigest(passcode.slice(0, -1), stored)).toBe(false);
    expect(matchesDigest('', stored)).toBe(false);
  });

  it('matchesDigest is false, without throwing, for digests of another length', () => {
    const passcode = generatePasscode();
    const full = sha256(passcode);
    expect(matchesDigest(passcode, full.subarray(0, 16))).toBe(false);
    expect(matchesDigest(passcode, Buffer.concat([full, Buffer.alloc(1)]))).toBe(false);
    expect(matchesDigest(passcode, Buffer.alloc(0))).toBe(false);
    expect(matchesDigest(passcode, Buffer.from(full.toString('hex')))).toBe(false);
  });

  it('constantTimeEqual compares content and length', () => {
    expect(constantTimeEqual(Buffer.from([1, 2, 3]), Buffer.from([1, 2, 3]))).toBe(true);
    expect(constantTimeEqual(Buffer.from([1, 2, 3]), Buffer.from([1, 2, 4]))).toBe(false);
    expect(constantTimeEqual(Buffer.from([1, 2, 3]), Buffer.from([1, 2]))).toBe(false);
    expect(constantTimeEqual(Buffer.from([1, 2]), Buffer.from([1, 2, 3]))).toBe(false);
    expect(constantTimeEqual(Buffer.alloc(0), Buffer.alloc(0))).toBe(true);
  });

  it('matchesAnyDigest finds the secret among several, wherever it is', () => {
    const secrets = Array.from({ length: 4 }, generatePasscode);
    const stored = secrets.map(sha256);
    for (const secret of secrets) expect(matchesAnyDigest(secret, stored)).toBe(true);
    expect(matchesAnyDigest(generatePasscode(), stored)).toBe(false);
    expect(matchesAnyDigest(secrets[0], [])).toBe(false);
  });

  it('rejects oversized and non-string secrets', () => {
    const huge = 'x'.repeat(MAX_SECRET_LENGTH + 1);
    expect(matchesDigest(huge, sha256(huge))).toBe(false);
    const atLimit = 'x'.repeat(MAX_SECRET_LENGTH);
    expect(matchesDigest(atLimit, sha256(atLimit))).toBe(true);
    expect(matchesDigest(undefined as unknown as string, sha256('undefined'))).toBe(false);
  });
});
