/**
 * Orders the values of a split by users, most first, keeping the order they were given in among
 * equal counts (the engine gives them in name order, the response's order for ties). A least
 * significant digit radix sort with as few passes as the largest count allows, digits of at most
 * MAX_DIGIT_BITS split evenly between them: a split of a thousand pages (counts up to a few hundred
 * thousand users) is ordered in two passes, a comparison sort takes several times that. A split of a
 * few values, the usual one, is ordered by insertion: the radix passes' fixed cost would outweigh it.
 */

/** Values up to which insertion beats the radix passes (each clears and scans its buckets). */
const INSERTION_LIMIT = 32;
/** Widest digit: 2048 buckets, still small beside a thousand values, and 22 bits in two passes. */
const MAX_DIGIT_BITS = 11;
export class UsersRanking {
  private order: Uint32Array;
  private spare: Uint32Array;
  private readonly buckets = new Uint32Array(1 << MAX_DIGIT_BITS);

  constructor(capacity: number) {
    this.order = new Uint32Array(capacity);
    this.spare = new Uint32Array(capacity);
  }

  /**
   * Positions 0..n-1 of `users` (non-negative integers below 2^32) in descending order of their
   * users, ties in position order. The result is reused by the next call.
   */
  rank(users: Uint32Array, n: number): Uint32Array {
    let order = this.order;
    let spare = this.spare;
    if (n <= INSERTION_LIMIT) return this.insertionRank(users, n);
    let most = 0;
    for (let i = 0; i < n; i++) {
      order[i] = i;
      if (users[i] > most) most = users[i];
    }
    const buckets = this.buckets;
    const bits = 32 - Math.clz32(most);
    const width = Math.ceil(bits / Math.ceil(bits / MAX_DIGIT_BITS));
    const mask = (1 << width) - 1;
    for (let shift = 0; shift < bits; shift += width) {
      buckets.fill(0, 0, mask + 1);
      for (let i = 0; i < n; i++) buckets[(users[order[i]] >>> shift) & mask]++;
      // Highest digit first: each bucket starts after every higher one.
      let start = 0;
      for (let digit = mask; digit >= 0; digit--) {
        const size = buckets[digit];
        buckets[digit] = start;
        start += size;
      }
      for (let i = 0; i < n; i++) {
        const position = order[i];
        spare[buckets[(users[position] >>> shift) & mask]++] = position;
      }
      const sorted = spare;
      spare = order;
      order = sorted;
    }
    this.order = order;
    this.spare = spare;
    return order;
  }

  /** The same by insertion: a position moves in front of those with fewer users only. */
  private insertionRank(users: Uint32Array, n: number): Uint32Array {
    const order = this.order;
    for (let i = 0; i < n; i++) {
      const count = users[i];
      let at = i;
      while (at > 0 && users[order[at - 1]] < count) {
        order[at] = order[at - 1];
        at--;
      }
      order[at] = i;
    }
    return order;
  }
}
