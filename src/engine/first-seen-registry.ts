/**
 * Remembers, for the lifetime of an account, the earliest activity time of each user. The engine
 * asks it only about users it does not hold in memory, so it stays off the hot path.
 */
export interface FirstSeenRegistry {
  /** Earliest known activity of `user`, epoch seconds, or undefined for a user never seen. */
  get(user: string): number | undefined;
  /** Records that `user` was active at `ts`; keeps the earlier of `ts` and what is known. */
  remember(user: string, ts: number): void;
}
