/**
 * Strings read from bytes, kept by their bytes, for the upload fields whose values repeat (event
 * names, session values): reading one again allocates nothing, and the memo it then goes to
 * (normalize-dimension.ts) finds its hash already computed. Direct-mapped (a new string takes the
 * slot of the one there) and only for ASCII strings of at most MAX_CACHED_BYTES bytes, so its
 * memory stays bounded (SLOTS strings) whatever clients send.
 */

const SLOTS = 1024;
const MAX_CACHED_BYTES = 64;

export class AsciiStringCache {
  private readonly strings: string[] = new Array<string>(SLOTS).fill('');

  /** The string of `bytes[start, end)`, all ASCII. */
  get(bytes: Buffer, start: number, end: number): string {
    const length = end - start;
    if (length > MAX_CACHED_BYTES) return bytes.toString('latin1', start, end);
    // The slot from the length and three of the bytes: enough to tell a field's usual values apart.
    const slot =
      length === 0
        ? 0
        : (length * 31 + bytes[start] * 7 + bytes[start + (length >> 1)] * 3 + bytes[end - 1]) & (SLOTS - 1);
    const cached = this.strings[slot];
    if (cached.length === length && spells(cached, bytes, start)) return cached;
    const text = bytes.toString('latin1', start, end);
    this.strings[slot] = text;
    return text;
  }
}

/** Whether `bytes` from `start` hold the characters of `text`, one byte each. */
function spells(text: string, bytes: Buffer, start: number): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== bytes[start + i]) return false;
  return true;
}
