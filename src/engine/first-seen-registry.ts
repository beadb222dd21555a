/**
 * Remembers, for the lifetime of an account, the earliest activity time of each user. The engine
 * asks it only about users it does not hold in memory, and about earlier times than it knows, so
 * it stays off the hot path.
 */
export interface FirstSeenRegistry {
  /**
   * Records that `user` was active at `ts` and returns the user's earliest known activity time,
   * `ts` included (so `ts` itself for a user never seen before).
   */
  observe(user: string, ts: number): number;
}
