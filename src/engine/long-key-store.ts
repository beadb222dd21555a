import { StateFormatError, type StateReader, type StateWriter } from './state-stream.js';

const INITIAL_WORDS = 256;
/** Words before each entry's key: its owner + 1 (0 once released) and its word count. */
const ENTRY_HEADER = 2;

/**
 * Key words of ids too long to fit in a table record, one entry per id. Entries are appended; a
 * released one becomes garbage. When the array is full it is compacted into one of twice the live
 * size, so its size follows the live keys and the copying is paid for by the appends since the
 * last compaction. Each entry names its owner (a record index), so that compaction can tell the
 * owner where its key moved.
 */
export class LongKeyStore {
  /** Entries: owner + 1, word count, then the key words. */
  words = new Uint32Array(INITIAL_WORDS);
  private end = 0;
  private garbage = 0;
  /** Called for every live entry that compaction moves. */
  private readonly moved: (owner: number, at: number) => void;

  constructor(moved: (owner: number, at: number) => void) {
    this.moved = moved;
  }

  /** Stores `source[from .. from + count)` for record `owner`; returns where the words start. */
  add(owner: number, source: Uint32Array, from: number, count: number): number {
    const needed = ENTRY_HEADER + count;
    if (this.end + needed > this.words.length) this.rewrite(needed);
    const at = this.end + ENTRY_HEADER;
    this.words[this.end] = owner + 1;
    this.words[this.end + 1] = count;
    this.words.set(source.subarray(from, from + count), at);
    this.end += needed;
    return at;
  }

  /** Forgets the entry whose words start at `at`. */
  release(at: number): void {
    this.words[at - ENTRY_HEADER] = 0;
    this.garbage += ENTRY_HEADER + this.words[at - 1];
  }

  /** Makes record `owner` the owner of the entry whose words start at `at`. */
  reassign(at: number, owner: number): void {
    this.words[at - ENTRY_HEADER] = owner + 1;
  }

  /** Whether the `count` words of the entry at `at` (which has that many) equal `source[from ..)`. */
  matches(at: number, source: Uint32Array, from: number, count: number): boolean {
    const words = this.words;
    for (let i = 0; i < count; i++) if (words[at + i] !== source[from + i]) return false;
    return true;
  }

  /** The entries and the room after them: with the same room, compactions come at the same times. */
  exportState(out: StateWriter): void {
    out.number(this.words.length);
    out.array(this.words.subarray(0, this.end));
    out.number(this.garbage);
  }

  importState(input: StateReader): void {
    const room = input.count();
    const used = input.array(Uint32Array);
    if (used.length > room) throw new StateFormatError('more entries than room');
    this.words = new Uint32Array(room);
    this.words.set(used);
    this.end = used.length;
    this.garbage = input.count();
  }

  /** Gives back the room of released entries when they are most of the array. */
  shrink(): void {
    if (this.garbage * 2 > this.end) this.rewrite(0);
  }

  /** Compacts into an array with room for twice the live words and `needed` more. */
  private rewrite(needed: number): void {
    const old = this.words;
    const oldEnd = this.end;
    this.words = new Uint32Array(Math.max(INITIAL_WORDS, 2 * (oldEnd - this.garbage + needed)));
    this.end = 0;
    this.garbage = 0;
    for (let entry = 0; entry < oldEnd; ) {
      const owner = old[entry] - 1;
      const count = old[entry + 1];
      if (owner >= 0) this.moved(owner, this.add(owner, old, entry + ENTRY_HEADER, count));
      entry += ENTRY_HEADER + count;
    }
  }
}
