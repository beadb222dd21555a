import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsersRanking } from '../../src/engine/users-ranking.js';

describe('UsersRanking', () => {
  it('orders positions by users, most first, ties in position order, as a stable comparison sort does', () => {
    const counts = fc.oneof(
      fc.integer({ min: 0, max: 5 }),
      fc.integer({ min: 0, max: 300 }),
      fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      fc.constantFrom(0, 255, 256, 65_535, 65_536, 2 ** 24, 2 ** 31, 2 ** 32 - 1),
    );
    const ranking = new UsersRanking(600);
    fc.assert(
      fc.property(
        fc.oneof(fc.array(counts, { maxLength: 40 }), fc.array(counts, { maxLength: 600 })),
        (values) => {
          const users = Uint32Array.from(values);
          const expected = values.map((_, i) => i).sort((a, b) => values[b] - values[a] || a - b);
          // The ranking reuses its arrays: run it twice to check that a call leaves nothing behind.
          ranking.rank(Uint32Array.from(values.map((v) => v ^ 1)), values.length);
          expect([...ranking.rank(users, values.length).subarray(0, values.length)]).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
