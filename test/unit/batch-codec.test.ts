import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch } from '../../src/backends/embedded/batch-codec.js';
import type { Activity } from '../../src/model/activity.js';

const value = fc.option(fc.string({ maxLength: 64, unit: 'binary' }), { nil: undefined });
const activity: fc.Arbitrary<Activity> = fc.record({
  user: fc.oneof(
    fc.string({ minLength: 1, maxLength: 120 }),
    fc.string({ minLength: 1, maxLength: 120, unit: 'binary' }),
  ),
  ts: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
  sessionSource: value,
  browser: value,
  os: value,
  device: value,
});

describe('batch codec', () => {
  it('decodes exactly what it encoded, whatever the strings (lone surrogates included)', () => {
    fc.assert(
      fc.property(fc.array(activity, { maxLength: 50 }), (batch) => {
        const withAllKeys = batch.map((a) => ({
          user: a.user,
          ts: a.ts,
          sessionSource: a.sessionSource,
          browser: a.browser,
          os: a.os,
          device: a.device,
        }));
        expect(decodeBatch(encodeBatch(batch))).toStrictEqual(withAllKeys);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps missing values missing and repeated values shared', () => {
    const batch: Activity[] = [
      { user: 'ünïcødé-😀', ts: 1_764_145_200, browser: 'Chrome', os: undefined, device: 'Mobile' },
      { user: 'b', ts: 1_764_145_201, browser: 'Chrome', sessionSource: 'Push' },
    ];
    const decoded = decodeBatch(encodeBatch(batch));
    expect(decoded).toEqual([
      {
        user: 'ünïcødé-😀',
        ts: 1_764_145_200,
        sessionSource: undefined,
        browser: 'Chrome',
        os: undefined,
        device: 'Mobile',
      },
      {
        user: 'b',
        ts: 1_764_145_201,
        sessionSource: 'Push',
        browser: 'Chrome',
        os: undefined,
        device: undefined,
      },
    ]);
    // 'Chrome' once in the value table: smaller than two copies would be.
    expect(encodeBatch(batch).length).toBeLessThan(
      encodeBatch([batch[0]]).length + encodeBatch([batch[1]]).length,
    );
  });

  it('refuses bytes that are not a batch', () => {
    expect(() => decodeBatch(Buffer.from([9, 0, 0, 0, 0, 0, 0]))).toThrow(/version/);
    const valid = encodeBatch([{ user: 'a', ts: 1 }]);
    expect(() => decodeBatch(Buffer.concat([valid, Buffer.from([0])]))).toThrow(/trailing/);
  });
});
