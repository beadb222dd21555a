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
  /**
   * Optional: told, before a batch is recorded, which of its users the engine does not hold (all
   * but a few of those it will observe: users it holds are observed only for a late activity
   * earlier than their known first time), so a registry on disk can read them all at once.
   * Replaces any earlier prefetch.
   */
  prefetch?(users: readonly string[]): void;
}
