import type { FirstSeenRegistry } from '../../engine/first-seen-registry.js';
import type { ActivityDatabase, FirstSeenRow } from './activity-database.js';

/**
 * First-seen times of every account, in SQLite. Lookups read the database (the engines ask only
 * about users they do not hold); new or earlier times wait in memory until the store's next commit,
 * which is safe because the log rows they were learnt from stay in the log, and are replayed after
 * a crash, until long after that commit. While that commit runs (on the writer thread) they are
 * still answered from memory: the database shows them only once it has committed.
 */
export class DurableFirstSeen {
  private pending = new Map<string, Map<string, number>>();
  private pendingCount = 0;
  /** The times taken by `drain` whose commit has not finished yet. */
  private committing = new Map<string, Map<string, number>>();
  /** First-seen times read ahead for the batch being recorded; null for users never seen. */
  private prefetched = new Map<string, number | null>();
  private prefetchedAccount = '';

  constructor(private readonly database: ActivityDatabase) {}

  registryFor(account: string): FirstSeenRegistry {
    return {
      observe: (user, ts) => this.observe(account, user, ts),
      prefetch: (users) => this.prefetch(account, users),
    };
  }

  get hasPending(): boolean {
    return this.pendingCount > 0;
  }

  /**
   * Takes the times not yet committed, for a commit; then call `committed` once it has, or
   * `restore` with them if it failed. One commit at a time.
   */
  drain(): FirstSeenRow[] {
    const rows: FirstSeenRow[] = [];
    for (const [account, users] of this.pending) {
      for (const [user, ts] of users) rows.push({ account, user, ts });
    }
    this.committing = this.pending;
    this.pending = new Map();
    this.pendingCount = 0;
    return rows;
  }

  /** The database holds the drained times now. */
  committed(): void {
    this.committing = new Map();
  }

  /** Puts back rows taken by `drain` (keeping the earlier of two times), without reading storage. */
  restore(rows: readonly FirstSeenRow[]): void {
    this.committing = new Map();
    for (const row of rows) this.hold(row.account, row.user, row.ts);
  }

  forgetAccount(account: string): void {
    this.committing.delete(account);
    const users = this.pending.get(account);
    if (users === undefined) return;
    this.pendingCount -= users.size;
    this.pending.delete(account);
  }

  private prefetch(account: string, users: readonly string[]): void {
    const found = this.database.firstSeenMany(account, users);
    this.prefetched = new Map();
    this.prefetchedAccount = account;
    for (const user of users) this.prefetched.set(user, found.get(user) ?? null);
  }

  private observe(account: string, user: string, ts: number): number {
    const known =
      this.pending.get(account)?.get(user) ??
      this.committing.get(account)?.get(user) ??
      this.stored(account, user);
    if (known !== undefined && known <= ts) return known;
    this.hold(account, user, ts);
    return ts;
  }

  /** Keeps `ts` for the next commit unless an earlier time is already waiting. */
  private hold(account: string, user: string, ts: number): void {
    let users = this.pending.get(account);
    if (users === undefined) {
      users = new Map();
      this.pending.set(account, users);
    }
    const waiting = users.get(user);
    if (waiting === undefined) this.pendingCount++;
    if (waiting === undefined || ts < waiting) users.set(user, ts);
  }

  private stored(account: string, user: string): number | undefined {
    const read = account === this.prefetchedAccount ? this.prefetched.get(user) : undefined;
    if (read === undefined) return this.database.firstSeen(account, user);
    return read ?? undefined;
  }
}
