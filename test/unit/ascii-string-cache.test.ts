import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AsciiStringCache } from '../../src/ingest/ascii-string-cache.js';

/** `text` written as a JSON string after `offset` other bytes: its first character's index, and the bytes. */
function written(text: string, offset: number): [number, Buffer] {
  return [offset + 1, Buffer.from(`${'-'.repeat(offset)}"${text}"--`, 'latin1')];
}

describe('AsciiStringCache', () => {
  it('finds a string kept only where the same bytes are written, closing quote included', () => {
    // Few letters, so that strings sharing their first bytes (one set) and prefixes of each other meet.
    const text = fc.oneof(
      fc.string({ unit: fc.constantFrom('a', 'b'), maxLength: 10 }),
      fc.string({ unit: fc.constantFrom('a', 'b', 'c', ' ', '-'), maxLength: 80 }),
    );
    fc.assert(
      fc.property(fc.array(text, { maxLength: 200 }), fc.nat(8), (texts, offset) => {
        const cache = new AsciiStringCache();
        for (const wanted of [...texts, ...texts]) {
          const [start, bytes] = written(wanted, offset);
          const found = cache.find(bytes, start);
          if (found === undefined) cache.add(wanted, bytes, start);
          else expect(found).toBe(wanted);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('finds what it was given, up to 64 bytes', () => {
    const cache = new AsciiStringCache();
    for (const text of ['', 'Chrome', 'Chrome OS', 'c'.repeat(64), 'c'.repeat(65)]) {
      const [start, bytes] = written(text, 3);
      cache.add(text, bytes, start);
      expect(cache.find(bytes, start)).toBe(text.length <= 64 ? text : undefined);
    }
  });
});
