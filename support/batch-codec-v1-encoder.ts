import type { Activity } from '../src/model/activity.js';

/**
 * The writer of log format version 1 as it shipped (src/backends/embedded/batch-codec-v1.ts reads
 * it): tests and benchmarks make old logs with it. The server writes version 2 only.
 */
const VERSION = 1;
const NO_VALUE = 0xffff;
const HEADER_BYTES = 1 + 4 + 2;
const FIXED_BYTES_PER_ACTIVITY = 2 + 8 + 4 * 2;
const UTF16_FLAG = 0x8000;

/** Writes `text` at `at` (room for 2 + 2 × length bytes); returns the offset after it. */
function writeString(out: Buffer, at: number, text: string): number {
  const length = text.length;
  if (length >= UTF16_FLAG) throw new RangeError('string too long for a batch');
  // Ids and values are short and nearly always Latin-1: copying characters while checking them
  // costs less than a regular expression and a native write per string.
  const start = at + 2;
  let i = 0;
  for (; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) break;
    out[start + i] = c;
  }
  if (i === length) {
    out.writeUInt16LE(length, at);
    return start + length;
  }
  out.writeUInt16LE(length | UTF16_FLAG, at);
  return start + out.write(text, start, 'utf16le');
}

export function encodeBatchV1(activities: readonly Activity[]): Buffer {
  // Write straight into one buffer sized for the worst case (2 bytes per character), then write the
  // value table, whose size is known only at the end, in front of the activities.
  const values: string[] = [];
  const valueIndex = new Map<string, number>();
  let activityBytes = 0;
  for (const a of activities) activityBytes += FIXED_BYTES_PER_ACTIVITY + 2 * a.user.length;
  const body = Buffer.allocUnsafe(activityBytes);
  const indexOf = (value: string | undefined): number => {
    if (value === undefined) return NO_VALUE;
    let index = valueIndex.get(value);
    if (index === undefined) {
      index = values.length;
      if (index === NO_VALUE) throw new RangeError('too many distinct values in one batch');
      valueIndex.set(value, index);
      values.push(value);
    }
    return index;
  };
  let at = 0;
  for (const a of activities) {
    at = body.writeDoubleLE(a.ts, writeString(body, at, a.user));
    at = body.writeUInt16LE(indexOf(a.sessionSource), at);
    at = body.writeUInt16LE(indexOf(a.browser), at);
    at = body.writeUInt16LE(indexOf(a.os), at);
    at = body.writeUInt16LE(indexOf(a.device), at);
  }
  let headerBytes = HEADER_BYTES;
  for (const value of values) headerBytes += 2 + 2 * value.length;
  const out = Buffer.allocUnsafe(headerBytes + at);
  let h = out.writeUInt8(VERSION, 0);
  h = out.writeUInt32LE(activities.length, h);
  h = out.writeUInt16LE(values.length, h);
  for (const value of values) h = writeString(out, h, value);
  body.copy(out, h, 0, at);
  return out.subarray(0, h + at);
}
