/**
 * Strings read from bytes, kept to be found again by their bytes, for the upload fields whose values
 * repeat (event names, session values): finding one reads its bytes once and allocates nothing, and
 * the memo it then goes to (normalize-dimension.ts) finds its hash already computed. Only strings
 * written plainly in JSON (ASCII, no escapes) of at most MAX_CACHED_BYTES bytes are kept, in
 * SETS × WAYS places (a new one takes the place of the oldest of its set), so the memory stays
 * bounded whatever clients send.
 */

const SETS = 256;
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
    const base = setOf(bytes, start) * WAYS;
    for (let way = 0; way < WAYS; way++) {
      const text = this.strings[base + way];
      if (bytes[start + text.length] === QUOTE && spells(text, bytes, start)) return text;
    }
    return undefined;
  }

  /** Keeps `text`, written plainly at `bytes[start]` (so that `find` finds it there). */
  add(text: string, bytes: Buffer, start: number): void {
    if (text.length > MAX_CACHED_BYTES) return;
    const set = setOf(bytes, start);
    this.strings[set * WAYS + this.next[set]] = text;
    this.next[set] = (this.next[set] + 1) % WAYS;
  }
}

/** The set of the string written from `start`: by its first two bytes (the second may be its closing quote). */
function setOf(bytes: Buffer, start: number): number {
  return (bytes[start] * 31 + bytes[start + 1]) & (SETS - 1);
}

/** Whether `bytes` from `start` hold the characters of `text`, one byte each. */
function spells(text: string, bytes: Buffer, start: number): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== bytes[start + i]) return false;
  return true;
}
