import { getRandomValues } from 'node:crypto';

/** Hashes an encoded id (see id-key.ts): its words and its header. */
export interface IdHash {
  /** A hash of `words[from .. from + count)` and `header`, an integer in 0..2^32-1. */
  hash(words: Uint32Array, from: number, count: number, header: number): number;
}

/**
 * HalfSipHash-1-3 (SipHash's 32-bit variant, one round per word and three to finish) under a
 * random 64-bit key drawn per instance. The key keeps clients from choosing ids that collide, so
 * a table's probes stay short whatever ids it is sent.
 */
export class KeyedHash implements IdHash {
  private readonly k0: number;
  private readonly k1: number;

  constructor() {
    const key = getRandomValues(new Uint32Array(2));
    this.k0 = key[0] | 0;
    this.k1 = key[1] | 0;
  }

  hash(words: Uint32Array, from: number, count: number, header: number): number {
    let v0 = this.k0;
    let v1 = this.k1;
    let v2 = 0x6c796765 ^ this.k0;
    let v3 = 0x74656462 ^ this.k1;
    const end = from + count;
    // The header goes last, as SipHash's length block does.
    for (let i = from; i <= end; i++) {
      const m = i < end ? words[i] | 0 : header | 0;
      v3 ^= m;
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
    v2 ^= 0xff;
    for (let round = 0; round < 3; round++) {
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
    return (v1 ^ v3) >>> 0;
  }
}
