import { getRandomValues } from 'node:crypto';
import type { StateReader, StateWriter } from './state-stream.js';

/**
 * An id as a key a table can hash and compare without keeping the string: 32-bit words holding
 * four code units each when all are below 256 ("narrow", the usual case), else two ("wide"), the
 * last word zero-padded, and a header giving the length and width. Two ids are equal exactly when
 * their headers and words are.
 */

/** Header bit set in every header, so that 0 can stand for "no id". */
const PRESENT = 1;
const WIDE = 2;

/** Most words an id of `length` code units takes; the room `IdKeys.encode` needs. */
export function maxKeyWords(length: number): number {
  return (length + 1) >>> 1;
}

/** Words of the id whose header is `header`. */
export function keyWordCount(header: number): number {
  const length = header >>> 2;
  return header & WIDE ? (length + 1) >>> 1 : (length + 3) >>> 2;
}

/**
 * Encodes ids and hashes them as it goes, with HalfSipHash-1-3 (SipHash's 32-bit variant: one round
 * per word, the header as the last block, three rounds to finish) under a random 64-bit key drawn
 * per instance. The key keeps clients from choosing ids that collide, so probes stay short whatever
 * ids a table is sent. Hashing while reading the characters lets the two overlap.
 */
export class IdKeys {
  /** Header of the id last encoded. */
  header = 0;
  private k0: number;
  private k1: number;
  private readonly hashMask: number;

  /** `hashMask` is for tests: a mask of few bits makes ids collide. */
  constructor(hashMask = 0xffffffff) {
    const key = getRandomValues(new Uint32Array(2));
    this.k0 = key[0] | 0;
    this.k1 = key[1] | 0;
    this.hashMask = hashMask;
  }

  /** The key: a table's records hold hashes made with it, so its state is meaningless without it. */
  exportState(out: StateWriter): void {
    out.number(this.k0 >>> 0);
    out.number(this.k1 >>> 0);
  }

  importState(input: StateReader): void {
    this.k0 = input.count() | 0;
    this.k1 = input.count() | 0;
  }

  /**
   * Writes the words of `id` into `out` from `at` (room for `maxKeyWords(id.length)` needed), sets
   * `header` and returns the hash, an integer in 0..2^32-1.
   */
  encode(id: string, out: Uint32Array, at: number): number {
    return this.encodeAs(id, out, at, false);
  }

  /** `encode`, packing two code units per word if `wide`, else four (redone wide if need be). */
  private encodeAs(id: string, out: Uint32Array, at: number, wide: boolean): number {
    // `| 0` tells the compiler these are 32-bit integers: as plain field loads they are numbers of
    // any kind, and the rounds would run in floating point (twice as slow).
    let v0 = this.k0 | 0;
    let v1 = this.k1 | 0;
    let v2 = 0x6c796765 ^ v0;
    let v3 = 0x74656462 ^ v1;
    const length = id.length;
    let bits = 0;
    let w = at;
    for (let i = 0; i < length; ) {
      let m = 0;
      if (wide) {
        m = id.charCodeAt(i);
        if (i + 1 < length) m |= id.charCodeAt(i + 1) << 16;
        i += 2;
      } else if (i + 4 <= length) {
        const c0 = id.charCodeAt(i);
        const c1 = id.charCodeAt(i + 1);
        const c2 = id.charCodeAt(i + 2);
        const c3 = id.charCodeAt(i + 3);
        bits |= c0 | c1 | c2 | c3;
        m = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
        i += 4;
      } else {
        for (let shift = 0; i < length; i++, shift += 8) {
          const c = id.charCodeAt(i);
          bits |= c;
          m |= c << shift;
        }
      }
      out[w++] = m;
      v3 ^= m;
      // One SipHash round, written out here and in the finish below: as a function it would have to
      // hand back four words, which costs more than the round itself on this path.
      v0 = (v0 + v1) | 0;
      v1 = (v1 << 5) | (v1 >>> 27);
      v1 ^= v0;
      v0 = (v0 << 16) | (v0 >>> 16);
      v2 = (v2 + v3) | 0;
      v3 = (v3 << 8) | (v3 >>> 24);
      v3 ^= v2;
      v0 = (v0 + v3) | 0;
      v3 = (v3 << 7) | (v3 >>> 25);
      v3 ^= v0;
      v2 = (v2 + v1) | 0;
      v1 = (v1 << 13) | (v1 >>> 19);
      v1 ^= v2;
      v2 = (v2 << 16) | (v2 >>> 16);
      v0 ^= m;
    }
    if (bits > 0xff) return this.encodeAs(id, out, at, true);
    const header = length * 4 + (wide ? WIDE : 0) + PRESENT;
    this.header = header;
    // Round 0 takes the header block; rounds 1..3 finish.
    v3 ^= header;
    for (let round = 0; round < 4; round++) {
      if (round === 1) {
        v0 ^= header;
        v2 ^= 0xff;
      }
      v0 = (v0 + v1) | 0;
      v1 = (v1 << 5) | (v1 >>> 27);
      v1 ^= v0;
      v0 = (v0 << 16) | (v0 >>> 16);
      v2 = (v2 + v3) | 0;
      v3 = (v3 << 8) | (v3 >>> 24);
      v3 ^= v2;
      v0 = (v0 + v3) | 0;
      v3 = (v3 << 7) | (v3 >>> 25);
      v3 ^= v0;
      v2 = (v2 + v1) | 0;
      v1 = (v1 << 13) | (v1 >>> 19);
      v1 ^= v2;
      v2 = (v2 << 16) | (v2 >>> 16);
    }
    return ((v1 ^ v3) & this.hashMask) >>> 0;
  }
}
