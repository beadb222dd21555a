import type { Activity } from '../../model/activity.js';

/**
 * The binary form of a batch of activities in the log: compact to write and fast to replay.
 *
 *   u8 version | u32 count | u16 values | values × (u16 length, UTF-8) |
 *   count × (u16 user length, UTF-8 user, f64 ts, 4 × u16 value index or NO_VALUE)
 *
 * Dimension values repeat a lot, so each is written once per batch and referred to by index.
 */
const VERSION = 1;
const NO_VALUE = 0xffff;
const HEADER_BYTES = 1 + 4 + 2;
const FIXED_BYTES_PER_ACTIVITY = 2 + 8 + 4 * 2;

export function encodeBatch(activities: readonly Activity[]): Buffer {
  const valueIndex = new Map<string, number>();
  const values: Buffer[] = [];
  const users: Buffer[] = [];
  let size = HEADER_BYTES;
  const indexOf = (value: string | undefined): number => {
    if (value === undefined) return NO_VALUE;
    let index = valueIndex.get(value);
    if (index === undefined) {
      const bytes = Buffer.from(value, 'utf8');
      index = values.length;
      if (index === NO_VALUE) throw new RangeError('too many distinct values in one batch');
      valueIndex.set(value, index);
      values.push(bytes);
      size += 2 + bytes.length;
    }
    return index;
  };
  const refs = new Uint16Array(activities.length * 4);
  for (let i = 0; i < activities.length; i++) {
    const a = activities[i];
    const user = Buffer.from(a.user, 'utf8');
    users.push(user);
    size += FIXED_BYTES_PER_ACTIVITY + user.length;
    refs[i * 4] = indexOf(a.sessionSource);
    refs[i * 4 + 1] = indexOf(a.browser);
    refs[i * 4 + 2] = indexOf(a.os);
    refs[i * 4 + 3] = indexOf(a.device);
  }
  const out = Buffer.allocUnsafe(size);
  let at = out.writeUInt8(VERSION, 0);
  at = out.writeUInt32LE(activities.length, at);
  at = out.writeUInt16LE(values.length, at);
  for (const value of values) {
    at = out.writeUInt16LE(value.length, at);
    at += value.copy(out, at);
  }
  for (let i = 0; i < activities.length; i++) {
    const user = users[i];
    at = out.writeUInt16LE(user.length, at);
    at += user.copy(out, at);
    at = out.writeDoubleLE(activities[i].ts, at);
    for (let d = 0; d < 4; d++) at = out.writeUInt16LE(refs[i * 4 + d], at);
  }
  return out;
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
    const length = buffer.readUInt16LE(at);
    values.push(buffer.toString('utf8', at + 2, at + 2 + length));
    at += 2 + length;
  }
  const valueAt = (index: number): string | undefined => (index === NO_VALUE ? undefined : values[index]);
  const activities: Activity[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const length = buffer.readUInt16LE(at);
    const user = buffer.toString('utf8', at + 2, at + 2 + length);
    at += 2 + length;
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
