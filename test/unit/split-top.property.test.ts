import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OTHER } from '../../src/model/dimensions.js';
import { type NowResult, orderSplit } from '../../src/model/now-query.js';
import { topOfResult, topOfSplit } from '../../src/model/split-top.js';
import { expectedTop } from '../support/expected-body.js';

const value = fc.oneof(fc.constantFrom(OTHER, 'Chrome', 'Safari', 'Unknown'), fc.string({ maxLength: 4 }));
const split = fc
  .uniqueArray(fc.tuple(value, fc.integer({ min: 1, max: 50 })), { selector: ([v]) => v, maxLength: 12 })
  .map((entries) => orderSplit(entries));

/** Against expectedTop, the rule of docs/api.md written another way (test/support/expected-body.ts). */
describe('topOfSplit', () => {
  it('keeps the n values with the most users and counts the others under Other', () => {
    fc.assert(
      fc.property(split, fc.integer({ min: 1, max: 14 }), (entries, n) => {
        const top = topOfSplit(entries, n);
        expect(top).toEqual(expectedTop(entries, n));
        const sum = (s: readonly (readonly [string, number])[]) =>
          s.reduce((total, [, users]) => total + users, 0);
        expect(sum(top)).toBe(sum(entries));
        expect(top.length).toBeLessThanOrEqual(n + 1);
      }),
      { numRuns: 2000 },
    );
  });

  it('breaks ties by value and merges into an Other already kept', () => {
    const entries = orderSplit([
      ['b', 5],
      ['a', 5],
      [OTHER, 7],
      ['c', 5],
      ['d', 1],
    ]);
    expect(topOfSplit(entries, 2)).toEqual([
      [OTHER, 18],
      ['a', 5],
    ]);
    expect(topOfSplit(entries, 3)).toEqual([
      [OTHER, 13],
      ['a', 5],
      ['b', 5],
    ]);
    expect(topOfSplit(entries, 5)).toBe(entries);
  });

  it('cuts the splits of new users too, leaving the rest of the result alone', () => {
    const result: NowResult = {
      count: 6,
      userType: { new: 3, returning: 3 },
      splits: {
        browser: orderSplit([
          ['x', 3],
          ['y', 2],
          ['z', 1],
        ]),
      },
      newSplits: {
        browser: orderSplit([
          ['z', 2],
          ['y', 1],
        ]),
      },
    };
    expect(topOfResult(result, 1)).toEqual({
      count: 6,
      userType: { new: 3, returning: 3 },
      splits: {
        browser: [
          [OTHER, 3],
          ['x', 3],
        ],
      },
      newSplits: {
        browser: [
          ['z', 2],
          [OTHER, 1],
        ],
      },
    });
  });
});
