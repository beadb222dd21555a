import { IdKeys, keyWordCount, maxKeyWords } from './id-key.js';
import { LongKeyStore } from './long-key-store.js';
import { StateFormatError, type StateReader, type StateWriter } from './state-stream.js';

// A slot: `recordWords` consecutive words of `words`, from `slot * recordWords`. An id's record is
// its slot, so a lookup reads one place in memory (a record may span two cache lines).
/** The id's header (id-key.ts); 0 in an empty slot. */
export const KEY_HEADER = 0;
/** The id's words when they fit, else where they are in the LongKeyStore. */
const KEY = 1;
/** 20 narrow or 10 wide code units: most ids fit. */
const INLINE_KEY_WORDS = 5;
/** First word of the caller's payload. */
export const PAYLOAD = KEY + INLINE_KEY_WORDS;
// The last word is the id's hash.

/**
 * Slots are `scale << exponent` with `scale` 4 or 6, so the table grows by a half, then a third:
 * growing copies every record into fresh memory, whose first touch is costly, so smaller steps cost
 * more time than the memory they save.
 */
const INITIAL_EXPONENT = 7;
/** Beyond this the home computation would overflow 32 bits: 6 × 2^26 ≈ 400M slots. */
const MAX_EXPONENT = 26;
/** Most ids per slot before growing; linear probing stays short below it. */
const MAX_LOAD = 0.75;
/** Fewest ids per slot before shrinking. */
const MIN_LOAD = 0.2;
/** Ids per slot right after shrinking: room to grow again before the next resize. */
const SHRUNK_LOAD = 0.5;
/**
 * Most ids `prepare` takes at once: enough to overlap many memory reads, few enough for their
 * records to stay in the fastest caches until they are used (1024 measured 8% slower in all).
 */
export const PREPARE_LIMIT = 256;

/**
 * A hash table from ids (strings) to fixed-size records of `payloadWords` 32-bit words each, for
 * millions of ids: no object per id, and an id's payload beside its key in memory.
 *
 * Open addressing with linear probing over the records themselves, held in one typed array
 * (`words`, and `halves` over the same memory). A record holds the id, as words rather than as a
 * string (id-key.ts), its hash and the payload; an id's index is its slot. The home slot of a hash
 * is its top bits scaled to the number of slots, so slots follow hash order and a resize streams
 * through memory. Removal shifts the following records of the run back rather than leaving
 * tombstones, so probes stay as short as the load allows however many ids come and go, and memory
 * follows the number of ids: the table grows past 3/4 full and shrinks below 1/5 full.
 *
 * Indexes change only when the table is resized (`addPrepared`, `sweep`) or records are removed
 * (`sweep`). Lookups are made in batches (`prepare`) so that the reads of many ids, which mostly
 * miss the cache, are in flight at once instead of one after the other.
 */
export class IdTable {
  /** Words per record. */
  readonly recordWords: number;
  private readonly hashWord: number;
  private readonly keys: IdKeys;
  private scale = 4;
  private exponent = INITIAL_EXPONENT;
  private slots = this.scale << this.exponent;
  /** The records; replaced when the table is resized. */
  words: Uint32Array;
  /** The records as 16-bit halves. */
  halves: Uint16Array;
  private readonly longKeys = new LongKeyStore((owner, at) => {
    this.words[owner * this.recordWords + KEY] = at;
  });
  private ids = 0;
  /** Where the next sweep continues. */
  private sweepAt = 0;

  private readonly preparedHash = new Uint32Array(PREPARE_LIMIT);
  private readonly preparedHeader = new Uint32Array(PREPARE_LIMIT);
  /** Where each prepared id's words start in `preparedWords`. */
  private readonly preparedStart = new Int32Array(PREPARE_LIMIT);
  private preparedWords = new Uint32Array(PREPARE_LIMIT * INLINE_KEY_WORDS);
  /** The slot of each prepared id when it was prepared, or -1. */
  private readonly preparedSlot = new Int32Array(PREPARE_LIMIT);

  constructor(payloadWords: number, keys = new IdKeys()) {
    this.recordWords = PAYLOAD + payloadWords + 1;
    this.hashWord = this.recordWords - 1;
    this.keys = keys;
    this.words = new Uint32Array(this.slots * this.recordWords);
    this.halves = new Uint16Array(this.words.buffer);
  }

  get size(): number {
    return this.ids;
  }

  /** Every record as it is (slots follow the hash key, which is saved with them), for a checkpoint. */
  exportState(out: StateWriter): void {
    out.number(this.recordWords);
    out.number(this.scale);
    out.number(this.exponent);
    out.number(this.ids);
    out.number(this.sweepAt);
    this.keys.exportState(out);
    out.array(this.words);
    this.longKeys.exportState(out);
  }

  /** Replaces every record with those of `exportState`, from a table of the same record size. */
  importState(input: StateReader): void {
    if (input.count() !== this.recordWords) throw new StateFormatError('records of another size');
    const scale = input.count();
    const exponent = input.count();
    if ((scale !== 4 && scale !== 6) || exponent < INITIAL_EXPONENT || exponent > MAX_EXPONENT)
      throw new StateFormatError(`bad table size ${scale} << ${exponent}`);
    const ids = input.count();
    const sweepAt = input.count();
    this.keys.importState(input);
    const words = input.array(Uint32Array);
    if (words.length !== (scale << exponent) * this.recordWords || ids > scale << exponent)
      throw new StateFormatError('table size and records disagree');
    this.longKeys.importState(input);
    this.scale = scale;
    this.exponent = exponent;
    this.slots = scale << exponent;
    this.ids = ids;
    this.sweepAt = Math.min(sweepAt, this.slots);
    this.words = words;
    this.halves = new Uint16Array(words.buffer);
    this.preparedSlot.fill(-1);
  }

  /**
   * Looks up `ids[from .. from + count)` (count at most PREPARE_LIMIT) together, for
   * `indexOfPrepared(k)` and `addPrepared(k)` to act on `ids[from + k]` until the next call of
   * `prepare` or `prepareOne`. Each step is a pass over all the ids, so that the reads of a pass,
   * which miss the cache, do not wait for one another: hash the ids, probe for their hashes, then
   * compare the ids, with their records in the cache.
   */
  prepare(ids: readonly string[], from: number, count: number): void {
    if (count > PREPARE_LIMIT) throw new RangeError(`prepare takes at most ${PREPARE_LIMIT} ids`);
    let w = 0;
    for (let k = 0; k < count; k++) w = this.encode(k, ids[from + k], w);
    const found = this.preparedSlot;
    const hashes = this.preparedHash;
    for (let k = 0; k < count; k++) found[k] = this.slotWithHash(hashes[k]);
    const headers = this.preparedHeader;
    const starts = this.preparedStart;
    for (let k = 0; k < count; k++) {
      if (found[k] >= 0 && !this.holds(found[k], headers[k], starts[k])) found[k] = -1;
    }
  }

  /** Prepares the single id `id`, as `prepare` does, as prepared id 0. */
  prepareOne(id: string): void {
    this.encode(0, id, 0);
    this.preparedSlot[0] = -1;
  }

  /** The index of prepared id `k`, or -1 if the table does not hold it. */
  indexOfPrepared(k: number): number {
    const found = this.preparedSlot[k];
    if (found >= 0) return found;
    // Not found when prepared: look again, as it may have been added since.
    const hash = this.preparedHash[k];
    const header = this.preparedHeader[k];
    const start = this.preparedStart[k];
    const words = this.words;
    const stride = this.recordWords;
    const hashWord = this.hashWord;
    for (let slot = this.home(hash); ; slot = slot + 1 === this.slots ? 0 : slot + 1) {
      const at = slot * stride;
      if (words[at + KEY_HEADER] === 0) return -1;
      if (words[at + hashWord] === hash && this.holds(slot, header, start)) return slot;
    }
  }

  /**
   * Adds prepared id `k`, which the table must not hold, and returns its index. The payload words
   * are zero. May resize the table, which replaces `words` and `halves` and changes every index.
   */
  addPrepared(k: number): number {
    if (this.ids + 1 > this.slots * MAX_LOAD) this.grow();
    const hash = this.preparedHash[k];
    const header = this.preparedHeader[k];
    const start = this.preparedStart[k];
    const wordCount = keyWordCount(header);
    const slot = this.emptySlotFor(hash);
    const words = this.words;
    const at = slot * this.recordWords;
    words[at + KEY_HEADER] = header;
    if (wordCount <= INLINE_KEY_WORDS) {
      for (let i = 0; i < wordCount; i++) words[at + KEY + i] = this.preparedWords[start + i];
    } else {
      words[at + KEY] = this.longKeys.add(slot, this.preparedWords, start, wordCount);
    }
    words[at + this.hashWord] = hash;
    this.ids++;
    return slot;
  }

  /**
   * Looks at up to `budget` ids, continuing where the last call stopped, and removes those for
   * which `isExpired(index)` holds. Returns how many were removed. Changes indexes.
   */
  sweep(budget: number, isExpired: (index: number) => boolean): number {
    let removed = 0;
    let seen = 0;
    let slot = this.sweepAt;
    let restarted = false;
    while (seen < budget) {
      if (slot >= this.slots) {
        if (restarted) break;
        restarted = true;
        slot = 0;
        continue;
      }
      if (this.words[slot * this.recordWords + KEY_HEADER] !== 0) {
        seen++;
        if (isExpired(slot)) {
          this.remove(slot);
          removed++;
          continue; // a later record of the run may have moved into this slot
        }
      }
      slot++;
    }
    this.sweepAt = slot;
    if (removed > 0) this.preparedSlot.fill(-1);
    if (this.exponent > INITIAL_EXPONENT && this.ids < this.slots * MIN_LOAD) this.shrink();
    return removed;
  }

  /** The home slot of `hash`: its top bits scaled to the number of slots, so slots follow hash order. */
  private home(hash: number): number {
    return ((hash >>> (29 - this.exponent)) * this.scale) >>> 3;
  }

  /** Encodes and hashes `id` as prepared id `k`, its words from `preparedWords[w]`; returns where they end. */
  private encode(k: number, id: string, w: number): number {
    if (w + maxKeyWords(id.length) > this.preparedWords.length) this.growPreparedWords(w, id.length);
    this.preparedHash[k] = this.keys.encode(id, this.preparedWords, w);
    const header = this.keys.header;
    this.preparedHeader[k] = header;
    this.preparedStart[k] = w;
    return w + keyWordCount(header);
  }

  /** The first slot on the probe sequence of `hash` whose record has that hash, or -1. */
  private slotWithHash(hash: number): number {
    const words = this.words;
    const stride = this.recordWords;
    const hashWord = this.hashWord;
    for (let slot = this.home(hash); ; slot = slot + 1 === this.slots ? 0 : slot + 1) {
      const at = slot * stride;
      if (words[at + KEY_HEADER] === 0) return -1;
      if (words[at + hashWord] === hash) return slot;
    }
  }

  /** The first empty slot on the probe sequence of `hash`. */
  private emptySlotFor(hash: number): number {
    const words = this.words;
    const stride = this.recordWords;
    let slot = this.home(hash);
    while (words[slot * stride + KEY_HEADER] !== 0) slot = slot + 1 === this.slots ? 0 : slot + 1;
    return slot;
  }

  /** Whether `slot` holds the id with `header` whose words start at `start` in `preparedWords`. */
  private holds(slot: number, header: number, start: number): boolean {
    const words = this.words;
    const at = slot * this.recordWords;
    if (words[at + KEY_HEADER] !== header) return false;
    const wordCount = keyWordCount(header);
    const prepared = this.preparedWords;
    if (wordCount > INLINE_KEY_WORDS) {
      return this.longKeys.matches(words[at + KEY], prepared, start, wordCount);
    }
    for (let i = 0; i < wordCount; i++) if (words[at + KEY + i] !== prepared[start + i]) return false;
    return true;
  }

  /** Empties `slot`, then moves back each later record of the run that may live in the hole. */
  private remove(slot: number): void {
    const words = this.words;
    const stride = this.recordWords;
    const header = words[slot * stride + KEY_HEADER];
    if (keyWordCount(header) > INLINE_KEY_WORDS) this.longKeys.release(words[slot * stride + KEY]);
    const slots = this.slots;
    let hole = slot;
    for (let next = hole + 1 === slots ? 0 : hole + 1; ; next = next + 1 === slots ? 0 : next + 1) {
      const at = next * stride;
      if (words[at + KEY_HEADER] === 0) break;
      const home = this.home(words[at + this.hashWord]);
      // The record may move to the hole if its home is not after the hole (cyclically, up to `next`).
      const fromHome = next >= home ? next - home : next - home + slots;
      const fromHole = next >= hole ? next - hole : next - hole + slots;
      if (fromHome >= fromHole) {
        this.move(next, hole);
        hole = next;
      }
    }
    words.fill(0, hole * stride, (hole + 1) * stride);
    this.ids--;
  }

  /** Copies the record of slot `from` into slot `to`. */
  private move(from: number, to: number): void {
    const stride = this.recordWords;
    const words = this.words;
    words.copyWithin(to * stride, from * stride, (from + 1) * stride);
    if (keyWordCount(words[to * stride + KEY_HEADER]) > INLINE_KEY_WORDS) {
      this.longKeys.reassign(words[to * stride + KEY], to);
    }
  }

  private grow(): void {
    if (this.scale === 4) this.resize(6, this.exponent);
    else if (this.exponent < MAX_EXPONENT) this.resize(4, this.exponent + 1);
    else throw new RangeError('IdTable is full');
  }

  /** Resizes to the fewest slots at or above the initial size that hold the ids at SHRUNK_LOAD. */
  private shrink(): void {
    let scale = 4;
    let exponent = INITIAL_EXPONENT;
    while (this.ids > (scale << exponent) * SHRUNK_LOAD) {
      if (scale === 4) scale = 6;
      else {
        scale = 4;
        exponent++;
      }
    }
    this.resize(scale, exponent);
    this.longKeys.shrink();
  }

  /**
   * Moves every record into a table of `scale << exponent` slots. Records are taken in slot order
   * from just after an empty slot, which is nearly hash order, so they land nearly in order in the
   * new table and both arrays are read and written front to back. The sweep continues at about the
   * same place.
   */
  private resize(scale: number, exponent: number): void {
    const stride = this.recordWords;
    const old = this.words;
    const oldSlots = this.slots;
    this.scale = scale;
    this.exponent = exponent;
    this.slots = scale << exponent;
    const words = new Uint32Array(this.slots * stride);
    this.words = words;
    this.halves = new Uint16Array(words.buffer);
    let empty = 0;
    while (old[empty * stride + KEY_HEADER] !== 0) empty++;
    for (let i = 1; i <= oldSlots; i++) {
      const from = (empty + i < oldSlots ? empty + i : empty + i - oldSlots) * stride;
      const header = old[from + KEY_HEADER];
      if (header === 0) continue;
      const slot = this.emptySlotFor(old[from + this.hashWord]);
      const to = slot * stride;
      for (let word = 0; word < stride; word++) words[to + word] = old[from + word];
      if (keyWordCount(header) > INLINE_KEY_WORDS) this.longKeys.reassign(old[from + KEY], slot);
    }
    this.sweepAt = Math.floor((this.sweepAt / oldSlots) * this.slots);
    this.preparedSlot.fill(-1);
  }

  private growPreparedWords(used: number, idLength: number): void {
    const words = new Uint32Array(Math.max(2 * this.preparedWords.length, used + maxKeyWords(idLength)));
    words.set(this.preparedWords.subarray(0, used));
    this.preparedWords = words;
  }
}
