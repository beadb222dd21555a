import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AsciiStringCache } from '../../src/ingest/ascii-string-cache.js';

describe('AsciiStringCache', () => {
  it('gives the string of the bytes asked for, whatever was asked before', () => {
    // Few letters, so that strings of one length differing in one byte meet in the slots.
    const text = fc.oneof(
      fc.string({ unit: fc.constantFrom('a', 'b'), maxLength: 10 }),
      fc.string({ maxLength: 80 }),
    );
    fc.assert(
      fc.property(fc.array(text, { maxLength: 200 }), fc.nat(8), (texts, offset) => {
        const cache = new AsciiStringCache();
        for (const wanted of [...texts, ...texts]) {
          const bytes = Buffer.from(`${'-'.repeat(offset)}${wanted}--`, 'latin1');
          expect(cache.get(bytes, offset, offset + wanted.length)).toBe(wanted);
        }
      }),
      { numRuns: 300 },
    );
  });
});
