import { StateFormatError, type StateReader, type StateWriter } from './state-stream.js';

/** The list that holds nothing: a user that did no event in the horizon. */
export const NO_LIST = 0;
/** A list's first word: its length in the low 24 bits, its size class above them. */
const LENGTH_BITS = 24;
const LENGTH_MASK = (1 << LENGTH_BITS) - 1;
/** Entries of a list of size class 0; each class doubles the one before. */
const SMALLEST_CAPACITY = 2;
/** Words of an entry: the event's slot, then the latest second the user did it. */
export const ENTRY_WORDS = 2;

/**
 * The events each user did within the horizon: per user a list of (event slot, latest second),
 * referred to by one word of the user's record. Lists live in one growable Uint32Array (no object
 * per user) and never move but to grow: a list that outgrows its block moves to a block twice as
 * large, after dropping the entries that left the horizon, and its old block is reused by the next
 * list of that size.
 *
 * A list at offset `list` holds its header word, then `length` entries: the slot of entry i at
 * `words[list + 1 + 2i]`, its latest second at `words[list + 2 + 2i]`.
 */
export class EventLists {
  words = new Uint32Array(1024);
  /** First word not yet handed out; word 0 stays unused, so that NO_LIST is no list. */
  private top = 1;
  /** Free blocks by size class. */
  private free: number[][] = [];

  length(list: number): number {
    return listLength(this.words, list);
  }

  /** Empties a list, keeping its block. */
  clear(list: number): void {
    if (list !== NO_LIST) this.words[list] &= ~LENGTH_MASK;
  }

  /** Gives the list's block back. */
  release(list: number): void {
    if (list === NO_LIST) return;
    const sizeClass = this.words[list] >>> LENGTH_BITS;
    const blocks = this.free[sizeClass] ?? [];
    blocks.push(list);
    this.free[sizeClass] = blocks;
  }

  /**
   * Adds an entry; returns where the list is now (it moves when its block is full). A full list
   * first drops the entries whose latest second is `liveAfter` or earlier.
   */
  append(list: number, slot: number, latest: number, liveAfter: number): number {
    let at = list;
    if (at === NO_LIST) at = this.allocate(0);
    else if ((this.words[at] & LENGTH_MASK) === capacityOf(this.words[at] >>> LENGTH_BITS)) {
      this.dropExpired(at, liveAfter);
      const header = this.words[at];
      if ((header & LENGTH_MASK) === capacityOf(header >>> LENGTH_BITS)) at = this.grow(at);
    }
    const words = this.words;
    const length = words[at] & LENGTH_MASK;
    words[at + 1 + ENTRY_WORDS * length] = slot;
    words[at + 2 + ENTRY_WORDS * length] = latest;
    words[at]++;
    return at;
  }

  exportState(out: StateWriter): void {
    out.array(this.words.subarray(0, this.top));
    out.number(this.free.length);
    for (let c = 0; c < this.free.length; c++) out.array(Uint32Array.from(this.free[c] ?? []));
  }

  importState(input: StateReader): void {
    const used = input.array(Uint32Array);
    const classes = input.count();
    const free: number[][] = [];
    for (let c = 0; c < classes; c++) free.push([...input.array(Uint32Array)]);
    if (used.length < 1 || free.some((blocks) => blocks.some((b) => b >= used.length)))
      throw new StateFormatError('event lists beyond their words');
    this.words = new Uint32Array(Math.max(1024, used.length * 2));
    this.words.set(used);
    this.top = used.length;
    this.free = free;
  }

  private dropExpired(list: number, liveAfter: number): void {
    const words = this.words;
    const length = words[list] & LENGTH_MASK;
    let kept = 0;
    for (let i = 0; i < length; i++) {
      const from = list + 1 + ENTRY_WORDS * i;
      if (words[from + 1] <= liveAfter) continue;
      const to = list + 1 + ENTRY_WORDS * kept++;
      words[to] = words[from];
      words[to + 1] = words[from + 1];
    }
    words[list] = (words[list] & ~LENGTH_MASK) | kept;
  }

  /** Moves a full list to a block of the next size class. */
  private grow(list: number): number {
    const sizeClass = this.words[list] >>> LENGTH_BITS;
    const length = this.words[list] & LENGTH_MASK;
    const moved = this.allocate(sizeClass + 1);
    this.words.copyWithin(moved + 1, list + 1, list + 1 + ENTRY_WORDS * length);
    this.words[moved] |= length;
    this.release(list);
    return moved;
  }

  /** An empty list of the size class, from the free blocks or from fresh words. */
  private allocate(sizeClass: number): number {
    let list = this.free[sizeClass]?.pop();
    if (list === undefined) {
      const size = 1 + ENTRY_WORDS * capacityOf(sizeClass);
      if (this.top + size > this.words.length) {
        const wider = new Uint32Array(Math.max(2 * this.words.length, this.top + size));
        wider.set(this.words.subarray(0, this.top));
        this.words = wider;
      }
      list = this.top;
      this.top += size;
    }
    this.words[list] = sizeClass << LENGTH_BITS;
    return list;
  }
}

/** Entries of the list at `list` of `words` (an EventLists' words). */
export function listLength(words: Uint32Array, list: number): number {
  return list === NO_LIST ? 0 : words[list] & LENGTH_MASK;
}

function capacityOf(sizeClass: number): number {
  return SMALLEST_CAPACITY << sizeClass;
}
