/**
 * An id as 32-bit words, so tables can hash and compare it without keeping the string: four code
 * units per word when all are below 256 ("narrow", the usual case), else two ("wide"). The last
 * word is zero-padded. Together with its header (length and width), the words identify the id: two
 * ids are equal exactly when their headers and words are.
 */

/** Header bit set in every header, so that 0 can stand for "no id". */
const PRESENT = 1;
const WIDE = 2;

/** Most words an id of `length` code units takes; the room `encodeId` needs. */
export function maxKeyWords(length: number): number {
  return (length + 1) >>> 1;
}

/** Words of the id whose header is `header`. */
export function keyWordCount(header: number): number {
  const length = header >>> 2;
  return header & WIDE ? (length + 1) >>> 1 : (length + 3) >>> 2;
}

/**
 * Writes the words of `id` into `out` from `at` (room for `maxKeyWords(id.length)` needed) and
 * returns its header, a positive integer below 2^32.
 */
export function encodeId(id: string, out: Uint32Array, at: number): number {
  const length = id.length;
  let bits = 0;
  let w = at;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    const c0 = id.charCodeAt(i);
    const c1 = id.charCodeAt(i + 1);
    const c2 = id.charCodeAt(i + 2);
    const c3 = id.charCodeAt(i + 3);
    bits |= c0 | c1 | c2 | c3;
    out[w++] = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
  }
  if (i < length) {
    let last = 0;
    for (let shift = 0; i < length; i++, shift += 8) {
      const c = id.charCodeAt(i);
      bits |= c;
      last |= c << shift;
    }
    out[w] = last;
  }
  if (bits < 256) return length * 4 + PRESENT;
  for (i = 0, w = at; i + 2 <= length; i += 2) out[w++] = id.charCodeAt(i) | (id.charCodeAt(i + 1) << 16);
  if (i < length) out[w] = id.charCodeAt(i);
  return length * 4 + WIDE + PRESENT;
}
