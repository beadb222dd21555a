import { ActiveNowError } from './errors.js';
import type { UnprocessedRecord, UploadRecord } from './types.js';

/** One request's worth of consecutive records. */
export interface Batch {
  /** Index of its first record in the caller's array. */
  readonly start: number;
  readonly count: number;
  /** The JSON body, `{"d":[…]}`. */
  readonly body: string;
}

const ENVELOPE_BYTES = '{"d":[]}'.length;

/**
 * Splits `records` into consecutive batches of at most `maxRecords` records and `maxBytes` bytes of
 * body (a record bigger than that alone goes alone; the server will refuse it with 413). Lazy, so
 * only the batches being sent are held as JSON.
 */
export function* batchesOf(
  records: readonly UploadRecord[],
  maxRecords: number,
  maxBytes: number,
): Generator<Batch> {
  let start = 0;
  let parts: string[] = [];
  let bytes = ENVELOPE_BYTES;
  for (let i = 0; i < records.length; i++) {
    // An undefined entry is sent as null, as JSON.stringify does in arrays; the server refuses it.
    const part = JSON.stringify(records[i]) ?? 'null';
    const length = utf8Length(part);
    // + 1: the comma before it.
    if (parts.length > 0 && (parts.length >= maxRecords || bytes + 1 + length > maxBytes)) {
      yield { start, count: parts.length, body: `{"d":[${parts.join(',')}]}` };
      start = i;
      parts = [];
      bytes = ENVELOPE_BYTES;
    }
    bytes += length + (parts.length > 0 ? 1 : 0);
    parts.push(part);
  }
  if (parts.length > 0) yield { start, count: parts.length, body: `{"d":[${parts.join(',')}]}` };
}

/** Bytes of `text` in UTF-8 (lone surrogates count as the 3 bytes of U+FFFD). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

const RECORD_NUMBER = /Skipped record number : (\d+)$/;

/**
 * The `/1/upload` answer of one batch, its refused records mapped to the caller's indices: the
 * server numbers a request's records from 1, in each message ("… Skipped record number : 2").
 */
export function readBatchAnswer(
  batch: Batch,
  answer: unknown,
): { processed: number; unprocessed: UnprocessedRecord[] } {
  const body = answer as { status?: unknown; processed?: unknown; unprocessed?: unknown } | null;
  if (
    body === null ||
    typeof body !== 'object' ||
    body.status !== 'success' ||
    typeof body.processed !== 'number' ||
    !Array.isArray(body.unprocessed)
  ) {
    throw invalidAnswer('the upload answer is not {status, processed, unprocessed}');
  }
  const unprocessed = body.unprocessed.map((entry: unknown): UnprocessedRecord => {
    const { code, error, record } = (entry ?? {}) as { code?: unknown; error?: unknown; record?: unknown };
    const number = typeof error === 'string' ? RECORD_NUMBER.exec(error) : null;
    const n = number === null ? Number.NaN : Number(number[1]);
    if (typeof code !== 'number' || !(n >= 1 && n <= batch.count)) {
      throw invalidAnswer(
        `an unprocessed record has no record number within the batch: ${JSON.stringify(entry)}`,
      );
    }
    const index = batch.start + n - 1;
    return {
      index,
      code,
      error: (error as string).replace(RECORD_NUMBER, `Skipped record number : ${index + 1}`),
      record: typeof record === 'string' ? record : JSON.stringify(record),
    };
  });
  return { processed: body.processed, unprocessed };
}

function invalidAnswer(message: string): ActiveNowError {
  return new ActiveNowError({ status: 200, code: undefined, error: undefined, message });
}
