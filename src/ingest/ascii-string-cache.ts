/**
 * Strings read from bytes, kept to be found again by their bytes, for the upload fields whose values
 * repeat (event names, session values): finding one reads its bytes once and allocates nothing, and
 * the memo it then goes to (normalize-dimension.ts) finds its hash already computed. Only strings
 * written plainly in JSON (ASCII, no escapes) of at most MAX_CACHED_BYTES bytes are kept, in
 * SETS × WAYS places (a new one takes the place of the oldest of its set), so the memory stays
 * bounded whatever clients send.
 */

/** Sets of places: room for a site's thousand pages beside its event names and other values. */
const SETS = 1024;
const WAYS = 4;
const MAX_CACHED_BYTES = 64;
const QUOTE = 0x22;

export class AsciiStringCache {
  /** Set s holds places s × WAYS … s × WAYS + WAYS − 1; '' is an empty place (and a valid entry). */
  private readonly strings: string[] = new Array<string>(SETS * WAYS).fill('');
  /** Per set, the place the next string added takes. */
  private readonly next = new Uint8Array(SETS);

  /**
   * The string kept that the bytes from `start` spell up to a closing quote, or undefined. Its end
   * is `start + string.length`, one byte per character.
   */
  find(bytes: Buffer, start: number): string | undefined {
    const set = setOf(bytes, start);
    if (set < 0) return undefined;
    const base = set * WAYS;
    for (let way = 0; way < WAYS; way++) {
      const text = this.strings[base + way];
      if (bytes[start + text.length] === QUOTE && spells(text, bytes, start)) return text;
    }
    return undefined;
  }

  /** Keeps `text`, written plainly at `bytes[start]` (so that `find` finds it there). */
  add(text: string, bytes: Buffer, start: number): void {
    const set = setOf(bytes, start);
    if (set < 0) return;
    this.strings[set * WAYS + this.next[set]] = text;
    this.next[set] = (this.next[set] + 1) % WAYS;
  }
}

/**
 * The set of the string written from `start`, from a hash of all its bytes up to the closing quote
 * (values such as pages share long prefixes); -1 for one longer than MAX_CACHED_BYTES, never kept.
 */
function setOf(bytes: Buffer, start: number): number {
  let hash = 0x811c9dc5;
  const end = Math.min(start + MAX_CACHED_BYTES, bytes.length - 1);
  for (let at = start; at <= end; at++) {
    const byte = bytes[at];
    if (byte === QUOTE) return (hash ^ (hash >>> 16)) & (SETS - 1);
    hash = Math.imul(hash ^ byte, 0x01000193);
  }
  return -1;
}

/** Whether `bytes` from `start` hold the characters of `text`, one byte each. */
function spells(text: string, bytes: Buffer, start: number): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== bytes[start + i]) return false;
  return true;
}
