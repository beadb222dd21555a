import type { Activity } from '../model/activity.js';
import type { NowQuery, NowResult } from '../model/now-query.js';
import type { SplitName } from '../protocol/dimensions.js';

/**
 * Where activity lives: the embedded engine with SQLite, or Redis. Accounts are opaque ids here;
 * the store never authenticates. Times are epoch seconds.
 */
export interface Store {
  /** Durably records activities received at `at`; resolves once they would survive a crash. */
  record(account: string, activities: readonly Activity[], at: number): Promise<void>;
  now(account: string, query: NowQuery, at: number): Promise<NowResult>;
  /** What its answers can be split and filtered by: SPLIT_NAMES, or only DIMENSIONS (docs/api.md#event). */
  readonly splitNames: readonly SplitName[];
  /**
   * Optional, for remembering answers: a number that stays the same only while every answer of
   * `account` at `at` stays the same (nothing recorded for it, no account dropped, the store's clock
   * not moved), and that only grows, from one count for all accounts (so the later of two accounts'
   * stamps changes when either does). Undefined when there is none to give (the clock would move, the store is not ready):
   * ask `now`. An answer may be kept under the stamp read before asking for it if the stamp read
   * after it is the same.
   */
  answerStamp?(account: string, at: number): number | undefined;
  /** Forgets everything of an account (after the account is deleted). */
  dropAccount(account: string): Promise<void>;
  readiness(): StoreReadiness;
  close(): Promise<void>;
}

/**
 * `starting` until the store has recovered its state (replayed its log, first reached its server);
 * `unavailable` while it has lost its storage since (a Redis connection being re-established).
 */
export type StoreReadiness = 'starting' | 'ready' | 'unavailable';

/** Thrown by a store that cannot reach its storage; answered with 503. */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
