import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cutToLength,
  MEMO_ENTRIES,
  matchKey,
  normalizeBrowser,
  normalizeDevice,
  normalizeDimension,
  normalizeOs,
  normalizeSessionSource,
} from '../../src/ingest/normalize-dimension.js';

const EMOJI = '\u{1F600}'; // one character, two UTF-16 code units

describe('matchKey', () => {
  it.each([
    ['Organic Search', 'organicsearch'],
    ['organic_search', 'organicsearch'],
    ['DEEP-LINK', 'deeplink'],
    ['a - b _ c', 'abc'],
    ['plain', 'plain'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(matchKey(input)).toBe(expected);
  });
});

describe('cutToLength', () => {
  it.each([
    ['shorter than the limit', 'abc', 5, 'abc'],
    ['exactly the limit', 'abcde', 5, 'abcde'],
    ['longer than the limit', 'abcdefg', 5, 'abcde'],
    ['a pair straddling the limit is dropped whole', `abcd${EMOJI}`, 5, 'abcd'],
    ['a pair ending at the limit is kept', `abc${EMOJI}x`, 5, `abc${EMOJI}`],
  ])('%s', (_name, input, max, expected) => {
    expect(cutToLength(input, max)).toBe(expected);
  });

  it('defaults to 64', () => {
    expect(cutToLength('x'.repeat(100))).toBe('x'.repeat(64));
  });
});

describe('normalizeDevice', () => {
  it.each([
    ['mobile', 'Mobile'],
    ['MOBILE', 'Mobile'],
    ['  Tablet  ', 'Tablet'],
    ['desktop', 'Desktop'],
    ['tv', 'TV'],
    ['T-V', 'TV'],
    ['wearable', 'Wearable'],
    ['console', 'Console'],
    ['unknown', 'Unknown'],
    ['fridge', 'Unknown'],
    ['other', 'Unknown'],
    ['', undefined],
    ['   ', undefined],
  ])('%j → %j', (input, expected) => {
    expect(normalizeDevice(input)).toBe(expected);
  });
});

describe('normalizeSessionSource', () => {
  it.each([
    ['direct', 'Direct'],
    ['organic_search', 'Organic Search'],
    ['Organic Search', 'Organic Search'],
    ['organicsearch', 'Organic Search'],
    ['PAID-SEARCH', 'Paid Search'],
    ['social', 'Social'],
    ['email', 'Email'],
    ['sms', 'SMS'],
    ['push', 'Push'],
    ['referral', 'Referral'],
    ['deep-link', 'Deep Link'],
    ['deep_link', 'Deep Link'],
    ['other', 'Other'],
    ['unknown', 'Unknown'],
    ['newsletter', 'Other'],
    ['  push  ', 'Push'],
    ['', undefined],
    ['\t\n ', undefined],
  ])('%j → %j', (input, expected) => {
    expect(normalizeSessionSource(input)).toBe(expected);
  });
});

describe('normalizeBrowser', () => {
  it.each([
    ['chrome', 'Chrome'],
    ['CHROME', 'Chrome'],
    ['Mobile Chrome', 'Chrome'],
    ['safari', 'Safari'],
    ['Mobile Safari', 'Safari'],
    ['firefox', 'Firefox'],
    ['edge', 'Edge'],
    ['Microsoft Edge', 'Edge'],
    ['samsung internet', 'Samsung Internet'],
    ['Samsung-Internet', 'Samsung Internet'],
    ['opera', 'Opera'],
    ['app', 'App'],
    ['unknown', 'Unknown'],
    ['OTHER', 'Other'],
    ['Brave', 'Brave'],
    ['  Vivaldi 6  ', 'Vivaldi 6'],
    ['', undefined],
    ['  ', undefined],
  ])('%j → %j', (input, expected) => {
    expect(normalizeBrowser(input)).toBe(expected);
  });

  it('cuts an unrecognized value to 64 characters', () => {
    expect(normalizeBrowser(`  ${'b'.repeat(70)}  `)).toBe('b'.repeat(64));
  });

  it('does not leave whitespace at the end of a cut value', () => {
    expect(normalizeBrowser(`${'b'.repeat(62)}  cc`)).toBe('b'.repeat(62));
  });

  it('does not split a surrogate pair when cutting', () => {
    expect(normalizeBrowser(`${'b'.repeat(63)}${EMOJI}`)).toBe('b'.repeat(63));
  });
});

describe('normalizeOs', () => {
  it.each([
    ['android', 'Android'],
    ['ios', 'iOS'],
    ['IOS', 'iOS'],
    ['windows', 'Windows'],
    ['macos', 'macOS'],
    ['mac os', 'macOS'],
    ['Mac OS X', 'macOS'],
    ['osx', 'macOS'],
    ['linux', 'Linux'],
    ['chromeos', 'ChromeOS'],
    ['chrome os', 'ChromeOS'],
    ['unknown', 'Unknown'],
    ['HarmonyOS', 'HarmonyOS'],
    ['', undefined],
  ])('%j → %j', (input, expected) => {
    expect(normalizeOs(input)).toBe(expected);
  });
});

describe('normalizeDimension', () => {
  it.each([
    ['session_source', 'organic_search', 'Organic Search'],
    ['browser', 'chrome', 'Chrome'],
    ['os', 'ios', 'iOS'],
    ['device', 'mobile', 'Mobile'],
    ['device', 'fridge', 'Unknown'],
    ['session_source', 'fridge', 'Other'],
    ['browser', undefined, undefined],
    ['browser', null, undefined],
    ['browser', ' ', undefined],
    ['browser', 42, null],
    ['device', true, null],
    ['os', {}, null],
    ['session_source', ['Push'], null],
  ] as const)('%s %j → %j', (dimension, input, expected) => {
    expect(normalizeDimension(dimension, input)).toBe(expected);
  });
});

describe('remembered answers', () => {
  const normalizers = { normalizeBrowser, normalizeOs, normalizeDevice, normalizeSessionSource };

  it('answer a value seen before as the first time, whitespace-only and over-long values included', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.values(normalizers)),
        fc.string({ maxLength: 200 }),
        (normalize, value) => {
          const first = normalize(value);
          expect(normalize(value)).toBe(first);
          // Padding makes a different raw value with the same meaning, most likely not remembered yet.
          expect(normalize(` ${value}\t`)).toBe(first);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('keep answering right after the memo starts over', () => {
    expect(normalizeOs('  mac os x ')).toBe('macOS');
    expect(normalizeOs('   ')).toBeUndefined();
    for (let i = 0; i <= MEMO_ENTRIES; i++) normalizeOs(`os ${i}`);
    expect(normalizeOs('  mac os x ')).toBe('macOS');
    expect(normalizeOs('   ')).toBeUndefined();
    expect(normalizeOs(`os ${MEMO_ENTRIES}`)).toBe(`os ${MEMO_ENTRIES}`);
  });
});
