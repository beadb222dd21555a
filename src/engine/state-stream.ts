/**
 * The bytes of an engine's state, for a checkpoint: numbers, strings and typed arrays in a fixed
 * order, with no per-user object. Typed arrays are copied whole in host byte order (a checkpoint is
 * read back by the same kind of machine that wrote it; the file header says which order), so that
 * saving a table of a million users is one memory copy rather than a loop over its records.
 */

type Words = Uint32Array | Int32Array | Uint16Array | Float64Array;

/** Whether this machine stores numbers low byte first, as typed arrays are written. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The buffers of the last state written, handed out again by size. Copying a table into memory
 * already touched is about five times faster than into fresh memory, and allocates nothing: a
 * hundred megabytes allocated outside the heap make V8 collect the whole heap at once, which held a
 * process with a large heap for over a second per checkpoint (bench:recovery).
 */
export class BytesPool {
  private free = new Map<number, Uint8Array[]>();

  /** A buffer of `length` bytes, reused if one is free; its content is to be overwritten. */
  take(length: number): Uint8Array {
    return this.free.get(length)?.pop() ?? new Uint8Array(length);
  }

  /** Keeps `parts` for the next state, instead of whatever was kept before. */
  keep(parts: readonly Uint8Array[]): void {
    this.free = new Map();
    for (const part of parts) {
      const same = this.free.get(part.length);
      if (same === undefined) this.free.set(part.length, [part]);
      else same.push(part);
    }
  }
}

/** Collects the parts of a state; every part is a copy, so the engine may change right after. */
export class StateWriter {
  readonly parts: Uint8Array[] = [];
  private scalars: number[] = [];

  /** `pool`: where copies of typed arrays take their memory from. */
  constructor(private readonly pool?: BytesPool) {}

  number(value: number): void {
    this.scalars.push(value);
  }

  string(value: string): void {
    // UTF-16 code units rather than UTF-8: a lone surrogate in a value must come back as it was.
    const units = new Uint16Array(value.length);
    for (let i = 0; i < value.length; i++) units[i] = value.charCodeAt(i);
    this.array(units);
  }

  /** The whole array, with its length: `StateReader.array` gives back an equal one. */
  array(values: Words): void {
    this.number(values.length);
    this.endScalars();
    const copy = this.pool?.take(values.byteLength) ?? new Uint8Array(values.byteLength);
    copy.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    this.parts.push(copy);
  }

  /** The parts, in order; call once, after the last value. */
  finish(): Uint8Array[] {
    this.endScalars();
    return this.parts;
  }

  private endScalars(): void {
    if (this.scalars.length === 0) return;
    this.parts.push(new Uint8Array(Float64Array.from(this.scalars).buffer));
    this.scalars = [];
  }
}

/** A state that cannot be read: shorter than it says, or not what the reader expects. */
export class StateFormatError extends Error {}

/** Reads what a StateWriter wrote, in the same order. */
export class StateReader {
  private at = 0;

  constructor(private readonly bytes: Uint8Array) {}

  number(): number {
    const view = this.take(8);
    return new DataView(view.buffer, view.byteOffset, 8).getFloat64(0, HOST_LITTLE_ENDIAN);
  }

  /** A number that must be a count or an index: a non-negative integer. */
  count(): number {
    const value = this.number();
    if (!Number.isSafeInteger(value) || value < 0) throw new StateFormatError(`bad count ${value}`);
    return value;
  }

  string(): string {
    const units = this.array(Uint16Array);
    let value = '';
    for (let from = 0; from < units.length; from += 4096)
      value += String.fromCharCode(...units.subarray(from, from + 4096));
    return value;
  }

  array<T extends Words>(kind: { new (length: number): T; readonly BYTES_PER_ELEMENT: number }): T {
    const length = this.count();
    const values = new kind(length);
    new Uint8Array(values.buffer).set(this.take(length * kind.BYTES_PER_ELEMENT));
    return values;
  }

  /** Throws unless every byte was read: a state longer than its reader expects is not its state. */
  end(): void {
    if (this.at !== this.bytes.length)
      throw new StateFormatError(`${this.bytes.length - this.at} bytes left over`);
  }

  private take(length: number): Uint8Array {
    if (this.at + length > this.bytes.length) throw new StateFormatError('state ends early');
    const view = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return view;
  }
}
