import { type Activity, type ActivityValues, activityOf, LOGGED_VALUE_KEYS } from '../../model/activity.js';
import { decodeBatchV1 } from './batch-codec-v1.js';

/**
 * The binary form of a batch of activities in the log, format version 3: small to write and fast
 * to replay.
 *
 *   u8 3 | u8 values an activity | varint count | varint values | values × string | u8 time form |
 *   f64 base (form 0) | count × (string user, time) | count × values-an-activity value indices
 *
 * Times of form 0 (every ts an integer, all within 2^32 of each other, as upload times are) are
 * each a varint above the batch's earliest, the base: one byte for a batch spanning two minutes.
 * Any other numbers (form 1) are an f64 each, so every number comes back exactly as it was given.
 * Each distinct dimension value is written once per batch and referred to by index: a u8 (0xff for
 * none) while the batch has fewer than 255 values, else a u16 (0xffff for none). A string is a
 * varint header (characters × 2, plus 1 for UTF-16LE, else Latin-1) and its bytes: one byte a
 * character for the usual ASCII ids, lossless for any JS string. Varints are LEB128.
 *
 * Value indices follow LOGGED_VALUE_KEYS order: the dimensions', then the event's. Records of 7
 * values an activity, written before events were kept, are read with no event. Version 2 records,
 * in logs written before page, country and app_version, are the same without that byte and with 4
 * indices an activity; they and version 1 records (batch-codec-v1.ts) are still read.
 */
const VERSION = 3;
const VERSION_WITH_FOUR_DIMENSIONS = 2;
const VALUE_KEYS = LOGGED_VALUE_KEYS;
const VALUES = VALUE_KEYS.length;
const TIMES_AS_DELTAS = 0;
const TIMES_AS_DOUBLES = 1;
const MAX_DELTA = 0xffff_ffff;
/** A batch with fewer distinct values than this writes its value indices as bytes. */
const NARROW_VALUES = 0xff;
const NO_VALUE = 0xffff;
/** The most bytes a varint below 2^32 takes. */
const VARINT_BYTES = 5;
/** Header bytes before the value table at most: version, dimensions, count, value count. */
const HEADER_BYTES = 2 + 2 * VARINT_BYTES;

/** Value indices of the batch being encoded, written after the activities; grown as needed. */
let indexScratch = new Uint16Array(4096);

function varintBytes(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x20_0000) return 3;
  return value < 0x1000_0000 ? 4 : 5;
}

/** Writes `value` (an integer in [0, 2^32)) at `at`; returns the offset after it. */
function writeVarint(out: Buffer, at: number, value: number): number {
  let rest = value;
  while (rest >= 0x80) {
    out[at++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  out[at] = rest;
  return at + 1;
}

/** Writes `text` at `at` (room for 5 + 2 × length bytes); returns the offset after it. */
function writeString(out: Buffer, at: number, text: string): number {
  const length = text.length;
  // The flag is the header's lowest bit, so its size is known before the characters are checked.
  const start = at + varintBytes(2 * length);
  // Ids and values are short and nearly always Latin-1: copying characters while checking them
  // costs less than a regular expression and a native write per string.
  let i = 0;
  for (; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) break;
    out[start + i] = c;
  }
  if (i === length) {
    writeVarint(out, at, 2 * length);
    return start + length;
  }
  writeVarint(out, at, 2 * length + 1);
  return start + out.write(text, start, 'utf16le');
}

export function encodeBatch(activities: readonly Activity[]): Buffer {
  const count = activities.length;
  let userBytes = 0;
  let earliest = count === 0 ? 0 : Number.POSITIVE_INFINITY;
  let latest = count === 0 ? 0 : Number.NEGATIVE_INFINITY;
  let integers = true;
  for (const a of activities) {
    userBytes += VARINT_BYTES + 2 * a.user.length;
    const ts = a.ts;
    // -0 is a safe integer, but a delta would bring it back as 0.
    if (!Number.isSafeInteger(ts) || Object.is(ts, -0)) integers = false;
    if (ts < earliest) earliest = ts;
    if (ts > latest) latest = ts;
  }
  const deltas = integers && latest - earliest <= MAX_DELTA;
  // Users and times go straight into one buffer sized for the worst case; the value table, whose
  // size is known only at the end, goes in front of them, the indices after them.
  const body = Buffer.allocUnsafe(userBytes + count * (deltas ? VARINT_BYTES : 8));
  if (indexScratch.length < VALUES * count) indexScratch = new Uint16Array(VALUES * count);
  const indices = indexScratch;
  const values: string[] = [];
  const valueIndex = new Map<string, number>();
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
  let k = 0;
  for (const a of activities) {
    at = writeString(body, at, a.user);
    at = deltas ? writeVarint(body, at, a.ts - earliest) : body.writeDoubleLE(a.ts, at);
    indices[k++] = indexOf(a.sessionSource);
    indices[k++] = indexOf(a.browser);
    indices[k++] = indexOf(a.os);
    indices[k++] = indexOf(a.device);
    indices[k++] = indexOf(a.page);
    indices[k++] = indexOf(a.country);
    indices[k++] = indexOf(a.appVersion);
    indices[k++] = indexOf(a.event);
  }
  const wide = values.length >= NARROW_VALUES;
  let headerBytes = HEADER_BYTES + 1 + (deltas ? 8 : 0);
  for (const value of values) headerBytes += VARINT_BYTES + 2 * value.length;
  const out = Buffer.allocUnsafe(headerBytes + at + k * (wide ? 2 : 1));
  out[0] = VERSION;
  out[1] = VALUES;
  let h = writeVarint(out, 2, count);
  h = writeVarint(out, h, values.length);
  for (const value of values) h = writeString(out, h, value);
  out[h++] = deltas ? TIMES_AS_DELTAS : TIMES_AS_DOUBLES;
  if (deltas) h = out.writeDoubleLE(earliest, h);
  h += body.copy(out, h, 0, at);
  if (wide) {
    for (let i = 0; i < k; i++) h = out.writeUInt16LE(indices[i], h);
  } else {
    // Every index is below 0xff; NO_VALUE (0xffff) keeps its low byte, the narrow form's 0xff.
    for (let i = 0; i < k; i++) out[h++] = indices[i] & 0xff;
  }
  return out.subarray(0, h);
}

export function decodeBatch(bytes: Uint8Array): Activity[] {
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = buffer[0];
  if (version === 1) return decodeBatchV1(buffer);
  if (version === VERSION_WITH_FOUR_DIMENSIONS) return decodeIndexed(buffer, 1, 4);
  if (version !== VERSION) throw new Error(`unknown batch format version ${version}`);
  const dims = buffer[1];
  if (dims > VALUES) throw new Error(`batch of ${dims} values an activity; this version knows ${VALUES}`);
  return decodeIndexed(buffer, 2, dims);
}

/** Decodes the body of a version 2 or 3 record from `at`, with `dims` value indices an activity. */
function decodeIndexed(buffer: Buffer, at: number, dims: number): Activity[] {
  const reader = new Reader(buffer, at);
  const count = reader.varint();
  const valueCount = reader.varint();
  const values: string[] = new Array(valueCount);
  for (let i = 0; i < valueCount; i++) values[i] = reader.string();
  const form = buffer[reader.at++];
  if (form !== TIMES_AS_DELTAS && form !== TIMES_AS_DOUBLES) throw new Error(`unknown time form ${form}`);
  let base = 0;
  if (form === TIMES_AS_DELTAS) {
    base = buffer.readDoubleLE(reader.at);
    reader.at += 8;
  }
  const wide = valueCount >= NARROW_VALUES;
  const none = wide ? NO_VALUE : NARROW_VALUES;
  const indexStart = buffer.length - dims * count * (wide ? 2 : 1);
  if (indexStart < reader.at) throw new Error('batch is truncated');
  const valueAt = (slot: number): string | undefined => {
    const index = wide ? buffer.readUInt16LE(indexStart + 2 * slot) : buffer[indexStart + slot];
    if (index === none) return undefined;
    if (index >= valueCount) throw new Error('batch refers to a value it does not hold');
    return values[index];
  };
  const activities: Activity[] = new Array(count);
  // Reused for every activity: activityOf copies it.
  const found: Partial<ActivityValues> = {};
  for (let i = 0; i < count; i++) {
    const user = reader.string();
    let ts: number;
    if (form === TIMES_AS_DELTAS) ts = base + reader.varint();
    else {
      ts = buffer.readDoubleLE(reader.at);
      reader.at += 8;
    }
    for (let d = 0; d < dims; d++) found[VALUE_KEYS[d]] = valueAt(dims * i + d);
    activities[i] = activityOf(user, ts, found);
  }
  if (reader.at < indexStart) throw new Error('batch has trailing bytes');
  if (reader.at > indexStart) throw new Error('batch is truncated');
  return activities;
}

/** Reads varints and strings of a version 2 or 3 record from `at` on. */
class Reader {
  constructor(
    private readonly bytes: Buffer,
    public at: number,
  ) {}

  varint(): number {
    const bytes = this.bytes;
    let byte = bytes[this.at++];
    let value = byte & 0x7f;
    // Multiplying rather than shifting: a value may use all 32 bits.
    for (let scale = 0x80; byte >= 0x80 && scale <= 2 ** 28; scale *= 0x80) {
      byte = bytes[this.at++];
      value += (byte & 0x7f) * scale;
    }
    return value;
  }

  string(): string {
    const header = this.varint();
    const start = this.at;
    const length = header >>> 1;
    const utf16 = (header & 1) === 1;
    this.at = start + (utf16 ? 2 * length : length);
    if (this.at > this.bytes.length) throw new Error('batch is truncated');
    return this.bytes.toString(utf16 ? 'utf16le' : 'latin1', start, this.at);
  }
}
