import { type Activity, activityOf } from '../../model/activity.js';

/**
 * Reads log records of format version 1, which logs written before version 2 still hold:
 *
 *   u8 1 | u32 count | u16 values | values × string |
 *   count × (string user, f64 ts, 4 × u16 value index or 0xffff for none)
 *
 * A string is a u16 header (character count; top bit set for UTF-16LE, clear for Latin-1) and its
 * bytes.
 */
const NO_VALUE = 0xffff;
const HEADER_BYTES = 1 + 4 + 2;
const UTF16_FLAG = 0x8000;

function readString(bytes: Buffer, at: number): [text: string, next: number] {
  const header = bytes.readUInt16LE(at);
  const length = header & ~UTF16_FLAG;
  if (header & UTF16_FLAG)
    return [bytes.toString('utf16le', at + 2, at + 2 + 2 * length), at + 2 + 2 * length];
  return [bytes.toString('latin1', at + 2, at + 2 + length), at + 2 + length];
}

export function decodeBatchV1(buffer: Buffer): Activity[] {
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
    activities[i] = activityOf(user, buffer.readDoubleLE(at), {
      sessionSource: valueAt(buffer.readUInt16LE(at + 8)),
      browser: valueAt(buffer.readUInt16LE(at + 10)),
      os: valueAt(buffer.readUInt16LE(at + 12)),
      device: valueAt(buffer.readUInt16LE(at + 14)),
    });
    at += 16;
  }
  if (at !== buffer.length) throw new Error('batch has trailing bytes');
  return activities;
}
