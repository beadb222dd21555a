import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch } from '../../src/backends/embedded/batch-codec.js';
import type { Activity } from '../../src/model/activity.js';
import { encodeBatchV1 } from '../../support/batch-codec-v1-encoder.js';
import { eachValue } from '../support/time-arbitraries.js';

const value = fc.option(fc.string({ maxLength: 64, unit: 'binary' }), { nil: undefined });
const user = fc.oneof(
  fc.string({ minLength: 1, maxLength: 120 }),
  fc.string({ minLength: 1, maxLength: 120, unit: 'binary' }),
);
const activityAt = (ts: fc.Arbitrary<number>): fc.Arbitrary<Activity> =>
  fc.record({
    user,
    ts,
    ...eachValue(value),
  });
/** An activity of the four dimensions that version 1 and 2 records hold. */
const clevertapActivityAt = (ts: fc.Arbitrary<number>): fc.Arbitrary<Activity> =>
  fc.record({ user, ts, sessionSource: value, browser: value, os: value, device: value });
const activity = activityAt(fc.integer({ min: 1, max: 2 ** 32 - 1 }));
/** Upload times: integers close together, as the compact time form expects. */
const uploadTimes = fc.integer({ min: 0, max: 2 ** 40 }).chain((base) =>
  fc.array(
    fc.integer({ min: 0, max: 3600 }).map((d) => base + d),
    { maxLength: 50 },
  ),
);
/** Any number a caller could pass: fractions, -0, NaN, infinities, huge or far apart integers. */
const anyTime = fc.oneof(
  fc.double(),
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
  fc.constantFrom(-0, 0, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 53, 2 ** 32 + 0.5),
);

/** The batch as decoding gives it back: every key present, absent values undefined. */
function withAllKeys(batch: readonly Activity[]): Activity[] {
  return batch.map((a) => ({
    user: a.user,
    ts: a.ts,
    sessionSource: a.sessionSource,
    browser: a.browser,
    os: a.os,
    device: a.device,
    page: a.page,
    country: a.country,
    appVersion: a.appVersion,
    event: a.event,
  }));
}

/** The batch the released records below were written from; the last time as that version kept it. */
function releasedBatch(lastTs: number): Activity[] {
  return [
    {
      user: 'user-0001',
      ts: 1_764_145_200,
      sessionSource: 'Direct',
      browser: 'Chrome',
      os: 'Android',
      device: 'Mobile',
    },
    { user: 'ünï-😀', ts: 1_764_145_199, browser: 'Chrome', device: 'Other' },
    { user: 'u3', ts: lastTs },
  ];
}

describe('batch codec', () => {
  it('decodes exactly what it encoded, whatever the strings (lone surrogates included)', () => {
    fc.assert(
      fc.property(fc.array(activity, { maxLength: 50 }), (batch) => {
        expect(decodeBatch(encodeBatch(batch))).toStrictEqual(withAllKeys(batch));
      }),
      { numRuns: 300 },
    );
  });

  it('gives back every time exactly: upload times, and any other number', () => {
    fc.assert(
      fc.property(
        uploadTimes.chain((times) => fc.tuple(...times.map((ts) => activityAt(fc.constant(ts))))),
        fc.array(activityAt(anyTime), { maxLength: 20 }),
        (uploads, others) => {
          for (const batch of [uploads, others, [...uploads, ...others]])
            expect(decodeBatch(encodeBatch(batch))).toStrictEqual(withAllKeys(batch));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps a batch of 255 and more distinct values (two-byte indices)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 250, max: 700 }), fc.integer({ min: 0, max: 6 }), (distinct, field) => {
        const keys = ['sessionSource', 'browser', 'os', 'device', 'page', 'country', 'appVersion'] as const;
        const batch: Activity[] = Array.from({ length: distinct + 2 }, (_, i) => ({
          user: `u${i}`,
          ts: 1_764_145_200 + (i % 7),
          [keys[field]]: i < distinct ? `value-${i}` : undefined,
        }));
        expect(decodeBatch(encodeBatch(batch))).toStrictEqual(withAllKeys(batch));
      }),
      { numRuns: 20 },
    );
  });

  it('reads version 1 records, as earlier versions wrote them', () => {
    fc.assert(
      fc.property(fc.array(clevertapActivityAt(anyTime), { maxLength: 50 }), (batch) => {
        expect(decodeBatch(encodeBatchV1(batch))).toStrictEqual(withAllKeys(batch));
      }),
      { numRuns: 300 },
    );
    // Written by the version 1 encoder as released (commit 5fd9935), not by the copy in support/.
    const released = Buffer.from(
      '01030000000500060044697265637406004368726f6d650700416e64726f696406004d6f62696c6505004f746865720900757365722d303030310000000cae49da4100000100020003000680fc006e00ef002d003dd800de0000c00bae49da41ffff0100ffff0400020075330000201bae49da41ffffffffffffffff',
      'hex',
    );
    expect(decodeBatch(released)).toStrictEqual(withAllKeys(releasedBatch(1_764_145_260.5)));
  });

  it('reads version 2 records, as versions before page, country and app_version wrote them', () => {
    // Written by the version 2 encoder as released (commit e36badf).
    const released = Buffer.from(
      '0203050c4469726563740c4368726f6d650e416e64726f69640c4d6f62696c650a4f74686572000000c00bae49da4112757365722d30303031010dfc006e00ef002d003dd800de000475333d00010203ff01ff04ffffffff',
      'hex',
    );
    expect(decodeBatch(released)).toStrictEqual(withAllKeys(releasedBatch(1_764_145_260)));
  });

  it('reads version 3 records of seven values, as versions before events wrote them', () => {
    // Written by the encoder as released (commit 4a26343).
    const released = Buffer.from(
      '030702070c4469726563740c4368726f6d650e416e64726f69640c4d6f62696c65102f70726963696e6704494e0a352e322e30000000000cae49da4112757365722d30303031000475321e00010203040506ffffffffffffff',
      'hex',
    );
    const values = { sessionSource: 'Direct', browser: 'Chrome', os: 'Android', device: 'Mobile' };
    expect(decodeBatch(released)).toStrictEqual(
      withAllKeys([
        {
          user: 'user-0001',
          ts: 1_764_145_200,
          ...values,
          page: '/pricing',
          country: 'IN',
          appVersion: '5.2.0',
        },
        { user: 'u2', ts: 1_764_145_230 },
      ]),
    );
  });

  it('refuses a record of more values an activity than this version knows', () => {
    const record = Buffer.from(encodeBatch([{ user: 'a', ts: 1, page: '/', event: 'e' }]));
    record[1] += 1;
    expect(() => decodeBatch(record)).toThrow(/values an activity/);
  });

  it('writes upload traffic in far fewer bytes than version 1', () => {
    const batch: Activity[] = Array.from({ length: 1000 }, (_, i) => ({
      user: `user-${String(i).padStart(11, '0')}`,
      ts: 1_764_145_200 + (i % 120),
      browser: ['Chrome', 'Safari', 'Firefox'][i % 3],
      os: ['Android', 'iOS'][i % 2],
      device: 'Mobile',
      sessionSource: 'Direct',
    }));
    // Per activity: v1 has a u16 header + 16 characters + f64 + 4 × u16 = 34 bytes; v3 a 1-byte
    // header + 16 characters + a 1-byte delta + 8 × u8 = 26 bytes.
    expect(encodeBatchV1(batch).length).toBeGreaterThan(34 * 1000);
    expect(encodeBatch(batch).length).toBeLessThan(27 * 1000);
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
    const valid = encodeBatch([{ user: 'abc', ts: 1, browser: 'Chrome' }]);
    expect(decodeBatch(valid)).toEqual([{ user: 'abc', ts: 1, browser: 'Chrome' }]);
    // A string longer than the record: reading it runs into the indices.
    const truncated = Buffer.from(valid);
    truncated[valid.indexOf('abc') - 1] = 2 * 20;
    expect(() => decodeBatch(truncated)).toThrow(/truncated/);
    const v1 = encodeBatchV1([{ user: 'a', ts: 1 }]);
    expect(() => decodeBatch(Buffer.concat([v1, Buffer.from([0])]))).toThrow(/trailing/);
  });
});
