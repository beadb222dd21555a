import type { Activity } from '../../model/activity.js';

/**
 * The binary form of a batch of activities in the log: compact to write and fast to replay.
 *
 *   u8 version | u32 count | u16 values | values × string |
 *   count × (string user, f64 ts, 4 × u16 value index or NO_VALUE)
 *
 * A string is a u16 header (character count; top bit set for UTF-16LE, clear for Latin-1) and its
 * bytes: lossless for any JS string, lone surrogates included, and one byte per character for the
 * usual ASCII ids. Dimension values repeat a lot, so each is written once per batch and referred to
 * by index.
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

function readString(bytes: Buffer, at: number): [text: string, next: number] {
  const header = bytes.readUInt16LE(at);
  const length = header & ~UTF16_FLAG;
  if (header & UTF16_FLAG)
    return [bytes.toString('utf16le', at + 2, at + 2 + 2 * length), at + 2 + 2 * length];
  return [bytes.toString('latin1', at + 2, at + 2 + length), at + 2 + length];
}

export function encodeBatch(activities: readonly Activity[]): Buffer {
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

export function decodeBatch(bytes: Uint8Array): Activity[] {
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.readUInt8(0) !== VERSION) throw new Error(`unknown batch format version ${buffer.readUInt8(0)}`);
  const count = buffer.readUInt32LE(1);
  const valueCount = buffer.readUInt16LE(5);
  let at = HEADER_BYTES;
  const values: string[] = [];
  for (let i = 0; i < valueCount; i++) {
    const [value, next] = readString(buffer, at);
    values.push(value);
    at = next;
  }
  const valueAt = (index: number): string | undefined => (index === NO_VALUE ? undefined : values[index]);
  const activities: Activity[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const [user, next] = readString(buffer, at);
    at = next;
    const ts = buffer.readDoubleLE(at);
    activities[i] = {
      user,
      ts,
      sessionSource: valueAt(buffer.readUInt16LE(at + 8)),
      browser: valueAt(buffer.readUInt16LE(at + 10)),
      os: valueAt(buffer.readUInt16LE(at + 12)),
      device: valueAt(buffer.readUInt16LE(at + 14)),
    };
    at += FIXED_BYTES_PER_ACTIVITY - 2;
  }
  if (at !== buffer.length) throw new Error('batch has trailing bytes');
  return activities;
}
