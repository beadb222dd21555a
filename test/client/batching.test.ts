import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchesOf, readBatchAnswer, utf8Length } from '../../src/client/batching.js';
import type { UploadRecord } from '../../src/client/types.js';

const record = (identity: string): UploadRecord => ({ type: 'event', identity, evtName: 'e' });

describe('batches', () => {
  it('utf8Length is the UTF-8 length, lone surrogates included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(utf8Length(text)).toBe(Buffer.byteLength(text, 'utf8'));
      }),
    );
    expect(utf8Length('\uD83D')).toBe(3);
    expect(utf8Length('\uD83D\uDE00')).toBe(4);
  });

  it('consecutive, complete, within both limits', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme', maxLength: 40 }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 30, max: 400 }),
        (identities, maxRecords, maxBytes) => {
          const records = identities.map(record);
          const batches = [...batchesOf(records, maxRecords, maxBytes)];
          let next = 0;
          for (const batch of batches) {
            expect(batch.start).toBe(next);
            const sent = (JSON.parse(batch.body) as { d: unknown[] }).d;
            expect(sent).toEqual(records.slice(batch.start, batch.start + batch.count));
            expect(batch.count).toBeLessThanOrEqual(maxRecords);
            // Over the byte limit only when one record alone is bigger.
            if (batch.count > 1) expect(Buffer.byteLength(batch.body)).toBeLessThanOrEqual(maxBytes);
            next += batch.count;
          }
          expect(next).toBe(records.length);
        },
      ),
    );
  });

  it('maps record numbers of a batch to indices of the whole array', () => {
    const batch = { start: 2000, count: 3, body: '' };
    const answer = {
      status: 'success',
      processed: 1,
      unprocessed: [
        { status: 'fail', code: 523, error: 'Missing identity. Skipped record number : 1', record: '{}' },
        {
          status: 'fail',
          code: 509,
          error: 'Event name mandatory. Skipped record number : 3',
          record: '{"a":1}',
        },
      ],
    };
    expect(readBatchAnswer(batch, answer)).toEqual({
      processed: 1,
      unprocessed: [
        { index: 2000, code: 523, error: 'Missing identity. Skipped record number : 2001', record: '{}' },
        {
          index: 2002,
          code: 509,
          error: 'Event name mandatory. Skipped record number : 2003',
          record: '{"a":1}',
        },
      ],
    });
  });

  it('refuses answers it cannot map', () => {
    const batch = { start: 0, count: 2, body: '' };
    const entry = (error: string) => ({
      status: 'success',
      processed: 0,
      unprocessed: [{ code: 523, error, record: '{}' }],
    });
    expect(() => readBatchAnswer(batch, entry('Missing identity. Skipped record number : 3'))).toThrow(
      /record number/,
    );
    expect(() => readBatchAnswer(batch, entry('Missing identity'))).toThrow(/record number/);
    expect(() => readBatchAnswer(batch, { status: 'success' })).toThrow(/processed/);
  });
});
